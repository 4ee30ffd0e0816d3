using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Memberships;
using Roster.Tests.Notifications;
using Roster.Tests.Support;

namespace Roster.Tests.ProductApi;

/// <summary>Roster with a clock the test moves and the background sweep off (tests sweep themselves).</summary>
public abstract class ProductApiApp(StorageProvider provider) : RosterApp(provider)
{
    public AdjustableClock Clock { get; } = new();

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Invitations:SweepEnabled"] = "false",
        ["Invitations:ExpireAfterDays"] = "14",
        ["Notifications:DispatcherEnabled"] = "false",
    };

    protected override void ConfigureServices(IServiceCollection services) => services.AddSingleton<TimeProvider>(Clock);

    public Task<Sweeper.Swept> SweepAsync() => Services.GetRequiredService<Sweeper>().SweepOnceAsync(CancellationToken.None);
}

public sealed class ProductApiSqliteApp() : ProductApiApp(StorageProvider.Sqlite);

public sealed class ProductApiPostgresApp() : ProductApiApp(StorageProvider.Postgres);

public static class Paging
{
    /// <summary>The next page's URL from an RFC 8288 Link header (rel="next"), or null on the last page.</summary>
    public static string? Next(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Link", out var links)) return null;
        var link = Assert.Single(links);
        var match = System.Text.RegularExpressions.Regex.Match(link, "^<([^>]+)>; rel=\"next\"$");
        Assert.True(match.Success, $"Not a next link: {link}");
        return match.Groups[1].Value;
    }

    /// <summary>Follows Link rel="next" from <paramref name="url"/> to the end; every page's body is a JSON array.</summary>
    public static async Task<(List<JsonNode> Items, int Pages)> WalkAsync(HttpClient client, string url, int maxPages = 1000)
    {
        var items = new List<JsonNode>();
        var pages = 0;
        for (string? next = url; next is not null; pages++)
        {
            Assert.True(pages < maxPages, "Too many pages");
            using var response = await client.GetAsync(next);
            var body = await response.ShouldBe(HttpStatusCode.OK);
            items.AddRange(body.AsArray().Select(i => i!));
            next = Next(response);
        }
        return (items, pages);
    }
}
