using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Roster.Infrastructure.Data;
using Roster.Tests.Support;

namespace Roster.Tests.Changes;

/// <summary>
/// The lock order of a WorkOS user.deleted on PostgreSQL, where locks are per row and per person: every organization the
/// person is in (seat or not) before the person's lock, as every membership event takes them — so a deletion and an
/// event for the same person never wait on each other in a circle. PostgreSQL only: SQLite has one write lock, so there
/// is no order to get wrong (the feed itself is tested on both in FeedCompletenessTests).
/// </summary>
public sealed class UserDeletionLockOrderTests(WebhookPostgresApp app) : IClassFixture<WebhookPostgresApp>
{
    private readonly Scenario _s = new(app);

    [Fact]
    public async Task AUserDeletionTakesTheLockOfAnOrganizationWhereThePersonHoldsNoSeatBeforeThePersonsLock()
    {
        var org = await _s.NewOrg(plan: "company_leader");
        var person = RosterApp.NewUser("requester");
        var request = await _s.RequestToJoin(org.Id, person); // a join request holds no seat

        using var scope = app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<RosterDb>();
        await using var tx = await db.Database.BeginTransactionAsync();
        // What a membership event for this person does: the organization's row lock first...
        await db.Database.ExecuteSqlAsync($"UPDATE organizations SET seat_lock_version = seat_lock_version + 1 WHERE id = {org.Id}");
        var deletion = app.ClientFor(null).Deliver(WorkOs.Envelope("user.deleted", WorkOs.User(person.Sub, person.Email)));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        // This database's backends only: the server is shared, and another test's waits must not count as the deletion's.
        while (await app.WithDbAsync(d => d.Database.SqlQuery<int>(
                   $"SELECT count(*)::int AS \"Value\" FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'UPDATE organizations%'").SingleAsync()) == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the deletion never waited for the organization's lock");
            await Task.Delay(50);
        }
        // ...then the person's. The deletion, waiting for the organization, must not be holding it.
        await db.Database.ExecuteSqlRawAsync("SET LOCAL lock_timeout = '10s'");
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({MirrorLocks.Key(MirrorLocks.User, person.Sub)})");
        await tx.CommitAsync();

        Assert.Equal("applied", (await (await deletion).ShouldBe(HttpStatusCode.OK)).Str("outcome"));
        var removed = (await FeedSupport.WalkAsync(_s.As(org.Owner), $"/api/organizations/{org.Id}/changes"))[^1];
        Assert.Equal(("membership.removed", request.ToString()), (removed.Str("type"), removed.Str("membershipId")));
    }
}
