using Microsoft.AspNetCore.Mvc;
using Roster.Features.Organizations;

namespace Roster.Features.Console.Pages;

/// <summary>An organization's membership history, or one member's (GET …/audit?membershipId=|userId=, newest first, paged).</summary>
public sealed class HistoryModel : OrganizationPageModel
{
    [BindProperty(SupportsGet = true)] public string? After { get; set; }
    [BindProperty(SupportsGet = true)] public string? MembershipId { get; set; }
    [BindProperty(SupportsGet = true)] public string? UserId { get; set; }

    public List<AuditEntryView>? Entries { get; private set; }
    public string? Next { get; private set; }

    public static string Change(string? from, string? to) =>
        from == to ? to ?? "—" : $"{from ?? "—"} → {to ?? "—"}";

    protected override async Task LoadAsync()
    {
        if (!await LoadOrganizationAsync()) return;
        var filter = (MembershipId is { Length: > 0 } m ? "&membershipId=" + Uri.EscapeDataString(m) : "")
                     + (UserId is { Length: > 0 } u ? "&userId=" + Uri.EscapeDataString(u) : "");
        var list = await Api.GetAsync<List<AuditEntryView>>($"{ApiOrg}/audit?limit=50{filter}{ConsolePaging.After(After)}");
        if (!list.Ok)
        {
            LoadProblem = list.Problem;
            return;
        }
        Entries = list.Value;
        Next = list.NextAfter;
    }
}
