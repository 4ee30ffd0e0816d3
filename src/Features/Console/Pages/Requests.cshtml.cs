using Microsoft.AspNetCore.Mvc;
using Roster.Features.Organizations;
using Roster.Infrastructure.Memberships;

namespace Roster.Features.Console.Pages;

/// <summary>The join-request queue (GET …/requests, paged): approve with a seat type (PUT …/approve) or reject (PUT …/reject).</summary>
public sealed class RequestsModel : OrganizationPageModel
{
    [BindProperty(SupportsGet = true)] public string? After { get; set; }

    public List<MembershipView>? Requests { get; private set; }
    public string? Next { get; private set; }
    public IReadOnlyList<string> SeatTypes { get; private set; } = [];

    protected override async Task LoadAsync()
    {
        if (!await LoadOrganizationAsync()) return;
        var list = await Api.GetAsync<List<MembershipView>>($"{ApiOrg}/requests?limit=50{ConsolePaging.After(After)}");
        if (!list.Ok)
        {
            LoadProblem = list.Problem;
            return;
        }
        Requests = list.Value;
        Next = list.NextAfter;
        var seats = await Api.GetAsync<SeatsView>($"{ApiOrg}/seats");
        if (seats.Ok) SeatTypes = [.. seats.Value!.SeatTypes.Select(s => s.SeatType)];
    }

    public async Task<IActionResult> OnPostApproveAsync(Guid membershipId, string? seatType)
    {
        var approved = await Api.PutAsync($"{ApiOrg}/requests/{membershipId}/approve", new { seatType });
        return approved.Ok ? Done($"Approved with a {seatType} seat.") : await FailedAsync(membershipId.ToString(), approved.Problem!);
    }

    public async Task<IActionResult> OnPostRejectAsync(Guid membershipId)
    {
        var rejected = await Api.PutAsync($"{ApiOrg}/requests/{membershipId}/reject");
        return rejected.Ok ? Done("Rejected.") : await FailedAsync(membershipId.ToString(), rejected.Problem!);
    }
}
