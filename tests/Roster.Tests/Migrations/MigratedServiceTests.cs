using System.Globalization;
using System.Net;
using Microsoft.EntityFrameworkCore;
using Roster.Cli;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Http;
using Roster.Migrations;
using Roster.Tests.Support;

namespace Roster.Tests.Migrations;

/// <summary>
/// The running service on a migrated database: the unique indexes turn racing requests into one row and clean
/// 409s, and the operator commands report the schema and mint tokens.
/// </summary>
public abstract class MigratedServiceTests(RosterApp app)
{
    private readonly Scenario _s = new(app);

    [Fact]
    public async Task TwentyConcurrentRequestsToJoinOneOrganizationMakeExactlyOneRow()
    {
        var org = await _s.NewOrg();
        var racer = RosterApp.NewUser("racer");
        var userId = await _s.UserIdOf(racer);
        var client = _s.As(racer);

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => client.PostAsync($"/api/organizations/{org.Id}/requests", null)));

        Assert.DoesNotContain(responses, r => (int)r.StatusCode >= 500);
        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        foreach (var conflict in responses.Where(r => r.StatusCode != HttpStatusCode.Created))
            await conflict.ShouldBeProblem(HttpStatusCode.Conflict, ErrorCodes.JoinRequestPending);
        var live = (await app.MembershipsOfAsync(org.Id)).Where(m => m.UserId == userId && m.DeletedAt == null).ToList();
        var row = Assert.Single(live);
        Assert.Equal(("pending", MembershipSource.JoinRequest), (row.Status, row.Source));
    }

    [Fact]
    public async Task TwentyConcurrentRequestsToJoinDifferentOrganizationsLeaveOnePendingRequest()
    {
        var orgs = new List<Org>();
        for (var i = 0; i < 20; i++) orgs.Add(await _s.NewOrg());
        var racer = RosterApp.NewUser("racer");
        var userId = await _s.UserIdOf(racer);
        var client = _s.As(racer);

        var responses = await Task.WhenAll(orgs.Select(o => client.PostAsync($"/api/organizations/{o.Id}/requests", null)));

        Assert.DoesNotContain(responses, r => (int)r.StatusCode >= 500);
        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        foreach (var conflict in responses.Where(r => r.StatusCode != HttpStatusCode.Created))
            await conflict.ShouldBeProblem(HttpStatusCode.Conflict, ErrorCodes.JoinRequestPending);
        var pending = await app.WithDbAsync(db => db.Memberships.AsNoTracking()
            .Where(m => m.UserId == userId && m.DeletedAt == null).ToListAsync());
        var row = Assert.Single(pending);
        Assert.Equal(("pending", MembershipSource.JoinRequest), (row.Status, row.Source));
    }

    [Fact]
    public async Task MigrateStatusListsEveryMigrationAsApplied()
    {
        var (code, output, error) = await RunAsync("migrate", "--status");

        Assert.Equal(0, code);
        Assert.Equal("", error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(MigrationCatalog.All.Select(m => $"{m.Version}_{m.Name}"), lines.Select(l => l.Split('\t')[0]));
        foreach (var line in lines)
        {
            var state = line.Split('\t')[1];
            Assert.StartsWith("applied ", state, StringComparison.Ordinal);
            Assert.True(DateTime.TryParse(state["applied ".Length..], CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out _), line);
        }
    }

    [Fact]
    public async Task MigrateOnAnUpToDateDatabaseAppliesNothing()
    {
        var (code, output, error) = await RunAsync("migrate");

        Assert.Equal(0, code);
        Assert.Equal("", error);
        Assert.Equal("Database is up to date.", output.Trim());
    }

    [Fact]
    public async Task DevTokenPrintsATokenTheServiceAccepts()
    {
        var sub = $"user_{Guid.NewGuid():N}";
        var email = $"dev.{Guid.NewGuid():N}@example.com";

        var (code, output, error) = await RunAsync("dev-token", "--sub", sub, "--email", email, "--name", "Dev Person");

        Assert.Equal(0, code);
        Assert.Equal("", error);
        var token = output.Trim();
        Assert.Equal(3, token.Split('.').Length);
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        await (await client.GetAsync("/api/membership-requests/mine")).ShouldBe(HttpStatusCode.OK);
        var user = await app.WithDbAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.WorkosUserId == sub));
        Assert.Equal((email, "Dev Person", true), (user.Email, user.Name, user.EmailVerified));
    }

    [Fact]
    public async Task AnUnverifiedDevTokenCannotAskToJoin()
    {
        var org = await _s.NewOrg();
        var (code, output, _) = await RunAsync("dev-token", "--sub", $"user_{Guid.NewGuid():N}", "--email", $"u.{Guid.NewGuid():N}@example.com", "--unverified");
        Assert.Equal(0, code);
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", output.Trim());

        await (await client.PostAsync($"/api/organizations/{org.Id}/requests", null)).ShouldBeProblem(HttpStatusCode.Forbidden, ErrorCodes.EmailNotVerified);
    }

    [Theory]
    [InlineData("dev-token", "--sub", "user_x")]
    [InlineData("dev-token", "--email", "x@example.com")]
    [InlineData("dev-token", "--sub", "user_x", "--email", "x@example.com", "--bogus")]
    [InlineData("migrate", "--bogus")]
    [InlineData("seats")]
    public async Task AMalformedCommandIsAUsageErrorAndPrintsNothingToOutput(params string[] args)
    {
        var (code, output, error) = await RunAsync(args);

        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Contains("usage:", error, StringComparison.Ordinal);
    }

    private async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await RosterCommands.RunAsync(app.Services, args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}

public sealed class MigratedServiceTestsOnSqlite(SqliteApp app) : MigratedServiceTests(app), IClassFixture<SqliteApp>;

public sealed class MigratedServiceTestsOnPostgres(PostgresApp app) : MigratedServiceTests(app), IClassFixture<PostgresApp>;
