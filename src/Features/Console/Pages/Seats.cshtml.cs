using Microsoft.AspNetCore.Mvc;
using Roster.Features.Organizations;
using Roster.Features.Refusals;

namespace Roster.Features.Console.Pages;

/// <summary>Seat meters (GET …/seats), the over-cap banner, and the adds refused over the cap (GET …/refusals, paged).</summary>
public sealed class SeatsModel(Roster.Features.Notifications.LinkOptions links) : OrganizationPageModel
{
    [BindProperty(SupportsGet = true)] public string? After { get; set; }

    public SeatsView? Seats { get; private set; }
    public List<RefusalView>? Refusals { get; private set; }
    public string? Next { get; private set; }

    /// <summary>Seat types whose live usage exceeds the plan (after a plan shrank): the same test as the seat audit's.</summary>
    public IEnumerable<SeatTypeView> OverCap => Seats?.SeatTypes.Where(s => s.Limit >= 0 && s.Active + s.Reserved > s.Limit) ?? [];

    public string? UpgradeUrl => Link(links.UpgradeUrl);
    public string? ManageUrl => Link(links.ManageTeamUrl);

    private string? Link(string? template) => string.IsNullOrWhiteSpace(template) || Organization is null ? null
        : template.Replace("{organizationId}", Organization.Id.ToString(), StringComparison.Ordinal)
            .Replace("{workosOrganizationId}", Organization.WorkosOrganizationId ?? "", StringComparison.Ordinal);

    protected override async Task LoadAsync()
    {
        if (!await LoadOrganizationAsync()) return;
        var seats = await Api.GetAsync<SeatsView>($"{ApiOrg}/seats");
        if (!seats.Ok)
        {
            LoadProblem = seats.Problem;
            return;
        }
        Seats = seats.Value;
        var refusals = await Api.GetAsync<List<RefusalView>>($"{ApiOrg}/refusals?limit=50{ConsolePaging.After(After)}");
        if (!refusals.Ok)
        {
            LoadProblem = refusals.Problem;
            return;
        }
        Refusals = refusals.Value;
        Next = refusals.NextAfter;
    }
}
