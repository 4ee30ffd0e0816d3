using System.Net;
using Microsoft.EntityFrameworkCore;
using Roster.Tests.Support;

namespace Roster.Tests.Webhooks;

/// <summary>Memberships that live through both Roster and WorkOS: deactivation, re-adding, local changes racing WorkOS events.</summary>
public abstract class MembershipLifecycleTests(RosterApp app)
{
    private readonly Scenario _s = new(app);
    private readonly HttpClient _workos = app.ClientFor(null);

    private async Task<(Org Org, string WorkosOrgId)> LocalOrgKnownToWorkOs()
    {
        var org = await _s.NewOrg(plan: "company_icl");
        var workosOrgId = WorkOs.NewId("org");
        await app.WithDbAsync(db => db.Organizations.Where(o => o.Id == org.Id).ExecuteUpdateAsync(s => s.SetProperty(o => o.WorkosOrganizationId, workosOrgId)));
        return (org, workosOrgId);
    }

    [Fact]
    public async Task SomeoneWorkOsDeactivatedCanBeAddedAgainOrAskToJoinAgain()
    {
        var (org, workosOrgId) = await LocalOrgKnownToWorkOs();
        var person = RosterApp.NewUser("returning");
        var userId = await _s.UserIdOf(person);
        var omId = WorkOs.NewId("om");
        await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(omId, person.Sub, workosOrgId, updatedAt: DateTime.UtcNow.AddMinutes(-2))));
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.updated", WorkOs.Membership(omId, person.Sub, workosOrgId, status: "inactive"))));

        var requestId = await _s.RequestToJoin(org.Id, person);
        await (await _s.As(org.Owner).PutJson($"/api/organizations/{org.Id}/requests/{requestId}/approve")).ShouldBe(HttpStatusCode.OK);

        var live = (await app.MembershipsOfAsync(org.Id)).Where(m => m.UserId == userId && m.DeletedAt == null).ToList();
        Assert.Equal("active", Assert.Single(live).Status);
    }

    [Fact]
    public async Task AnOwnerCanAddBackSomeoneWorkOsDeactivated()
    {
        var (org, workosOrgId) = await LocalOrgKnownToWorkOs();
        var person = RosterApp.NewUser("returning");
        var userId = await _s.UserIdOf(person);
        var omId = WorkOs.NewId("om");
        await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(omId, person.Sub, workosOrgId, status: "inactive")));

        var body = await (await _s.As(org.Owner).PostJson($"/api/organizations/{org.Id}/members", new { userId })).ShouldBe(HttpStatusCode.Created);

        Assert.Equal("pending", body.Str("status"));
        Assert.Single(await app.MembershipsOfAsync(org.Id), m => m.UserId == userId && m.DeletedAt == null);
    }

    [Fact]
    public async Task ARemovedAndReAddedPersonsNewMembershipArrivingFirstReplacesTheOldOne()
    {
        var (org, workosOrgId) = await LocalOrgKnownToWorkOs();
        var person = RosterApp.NewUser("again");
        var userId = await _s.UserIdOf(person);
        var (oldOm, newOm) = (WorkOs.NewId("om"), WorkOs.NewId("om"));
        await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(oldOm, person.Sub, workosOrgId, updatedAt: DateTime.UtcNow.AddMinutes(-10))));

        // WorkOS removed om_old and created om_new; the new one's event overtakes the old one's deletion.
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(newOm, person.Sub, workosOrgId, role: "admin"))));
        // The old membership's own deletion then lands on its (already superseded) row and leaves the new one alone.
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.deleted", WorkOs.Membership(oldOm, person.Sub, workosOrgId, updatedAt: DateTime.UtcNow.AddMinutes(-5)))));

        var live = Assert.Single(await app.MembershipsOfAsync(org.Id), m => m.UserId == userId && m.DeletedAt == null);
        Assert.Equal((newOm, "admin"), (live.WorkosMembershipId, live.Role));
    }

    [Fact]
    public async Task ARoleChangedInRosterLeavesWorkOsTimeAloneAndWorkOsEchoOfTheChangeSettlesIt()
    {
        var (org, workosOrgId) = await LocalOrgKnownToWorkOs();
        var person = RosterApp.NewUser("promoted");
        await _s.UserIdOf(person);
        var omId = WorkOs.NewId("om");
        var sent = DateTime.UtcNow.AddSeconds(-30);
        await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(omId, person.Sub, workosOrgId, updatedAt: sent)));
        var membershipId = (await app.MembershipsOfAsync(org.Id)).Single(m => m.WorkosMembershipId == omId).Id;

        await (await _s.As(org.Owner).PatchJson($"/api/organizations/{org.Id}/members/{membershipId}", new { role = "admin" })).ShouldBe(HttpStatusCode.OK);
        // workos_updated_at holds WorkOS's clock only: Roster's own clock is never compared with WorkOS's.
        var changed = (await app.MembershipsOfAsync(org.Id)).Single(m => m.Id == membershipId);
        Assert.Equal(("admin", WorkOs.Iso(sent)), (changed.Role, WorkOs.Iso(changed.WorkosUpdatedAt!.Value)));

        // An event WorkOS made before it heard of the change is newer than anything Roster has seen from WorkOS: it applies...
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.updated", WorkOs.Membership(omId, person.Sub, workosOrgId, role: "member", updatedAt: sent.AddSeconds(1)))));
        // ...and WorkOS's echo of Roster's outbound role update, made after it, settles the role where Roster put it.
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.updated", WorkOs.Membership(omId, person.Sub, workosOrgId, role: "admin", updatedAt: sent.AddSeconds(2)))));
        Assert.Equal("admin", (await app.MembershipsOfAsync(org.Id)).Single(m => m.Id == membershipId).Role);
    }

    [Fact]
    public async Task AUserDeletedInWorkOsCanNoLongerUseTheirToken()
    {
        var person = RosterApp.NewUser("leaving");
        await _s.UserIdOf(person);

        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("user.deleted", WorkOs.User(person.Sub, person.Email))));

        await (await _s.As(person).GetAsync("/api/membership-requests/mine")).ShouldBeProblem(HttpStatusCode.Unauthorized, "unauthorized");
        // Their email is free for a new WorkOS account.
        var successor = new TestUser(WorkOs.NewId("user"), person.Email, "Successor");
        await (await _s.As(successor).GetAsync("/api/membership-requests/mine")).ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task ControlCharactersAreRefusedAsBadInputOnBothProviders()
    {
        var founder = RosterApp.NewUser("founder");
        await (await _s.As(founder).SendRaw(HttpMethod.Post, "/api/organizations", """{"name":"Acme\u0000Corp"}"""))
            .ShouldBeProblem(HttpStatusCode.BadRequest, "validation_failed");
        var org = await _s.NewOrg();
        var search = await _s.As(org.Owner).GetAsync($"/api/organizations/{org.Id}/members/search?email=a%00b%40example.com");
        Assert.True((int)search.StatusCode is 400 or 404, $"got {(int)search.StatusCode}");
        Assert.Equal("application/problem+json", search.Content.Headers.ContentType?.MediaType);
    }
}

public sealed class MembershipLifecycleTestsOnSqlite(SqliteApp app) : MembershipLifecycleTests(app), IClassFixture<SqliteApp>;

public sealed class MembershipLifecycleTestsOnPostgres(PostgresApp app) : MembershipLifecycleTests(app), IClassFixture<PostgresApp>;
