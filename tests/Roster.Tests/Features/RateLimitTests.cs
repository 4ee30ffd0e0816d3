using System.Net;
using Roster.Infrastructure.Data;
using Roster.Tests.Support;

namespace Roster.Tests.Features;

/// <summary>A host whose exact-email search allows three lookups a minute per caller.</summary>
public abstract class TightSearchLimitApp(StorageProvider provider) : RosterApp(provider)
{
    protected override IReadOnlyDictionary<string, string?> Settings =>
        new Dictionary<string, string?> { ["RateLimits:MemberSearchPerMinute"] = "3" };
}

public sealed class TightSearchLimitSqliteApp() : TightSearchLimitApp(StorageProvider.Sqlite);

public sealed class TightSearchLimitPostgresApp() : TightSearchLimitApp(StorageProvider.Postgres);

public abstract class RateLimitTests(RosterApp app)
{
    private readonly Scenario _s = new(app);

    [Fact]
    public async Task EmailSearchIsRateLimitedPerCaller()
    {
        var staffed = await _s.NewStaffedOrg();
        var url = $"/api/organizations/{staffed.Id}/members/search?email={Uri.EscapeDataString(staffed.Member.Email)}";

        for (var i = 0; i < 3; i++) await (await _s.As(staffed.Owner).GetAsync(url)).ShouldBe(HttpStatusCode.OK);
        var limited = await _s.As(staffed.Owner).GetAsync(url);
        await limited.ShouldBeProblem(HttpStatusCode.TooManyRequests, "rate_limited");
        Assert.True(limited.Headers.RetryAfter is not null);
        // Still a problem document for a client that asked for HTML (the framework's writer declines it; it was a 500).
        using var html = new HttpRequestMessage(HttpMethod.Get, url);
        html.Headers.TryAddWithoutValidation("Accept", "text/html");
        await (await _s.As(staffed.Owner).SendAsync(html)).ShouldBeProblem(HttpStatusCode.TooManyRequests, "rate_limited");

        // Another caller has their own allowance.
        await (await _s.As(staffed.Admin).GetAsync(url)).ShouldBe(HttpStatusCode.OK);
    }
}

public sealed class RateLimitTestsOnSqlite(TightSearchLimitSqliteApp app) : RateLimitTests(app), IClassFixture<TightSearchLimitSqliteApp>;

public sealed class RateLimitTestsOnPostgres(TightSearchLimitPostgresApp app) : RateLimitTests(app), IClassFixture<TightSearchLimitPostgresApp>;
