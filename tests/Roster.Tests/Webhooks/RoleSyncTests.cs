using System.Net;
using Microsoft.EntityFrameworkCore;
using Roster.Tests.Support;

namespace Roster.Tests.Webhooks;

public abstract class RoleSyncTests(RosterApp app)
{
    private readonly Scenario _s = new(app);
    private readonly HttpClient _workos = app.ClientFor(null);

    private async Task<(string WorkosId, Guid Id, TestUser Member, Guid MembershipId, string OmId)> OrgWithWorkOsMember(params string[] roles)
    {
        var workosId = WorkOs.NewId("org");
        await _workos.DeliverOk(WorkOs.Envelope("organization.created", WorkOs.Organization(workosId, "Acme")));
        var member = RosterApp.NewUser("member");
        var omId = WorkOs.NewId("om");
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.MembershipWithRoles(omId, member.Sub, workosId, roles))));
        var id = await app.WithDbAsync(db => db.Organizations.Where(o => o.WorkosOrganizationId == workosId).Select(o => o.Id).SingleAsync());
        await _s.UserIdOf(member);
        var membershipId = await app.WithDbAsync(db => db.Memberships.Where(m => m.WorkosMembershipId == omId).Select(m => m.Id).SingleAsync());
        return (workosId, id, member, membershipId, omId);
    }

    private async Task<List<string>> SlugsOf(TestUser caller, Guid orgId, Guid membershipId) =>
        (await (await _s.As(caller).GetAsync($"/api/organizations/{orgId}/members/{membershipId}/roles")).ShouldBe(HttpStatusCode.OK))
            .AsArray().Select(r => r!.Str("slug")).Order(StringComparer.Ordinal).ToList();

    [Fact]
    public async Task RoleEventsAreListedForMembersWithOrganizationRolesBesideEnvironmentRoles()
    {
        var slug = $"viewer-{Guid.NewGuid():N}"[..20];
        var org = await OrgWithWorkOsMember("member");
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("role.created", WorkOs.Role(slug, "Viewer", ["posts:read"]))));
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization_role.created", WorkOs.Role("org-billing-admin", "Billing admin", ["billing:manage"], org.WorkosId))));

        var roles = (await (await _s.As(org.Member).GetAsync($"/api/organizations/{org.Id}/roles")).ShouldBe(HttpStatusCode.OK)).AsArray();

        var viewer = Assert.Single(roles, r => r!.Str("slug") == slug)!;
        Assert.Equal(("environment", "Viewer", "posts:read"), (viewer.Str("type"), viewer.Str("name"), viewer["permissions"]![0]!.GetValue<string>()));
        Assert.StartsWith("role:global:", viewer.Str("urn"));
        var billing = Assert.Single(roles, r => r!.Str("slug") == "org-billing-admin")!;
        Assert.Equal("organization", billing.Str("type"));
        Assert.StartsWith("role:organization:", billing.Str("urn"));
        await (await _s.As(RosterApp.NewUser("outsider")).GetAsync($"/api/organizations/{org.Id}/roles")).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task AMembershipEventMakesTheAssignmentsMatchItsRolesExactly()
    {
        var org = await OrgWithWorkOsMember("member", "org-editor");
        Assert.Equal(["member", "org-editor"], await SlugsOf(org.Member, org.Id, org.MembershipId));

        await _workos.DeliverOk(WorkOs.Envelope("organization_membership.updated",
            WorkOs.MembershipWithRoles(org.OmId, org.Member.Sub, org.WorkosId, ["admin", "org-billing"], updatedAt: DateTime.UtcNow.AddSeconds(5))));

        Assert.Equal(["admin", "org-billing"], await SlugsOf(org.Member, org.Id, org.MembershipId));
        var live = await app.WithDbAsync(db => db.RoleAssignments.CountAsync(a => a.OrganizationId == org.Id && a.DeletedAt == null));
        var gone = await app.WithDbAsync(db => db.RoleAssignments.CountAsync(a => a.OrganizationId == org.Id && a.DeletedAt != null));
        Assert.Equal((2, 2), (live, gone));
    }

    [Fact]
    public async Task AnOrganizationRoleWinsOverAnEnvironmentRoleOfTheSameSlug()
    {
        var org = await OrgWithWorkOsMember("member");
        await _workos.DeliverOk(WorkOs.Envelope("role.created", WorkOs.Role("org-shared", "Environment flavour")));
        await _workos.DeliverOk(WorkOs.Envelope("organization_role.created", WorkOs.Role("org-shared", "Organization flavour", orgId: org.WorkosId)));

        await _workos.DeliverOk(WorkOs.Envelope("organization_membership.updated",
            WorkOs.MembershipWithRoles(org.OmId, org.Member.Sub, org.WorkosId, ["org-shared"], updatedAt: DateTime.UtcNow.AddSeconds(5))));

        var roles = (await (await _s.As(org.Member).GetAsync($"/api/organizations/{org.Id}/members/{org.MembershipId}/roles")).ShouldBe(HttpStatusCode.OK)).AsArray();
        Assert.Equal("Organization flavour", Assert.Single(roles)!.Str("name"));
    }

    [Fact]
    public async Task AssignmentsMadeBeforeTheUserWasKnownAreLinkedWhenTheySignIn()
    {
        var workosId = WorkOs.NewId("org");
        await _workos.DeliverOk(WorkOs.Envelope("organization.created", WorkOs.Organization(workosId, "Acme")));
        var newcomer = RosterApp.NewUser("newcomer");
        await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.MembershipWithRoles(WorkOs.NewId("om"), newcomer.Sub, workosId, ["member", "org-editor"])));
        Assert.All(await app.WithDbAsync(db => db.RoleAssignments.Where(a => a.WorkosUserId == newcomer.Sub).ToListAsync()), a => Assert.Null(a.UserId));

        var userId = await _s.UserIdOf(newcomer);

        var linked = await app.WithDbAsync(db => db.RoleAssignments.Where(a => a.WorkosUserId == newcomer.Sub).ToListAsync());
        Assert.Equal(2, linked.Count);
        Assert.All(linked, a => Assert.Equal(userId, a.UserId));
    }

    [Fact]
    public async Task LeavingOrLosingTheMembershipClearsTheAssignments()
    {
        var org = await OrgWithWorkOsMember("member", "org-editor");

        await _workos.DeliverOk(WorkOs.Envelope("organization_membership.updated",
            WorkOs.MembershipWithRoles(org.OmId, org.Member.Sub, org.WorkosId, ["member", "org-editor"], status: "inactive", updatedAt: DateTime.UtcNow.AddSeconds(5))));

        Assert.Equal(0, await app.WithDbAsync(db => db.RoleAssignments.CountAsync(a => a.OrganizationId == org.Id && a.DeletedAt == null)));
    }

    [Fact]
    public async Task ADeletedRoleDisappearsAndAReplayedCreateDoesNotBringItBack()
    {
        var slug = $"temp-{Guid.NewGuid():N}"[..18];
        var org = await OrgWithWorkOsMember("member");
        var t0 = DateTime.UtcNow.AddMinutes(-5);
        await _workos.DeliverOk(WorkOs.Envelope("role.created", WorkOs.Role(slug, "Temp", updatedAt: t0)));
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("role.deleted", WorkOs.Role(slug, "Temp", updatedAt: t0.AddMinutes(1)))));
        Assert.Equal("stale", await _workos.DeliverOk(WorkOs.Envelope("role.created", WorkOs.Role(slug, "Temp", updatedAt: t0))));

        var roles = (await (await _s.As(org.Member).GetAsync($"/api/organizations/{org.Id}/roles")).ShouldBe(HttpStatusCode.OK)).AsArray();
        Assert.DoesNotContain(roles, r => r!.Str("slug") == slug);
        // WorkOS re-creating the slug later (a newer event) brings it back.
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("role.created", WorkOs.Role(slug, "Temp again", updatedAt: t0.AddMinutes(2)))));
    }
}

public sealed class RoleSyncTestsOnSqlite(SqliteApp app) : RoleSyncTests(app), IClassFixture<SqliteApp>;

public sealed class RoleSyncTestsOnPostgres(PostgresApp app) : RoleSyncTests(app), IClassFixture<PostgresApp>;
