using Microsoft.AspNetCore.Mvc;
using Roster.Features.Notifications;
using Roster.Features.Organizations;
using Roster.Infrastructure.Seats;

namespace Roster.Features.Console.Pages;

/// <summary>
/// Platform admins: the seat audit (GET /api/admin/seat-audit), plan changes (PUT …/plan), and the notification outbox
/// (GET /api/admin/notifications, POST …/{id}/retry, POST …/retry-failed). Anyone else sees the API's 403 here.
/// </summary>
public sealed class OperationsModel(PlanCatalog plans) : ConsolePageModel
{
    [BindProperty(SupportsGet = true)] public string Status { get; set; } = "failed";
    [BindProperty(SupportsGet = true)] public string? After { get; set; }
    [BindProperty(SupportsGet = true)] public string? AuditAfter { get; set; }

    public List<SeatAuditEntry>? OverPlan { get; private set; }
    public string? AuditNext { get; private set; }
    public List<OutboxRowView>? Outbox { get; private set; }
    public string? OutboxNext { get; private set; }
    public string? PlanOrganization { get; private set; }

    /// <summary>The configured plans, offered in the form (which one is valid is the API's answer).</summary>
    public IEnumerable<string> Plans => plans.PlanNames;

    protected override async Task LoadAsync()
    {
        var audit = await Api.GetAsync<List<SeatAuditEntry>>($"/api/admin/seat-audit?limit=50{ConsolePaging.After(AuditAfter)}");
        if (!audit.Ok)
        {
            LoadProblem = audit.Problem;
            return;
        }
        OverPlan = audit.Value;
        AuditNext = audit.NextAfter;
        var status = Status == "all" ? "" : "&status=" + Uri.EscapeDataString(Status);
        var outbox = await Api.GetAsync<List<OutboxRowView>>($"/api/admin/notifications?limit=50{status}{ConsolePaging.After(After)}");
        if (!outbox.Ok)
        {
            Problems["outbox"] = outbox.Problem!;
            LoadProblem ??= outbox.Problem;
            return;
        }
        Outbox = outbox.Value;
        OutboxNext = outbox.NextAfter;
    }

    public async Task<IActionResult> OnPostPlanAsync(string? organizationId, string? plan)
    {
        PlanOrganization = organizationId;
        var id = InvitationsModel.OrganizationIdOf(organizationId);
        var changed = await Api.PutAsync($"/api/organizations/{Uri.EscapeDataString(id)}/plan", new { plan });
        if (!changed.Ok) return await FailedAsync("plan", changed.Problem!);
        return Done($"{changed.Value.GetProperty("name").GetString()} is on {plan} now.", $"/console/operations?status={Uri.EscapeDataString(Status)}");
    }

    public async Task<IActionResult> OnPostRetryAsync(Guid id)
    {
        var retried = await Api.PostAsync($"/api/admin/notifications/{id}/retry");
        return retried.Ok
            ? Done("The notification is pending again and goes out with the next delivery.", $"/console/operations?status={Uri.EscapeDataString(Status)}")
            : await FailedAsync(id.ToString(), retried.Problem!);
    }

    public async Task<IActionResult> OnPostRetryFailedAsync()
    {
        var retried = await Api.PostAsync("/api/admin/notifications/retry-failed");
        if (!retried.Ok) return await FailedAsync("retry-failed", retried.Problem!);
        var requeued = retried.Value.GetProperty("requeued").GetInt32();
        var left = retried.Value.GetProperty("leftMayHaveBeenDelivered").GetInt32();
        return Done($"{requeued} requeued; {left} may have been delivered and need a look and a retry each.",
            $"/console/operations?status={Uri.EscapeDataString(Status)}");
    }
}
