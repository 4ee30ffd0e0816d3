using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc;
using Roster.Features.Organizations;
using Roster.Features.Ownership;
using Roster.Features.Preflight;
using Roster.Infrastructure.Memberships;

namespace Roster.Features.Console.Pages;

/// <summary>
/// The invitee's inbox: pending owner adds (…/mine/pending; accept, decline), ownership offers (…/mine/ownership-offers),
/// my join requests (…/mine; withdraw), and asking to join with the join preflight's reasons shown before asking.
/// </summary>
public sealed partial class InvitationsModel : ConsolePageModel
{
    [BindProperty(SupportsGet = true)] public string? PendingAfter { get; set; }

    public List<InvitationView>? Pending { get; private set; }
    public string? PendingNext { get; private set; }
    public List<OwnershipOfferView>? Offers { get; private set; }
    public List<MembershipView>? Requests { get; private set; }
    public Dictionary<Guid, string> OrganizationNames { get; } = [];
    public string? Organization { get; private set; }
    public PreflightView? Preflight { get; private set; }

    protected override async Task LoadAsync()
    {
        var pending = await Api.GetAsync<List<InvitationView>>($"/api/membership-requests/mine/pending?limit=50{ConsolePaging.After(PendingAfter)}");
        if (!pending.Ok)
        {
            LoadProblem = pending.Problem;
            return;
        }
        Pending = pending.Value;
        PendingNext = pending.NextAfter;
        var offers = await Api.GetAsync<List<OwnershipOfferView>>("/api/membership-requests/mine/ownership-offers?limit=50");
        if (offers.Ok) Offers = offers.Value;
        var requests = await Api.GetAsync<List<MembershipView>>("/api/membership-requests/mine?limit=50");
        if (requests.Ok) Requests = requests.Value;
        // A join request names its organization by id; the name is the organization's, which a requester may not read.
        foreach (var r in Requests ?? []) OrganizationNames.TryAdd(r.OrganizationId, r.OrganizationId.ToString());
    }

    public Task<IActionResult> OnPostAcceptAsync(Guid membershipId) =>
        ActAsync(membershipId.ToString(), Api.PutAsync($"/api/membership-requests/{membershipId}/accept"), "Invitation accepted: you are a member now.");

    public Task<IActionResult> OnPostDeclineAsync(Guid membershipId) =>
        ActAsync(membershipId.ToString(), Api.DeleteAsync($"/api/membership-requests/{membershipId}"), "Invitation declined.");

    public Task<IActionResult> OnPostWithdrawAsync(Guid membershipId) =>
        ActAsync(membershipId.ToString(), Api.DeleteAsync($"/api/membership-requests/{membershipId}"), "Join request withdrawn.");

    public Task<IActionResult> OnPostAcceptOfferAsync(Guid membershipId) =>
        ActAsync("offer-" + membershipId, Api.PutAsync($"/api/membership-requests/{membershipId}/ownership-offer/accept"), "You are an owner now.");

    public Task<IActionResult> OnPostDeclineOfferAsync(Guid membershipId) =>
        ActAsync("offer-" + membershipId, Api.DeleteAsync($"/api/membership-requests/{membershipId}/ownership-offer"), "Ownership offer declined.");

    public async Task<IActionResult> OnPostCheckAsync(string? organization)
    {
        Organization = organization;
        var id = OrganizationIdOf(organization);
        var preflight = await Api.GetAsync<PreflightView>($"/api/organizations/{Uri.EscapeDataString(id)}/preflight?action=join");
        if (!preflight.Ok) return await FailedAsync("check", preflight.Problem!);
        await LoadAsync();
        Preflight = preflight.Value;
        return Page();
    }

    public async Task<IActionResult> OnPostJoinAsync(string? organization)
    {
        Organization = organization;
        var joined = await Api.PostAsync($"/api/organizations/{Uri.EscapeDataString(OrganizationIdOf(organization))}/requests");
        return joined.Ok ? Done("Join request sent. An owner or admin of the organization will answer it.") : await FailedAsync("join", joined.Problem!);
    }

    /// <summary>An organization id as typed, or the one inside a console link (…/console/orgs/{id}/…).</summary>
    public static string OrganizationIdOf(string? text)
    {
        var trimmed = (text ?? "").Trim();
        var match = OrgInLink().Match(trimmed);
        return match.Success ? Uri.UnescapeDataString(match.Groups[1].Value) : trimmed.Length == 0 ? "-" : trimmed;
    }

    [GeneratedRegex(@"/console/orgs/([^/?#]+)")]
    private static partial Regex OrgInLink();

    private async Task<IActionResult> ActAsync(string form, Task<ApiResult<System.Text.Json.JsonElement>> call, string message)
    {
        var result = await call;
        return result.Ok ? Done(message) : await FailedAsync(form, result.Problem!);
    }
}
