using System.Net;
using Microsoft.EntityFrameworkCore;
using Roster.Tests.Support;

namespace Roster.Tests.Features;

/// <summary>
/// Requests that pass their checks together and then race to insert: the unique indexes are the backstop, and the loser
/// is answered with what won (DbErrors.TryCommitAsync: rolled back, nothing half-written), never a 500.
/// </summary>
public abstract class UniqueRaceTests(RosterApp app)
{
    private readonly Scenario _s = new(app);

    [Fact]
    public async Task ConcurrentJoinRequestsOfOnePersonMakeOneAndAnswerTheRestWithThePendingRequest()
    {
        var org = await _s.NewOrg();
        var asker = RosterApp.NewUser("asker");
        var askerId = await _s.UserIdOf(asker);

        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ =>
            Task.Run(() => _s.As(asker).PostAsync($"/api/organizations/{org.Id}/requests", null))));

        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        foreach (var refused in responses.Where(r => r.StatusCode != HttpStatusCode.Created))
            await refused.ShouldBeProblem(HttpStatusCode.Conflict, "join_request_pending");
        Assert.Equal(1, await app.WithDbAsync(db => db.Memberships.CountAsync(m => m.OrganizationId == org.Id && m.UserId == askerId)));
        Assert.Equal(1, await app.WithDbAsync(db => db.AuditEvents.CountAsync(a => a.OrganizationId == org.Id && a.Action == "requested")));
    }

    [Fact]
    public async Task ConcurrentFirstEventsOfAnOrganizationRosterHasNotSeenMakeOnePlaceholderAndApplyEveryOne()
    {
        // Each event finds no organization and adds the placeholder; all but one lose that insert and run again.
        var workosOrg = WorkOs.NewId("org");
        var webhook = app.ClientFor(null);
        var events = Enumerable.Range(0, 8)
            .Select(_ => WorkOs.Envelope("organization_membership.created", WorkOs.Membership(WorkOs.NewId("om"), WorkOs.NewId("user"), workosOrg)))
            .ToList();

        var outcomes = await Task.WhenAll(events.Select(json => Task.Run(() => webhook.DeliverOk(json))));

        // The free plan's 5 community_only seats: five mirrored, the rest refused — every event decided, none failed.
        Assert.Equal(5, outcomes.Count(o => o == "applied"));
        Assert.Equal(3, outcomes.Count(o => o == "refused"));
        Assert.Equal(1, await app.WithDbAsync(db => db.Organizations.CountAsync(o => o.WorkosOrganizationId == workosOrg)));
    }
}

public sealed class UniqueRaceTestsOnSqlite(SqliteApp app) : UniqueRaceTests(app), IClassFixture<SqliteApp>;

public sealed class UniqueRaceTestsOnPostgres(PostgresApp app) : UniqueRaceTests(app), IClassFixture<PostgresApp>;
