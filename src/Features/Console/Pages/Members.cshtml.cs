using Microsoft.AspNetCore.Mvc;
using Roster.Features.Members;
using Roster.Features.Organizations;
using Roster.Infrastructure.Memberships;

namespace Roster.Features.Console.Pages;

/// <summary>
/// The members page: the list (GET …/members), the exact-email search and the add (…/members/search, POST …/members), role and
/// seat-type changes (PATCH), removal and cancelling (DELETE), renewing (…/renew), ownership offers (…/ownership-offer) and
/// leaving (…/leave). Each action is the API call; a refusal shows the API's detail beside the form that sent it.
/// </summary>
public sealed class MembersModel : OrganizationPageModel
{
    /// <summary>The roles offered in the forms; which of them the caller may grant is the API's rule (role_escalation).</summary>
    public static readonly IReadOnlyList<string> Roles = ["member", "admin", "owner"];

    [BindProperty(SupportsGet = true)] public string? After { get; set; }

    public List<MembershipView>? Members { get; private set; }
    public string? Next { get; private set; }
    public IReadOnlyList<string> SeatTypes { get; private set; } = [];
    public SearchHit? Found { get; private set; }
    public string? SearchEmail { get; private set; }
    public string? MyEmail => User.FindFirst("email")?.Value;

    public static string SourceText(string? source) => source switch
    {
        "owner_add" => "added by an owner or admin",
        "join_request" => "asked to join",
        "founder" => "founded it",
        "invitation" => "WorkOS invitation",
        "webhook" => "added in WorkOS",
        "domain" => "email domain",
        "legacy" => "before sources were kept",
        null => "—",
        _ => source,
    };

    protected override async Task LoadAsync()
    {
        if (!await LoadOrganizationAsync()) return;
        var list = await Api.GetAsync<List<MembershipView>>($"{ApiOrg}/members?limit=50{ConsolePaging.After(After)}");
        if (!list.Ok)
        {
            LoadProblem = list.Problem;
            return;
        }
        Members = list.Value;
        Next = list.NextAfter;
        if (IsOwnerOrAdmin)
        {
            var seats = await Api.GetAsync<SeatsView>($"{ApiOrg}/seats");
            if (seats.Ok) SeatTypes = [.. seats.Value!.SeatTypes.Select(s => s.SeatType)];
        }
    }

    public async Task<IActionResult> OnPostSearchAsync(string? email)
    {
        SearchEmail = email;
        var hit = await Api.GetAsync<SearchHit>($"{ApiOrg}/members/search?email={Uri.EscapeDataString(email ?? "")}");
        if (!hit.Ok) return await FailedAsync("search", hit.Problem!);
        await LoadAsync();
        Found = hit.Value;
        return Page();
    }

    public async Task<IActionResult> OnPostAddAsync(Guid userId, string? email, string? role, string? seatType)
    {
        var added = await Api.PostAsync($"{ApiOrg}/members", new { userId, role, seatType });
        if (added.Ok) return Done($"Added {email}: the invitation waits for them to accept it.");
        SearchEmail = email;
        var hit = await Api.GetAsync<SearchHit>($"{ApiOrg}/members/search?email={Uri.EscapeDataString(email ?? "")}");
        var page = await FailedAsync("add", added.Problem!);
        if (hit.Ok) Found = hit.Value;
        return page;
    }

    public Task<IActionResult> OnPostRoleAsync(Guid membershipId, string? role) =>
        ActAsync(membershipId, Api.PatchAsync($"{ApiOrg}/members/{membershipId}", new { role }), $"Role changed to {role}.");

    public Task<IActionResult> OnPostSeatTypeAsync(Guid membershipId, string? seatType) =>
        ActAsync(membershipId, Api.PatchAsync($"{ApiOrg}/members/{membershipId}", new { seatType }), $"Seat type changed to {seatType}.");

    public Task<IActionResult> OnPostRemoveAsync(Guid membershipId) =>
        ActAsync(membershipId, Api.DeleteAsync($"{ApiOrg}/members/{membershipId}"), "Removed.");

    public Task<IActionResult> OnPostRenewAsync(Guid membershipId) =>
        ActAsync(membershipId, Api.PostAsync($"{ApiOrg}/members/{membershipId}/renew"), "Invitation renewed.");

    public Task<IActionResult> OnPostOfferAsync(Guid membershipId) =>
        ActAsync(membershipId, Api.PostAsync($"{ApiOrg}/members/{membershipId}/ownership-offer"),
            "Ownership offered: nothing changes until they accept it.");

    public Task<IActionResult> OnPostWithdrawAsync(Guid membershipId) =>
        ActAsync(membershipId, Api.DeleteAsync($"{ApiOrg}/members/{membershipId}/ownership-offer"), "Ownership offer withdrawn.");

    public async Task<IActionResult> OnPostLeaveAsync()
    {
        var left = await Api.PostAsync($"{ApiOrg}/leave");
        return left.Ok ? Done("You left the organization.", "/console") : await FailedAsync("leave", left.Problem!);
    }

    private async Task<IActionResult> ActAsync(Guid membershipId, Task<ApiResult<System.Text.Json.JsonElement>> call, string message)
    {
        var result = await call;
        return result.Ok ? Done(message) : await FailedAsync(membershipId.ToString(), result.Problem!);
    }
}
