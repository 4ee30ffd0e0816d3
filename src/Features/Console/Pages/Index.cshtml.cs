using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Roster.Features.Organizations;

namespace Roster.Features.Console.Pages;

/// <summary>My organizations (GET /api/organizations, paged) and creating one (POST /api/organizations).</summary>
public sealed class IndexModel : ConsolePageModel
{
    [BindProperty(SupportsGet = true)] public string? After { get; set; }

    public List<MyOrganizationView>? Organizations { get; private set; }
    public string? Next { get; private set; }

    protected override async Task LoadAsync()
    {
        var list = await Api.GetAsync<List<MyOrganizationView>>($"/api/organizations?limit=50{ConsolePaging.After(After)}");
        if (!list.Ok)
        {
            LoadProblem = list.Problem;
            return;
        }
        Organizations = list.Value;
        Next = list.NextAfter;
    }

    public async Task<IActionResult> OnPostCreateAsync(string? name)
    {
        var created = await Api.PostAsync("/api/organizations", new { name });
        if (!created.Ok) return await FailedAsync("create", created.Problem!);
        var id = created.Value.GetProperty("id").GetString();
        return Done($"Created {created.Value.GetProperty("name").GetString()}. You are its owner.", $"/console/orgs/{id}/members");
    }
}

public static class ConsolePaging
{
    /// <summary>The API's <c>after</c> parameter for a cursor the page was given (opaque: passed on as it came).</summary>
    public static string After(string? after) => string.IsNullOrEmpty(after) ? "" : "&after=" + Uri.EscapeDataString(after);
}
