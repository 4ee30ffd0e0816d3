using System.Net;
using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;
using Roster.Tests.Support;
using Roster.Infrastructure.WorkOs;

namespace Roster.Tests.WorkOsSync;

public abstract class OutboundWriteTests(WorkOsSyncApp app)
{
    private readonly Scenario _s = new(app);
    private readonly HttpClient _webhooks = app.ClientFor(null);
    private FakeWorkOs Fake => app.Fake;

    private readonly WorkOsScenario _workos = new(app);

    private Task<(string WorkosOrg, Guid OrgId, TestUser Owner)> SharedOrg() => _workos.SharedOrg("Outbound Ltd");

    private Task<TestUser> WorkOsUser(string name) => _workos.WorkOsUser(name);

    [Fact]
    public async Task AnAcceptedInvitationBecomesAWorkOsMembershipWhoseEchoIsRecognisedAndNotCountedTwice()
    {
        var org = await SharedOrg();
        var invitee = await WorkOsUser("invitee");
        var membershipId = await _s.AddActive(org.OrgId, org.Owner, invitee);

        await app.DispatchOutboxAsync();

        var created = Assert.Single(Fake.Memberships, m => m.UserId == invitee.Sub && m.OrganizationId == org.WorkosOrg);
        Assert.Equal(["member"], created.RoleSlugs);
        var row = (await app.MembershipsOfAsync(org.OrgId)).Single(m => m.Id == membershipId);
        Assert.Equal(created.Id, row.WorkosMembershipId);

        var seatsBefore = await (await _s.As(org.Owner).GetAsync($"/api/organizations/{org.OrgId}/seats")).ShouldBe(HttpStatusCode.OK);
        var echo = Fake.Events.Last(e => e.Type == "organization_membership.created" && e.Json.Contains(created.Id));
        Assert.Equal("applied", await _webhooks.DeliverOk(echo.Json));
        var seatsAfter = await (await _s.As(org.Owner).GetAsync($"/api/organizations/{org.OrgId}/seats")).ShouldBe(HttpStatusCode.OK);

        Assert.Equal(seatsBefore.ToJsonString(), seatsAfter.ToJsonString());
        var rows = (await app.MembershipsOfAsync(org.OrgId)).Where(m => m.DeletedAt == null && m.UserId == row.UserId).ToList();
        Assert.Equal(("active", "owner_add"), (Assert.Single(rows).Status, rows[0].Source));
        Assert.False(await app.WithDbAsync(db => db.SeatReservations.AnyAsync(r => r.OrganizationId == org.OrgId && r.ExpiresAt > DateTime.UtcNow)));
    }

    [Fact]
    public async Task AnApprovedJoinRequestARoleChangeAndARemovalReachWorkOs()
    {
        var org = await SharedOrg();
        var requester = await WorkOsUser("requester");
        var requestId = await _s.RequestToJoin(org.OrgId, requester);
        await (await _s.As(org.Owner).PutJson($"/api/organizations/{org.OrgId}/requests/{requestId}/approve")).ShouldBe(HttpStatusCode.OK);
        await app.DispatchOutboxAsync();
        Assert.Single(Fake.Memberships, m => m.UserId == requester.Sub);

        await (await _s.As(org.Owner).PatchJson($"/api/organizations/{org.OrgId}/members/{requestId}", new { role = "admin" })).ShouldBe(HttpStatusCode.OK);
        await app.DispatchOutboxAsync();
        Assert.Equal(["admin"], Fake.Memberships.Single(m => m.UserId == requester.Sub).RoleSlugs);

        await (await _s.As(org.Owner).DeleteAsync($"/api/organizations/{org.OrgId}/members/{requestId}")).ShouldBe(HttpStatusCode.NoContent);
        await app.DispatchOutboxAsync();
        Assert.DoesNotContain(Fake.Memberships, m => m.UserId == requester.Sub);
        var kinds = await app.WithDbAsync(db => db.NotificationOutbox.Where(n => n.Payload.Contains(requestId.ToString())).Select(n => new { n.Kind, n.SentAt }).ToListAsync());
        Assert.Equal(3, kinds.Count);
        Assert.All(kinds, k => Assert.NotNull(k.SentAt));
    }

    [Fact]
    public async Task WritesWaitOutAWorkOsOutageAndGoThroughAfterwards()
    {
        var org = await SharedOrg();
        var invitee = await WorkOsUser("patient");
        await _s.AddActive(org.OrgId, org.Owner, invitee);

        Fake.Down = true;
        await app.DispatchOutboxAsync();
        var row = await app.WithDbAsync(db => db.NotificationOutbox.SingleAsync(n => n.Kind == "workos_create_membership" && n.Payload.Contains(invitee.Sub)));
        Assert.Null(row.SentAt);
        Assert.Null(row.FailedAt);
        Assert.Equal(1, row.Attempts);
        Assert.NotNull(row.LastError);

        Fake.Down = false;
        await app.WithDbAsync(db => db.NotificationOutbox.Where(n => n.Id == row.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(n => n.NextAttemptAt, DateTime.UtcNow.AddSeconds(-1))));
        await app.DispatchOutboxAsync();
        Assert.Single(Fake.Memberships, m => m.UserId == invitee.Sub);
    }

    [Fact]
    public async Task AMemberRemovedBeforeTheirCreateWentOutIsNeverCreatedInWorkOs()
    {
        var org = await SharedOrg();
        var invitee = await WorkOsUser("fleeting");
        var membershipId = await _s.AddActive(org.OrgId, org.Owner, invitee);
        await (await _s.As(invitee).PostAsync($"/api/organizations/{org.OrgId}/leave", null)).ShouldBe(HttpStatusCode.NoContent);

        await app.DispatchOutboxAsync();

        Assert.DoesNotContain(Fake.Memberships, m => m.UserId == invitee.Sub);
        Assert.DoesNotContain(Fake.Requests, r => r.Method == "POST" && r.Body.Contains(invitee.Sub));
        _ = membershipId;
    }
}

public sealed class OutboundWriteTestsOnSqlite(WorkOsSyncSqliteApp app) : OutboundWriteTests(app), IClassFixture<WorkOsSyncSqliteApp>;

public sealed class OutboundWriteTestsOnPostgres(WorkOsSyncPostgresApp app) : OutboundWriteTests(app), IClassFixture<WorkOsSyncPostgresApp>;

/// <summary>Without WorkOS configured, Roster runs standalone: nothing is queued for WorkOS.</summary>
public abstract class StandaloneTests(RosterApp app)
{
    private readonly Scenario _s = new(app);

    [Fact]
    public async Task WithoutWorkOsConfiguredNoWriteToWorkOsIsQueued()
    {
        var org = await _s.NewOrg();
        var workosOrg = WorkOs.NewId("org");
        await app.WithDbAsync(db => db.Organizations.Where(o => o.Id == org.Id).ExecuteUpdateAsync(s => s.SetProperty(o => o.WorkosOrganizationId, workosOrg)));
        var member = RosterApp.NewUser("member");
        var membershipId = await _s.AddActive(org.Id, org.Owner, member);
        await (await _s.As(org.Owner).PatchJson($"/api/organizations/{org.Id}/members/{membershipId}", new { role = "admin" })).ShouldBe(HttpStatusCode.OK);
        await (await _s.As(org.Owner).DeleteAsync($"/api/organizations/{org.Id}/members/{membershipId}")).ShouldBe(HttpStatusCode.NoContent);

        Assert.False(await app.WithDbAsync(db => db.NotificationOutbox.AnyAsync(n => n.Kind.StartsWith("workos_") && n.Payload.Contains(membershipId.ToString()))));
    }
}

public sealed class StandaloneTestsOnSqlite(SqliteApp app) : StandaloneTests(app), IClassFixture<SqliteApp>;

public sealed class StandaloneTestsOnPostgres(PostgresApp app) : StandaloneTests(app), IClassFixture<PostgresApp>;
