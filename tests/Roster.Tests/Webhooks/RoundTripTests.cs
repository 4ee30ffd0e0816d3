using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;
using Roster.Tests.Support;

namespace Roster.Tests.Webhooks;

/// <summary>
/// Pins how many database round trips one WorkOS membership event costs (issue 12): at most 8 for a membership that
/// takes a seat, 6 for one refused for seats, 3 for a repeated delivery — on both providers, counted as
/// <see cref="RoundTripCounter"/> defines. A change that adds a round trip to ingest fails here with the statements it saw.
/// The events are the benchmark's (bench/Roster.Bench, figure 1): a new WorkOS user in a mirrored organization.
/// </summary>
public abstract class RoundTripTests(RoundTripApp app, Xunit.Abstractions.ITestOutputHelper output)
{
    public const int AppliedLimit = 8;
    public const int RefusedLimit = 6;
    public const int DuplicateLimit = 3;

    private readonly Scenario _s = new(app);
    private readonly HttpClient _workos = app.ClientFor(null);

    private async Task<string> MirroredOrg(string plan)
    {
        var workosId = WorkOs.NewId("org");
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization.created", WorkOs.Organization(workosId, "Acme"))));
        var id = await app.WithDbAsync(db => db.Organizations.Where(o => o.WorkosOrganizationId == workosId).Select(o => o.Id).SingleAsync());
        await _s.SetPlan(id, plan);
        // A first member, so the role the events name exists and the organization is in its steady state.
        Assert.NotEqual("duplicate", await _workos.DeliverOk(MembershipCreated(workosId)));
        return workosId;
    }

    private static string MembershipCreated(string workosOrgId, string? eventId = null) =>
        WorkOs.Envelope("organization_membership.created", WorkOs.Membership(WorkOs.NewId("om"), WorkOs.NewId("user"), workosOrgId), eventId);

    /// <summary>Delivers one event while counting, and returns the round trips of the request's DbContext.</summary>
    private async Task<IReadOnlyList<string>> Counted(string json, string expectedOutcome)
    {
        var outcome = "";
        // The request's lease is the one that touched the event record; a background service's never does.
        var roundTrips = await app.CountedAsync(async () => outcome = await _workos.DeliverOk(json),
            lease => lease.Any(s => s.Contains("webhook_events", StringComparison.Ordinal)));
        Assert.Equal(expectedOutcome, outcome);
        return roundTrips;
    }

    private void AtMost(int limit, IReadOnlyList<string> roundTrips, string what) => RoundTripApp.AtMost(output, limit, roundTrips, what);

    [Fact]
    public async Task AMembershipThatTakesASeatCostsAtMostEightRoundTrips()
    {
        var org = await MirroredOrg("company_leader");
        AtMost(AppliedLimit, await Counted(MembershipCreated(org), "applied"), "applied membership add");
    }

    [Fact]
    public async Task AMembershipRefusedForSeatsCostsAtMostSixRoundTrips()
    {
        var org = await MirroredOrg("individual_professional");
        AtMost(RefusedLimit, await Counted(MembershipCreated(org), "refused"), "refused membership add");
    }

    [Fact]
    public async Task ARepeatedDeliveryCostsAtMostThreeRoundTrips()
    {
        var org = await MirroredOrg("company_leader");
        var json = MembershipCreated(org);
        Assert.Equal("applied", await _workos.DeliverOk(json));
        AtMost(DuplicateLimit, await Counted(json, "duplicate"), "duplicate delivery");
    }
}

public sealed class RoundTripTestsOnSqlite(SqliteRoundTripApp app, Xunit.Abstractions.ITestOutputHelper output)
    : RoundTripTests(app, output), IClassFixture<SqliteRoundTripApp>;

public sealed class RoundTripTestsOnPostgres(PostgresRoundTripApp app, Xunit.Abstractions.ITestOutputHelper output)
    : RoundTripTests(app, output), IClassFixture<PostgresRoundTripApp>;
