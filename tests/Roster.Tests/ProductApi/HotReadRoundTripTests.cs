using System.Net;
using Roster.Infrastructure.Data;
using Roster.Tests.Support;

namespace Roster.Tests.ProductApi;

/// <summary>
/// Pins the round trips of the two hottest reads (bench/, figure 2): the members list and the caller's pending
/// invitations each cost the caller's lookup (the local-user middleware, shared by every authenticated request) and
/// one statement of their own, on both providers, counted as <see cref="RoundTripCounter"/> defines. A change that adds
/// a statement to either fails here with the statements it saw.
/// </summary>
public abstract class HotReadRoundTripTests(RoundTripApp app, Xunit.Abstractions.ITestOutputHelper output)
{
    public const int Limit = 2;

    private readonly Scenario _s = new(app);

    // The request's lease is the one that looked the caller up; a background service's never reads users by WorkOS id.
    private Task<IReadOnlyList<string>> Counted(HttpClient client, string path) =>
        app.CountedAsync(async () => await (await client.GetAsync(path)).ShouldBe(HttpStatusCode.OK),
            lease => lease.Any(s => s.Contains("workos_user_id", StringComparison.Ordinal)));

    private void AtMost(IReadOnlyList<string> roundTrips, string what) => RoundTripApp.AtMost(output, Limit, roundTrips, what);

    [Fact]
    public async Task ListingAnOrganizationsMembersCostsTheCallersLookupAndOneStatement()
    {
        var staffed = await _s.NewStaffedOrg();
        await _s.Invite(staffed.Id, staffed.Owner, RosterApp.NewUser("invitee"));
        AtMost(await Counted(_s.As(staffed.Member), $"/api/organizations/{staffed.Id}/members"), "members list");
    }

    [Fact]
    public async Task ListingTheCallersPendingInvitationsCostsTheCallersLookupAndOneStatement()
    {
        var org = await _s.NewOrg();
        var invitee = RosterApp.NewUser("invitee");
        await _s.Invite(org.Id, org.Owner, invitee);
        AtMost(await Counted(_s.As(invitee), "/api/membership-requests/mine/pending"), "pending invitations");
    }
}

public sealed class HotReadRoundTripTestsOnSqlite(SqliteRoundTripApp app, Xunit.Abstractions.ITestOutputHelper output)
    : HotReadRoundTripTests(app, output), IClassFixture<SqliteRoundTripApp>;

public sealed class HotReadRoundTripTestsOnPostgres(PostgresRoundTripApp app, Xunit.Abstractions.ITestOutputHelper output)
    : HotReadRoundTripTests(app, output), IClassFixture<PostgresRoundTripApp>;
