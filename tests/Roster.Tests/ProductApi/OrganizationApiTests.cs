using System.Net;
using Microsoft.EntityFrameworkCore;
using Roster.Tests.Support;

namespace Roster.Tests.ProductApi;

/// <summary>GET /api/organizations, GET/PATCH/DELETE /api/organizations/{orgId} and GET …/audit, over HTTP.</summary>
public abstract class OrganizationApiTests(RosterApp app)
{
    private readonly Scenario _s = new(app);

    [Fact]
    public async Task MyOrganizationsListsWhereICanWorkWithMyRoleAndMembership()
    {
        var me = RosterApp.NewUser("me");
        var mine = await _s.NewOrg(me);
        var elsewhere = await _s.NewOrg();
        var adminMembership = await _s.AddActive(elsewhere.Id, elsewhere.Owner, me, "admin");
        var invitedTo = await _s.NewOrg();
        await _s.Invite(invitedTo.Id, invitedTo.Owner, me);
        var askedToJoin = await _s.NewOrg();
        await _s.RequestToJoin(askedToJoin.Id, me);

        var list = await (await _s.As(me).GetAsync("/api/organizations")).ShouldBe(HttpStatusCode.OK);

        var rows = list.AsArray().Select(o => (Id: Guid.Parse(o!.Str("id")), Role: o!.Str("role"), Membership: Guid.Parse(o!.Str("membershipId")))).ToList();
        var ownMembership = await app.WithDbAsync(db => db.Memberships.Where(m => m.OrganizationId == mine.Id).Select(m => m.Id).SingleAsync());
        Assert.Equal([(mine.Id, "owner", ownMembership), (elsewhere.Id, "admin", adminMembership)], rows);
        Assert.Equal($"Org of {me.Name}", list[0]!.Str("name"));
        Assert.NotNull(list[0]!["createdAt"]);
    }

    [Fact]
    public async Task ReadingAnOrganizationGivesMyRoleAndNullToAPlatformAdminWhoIsNotAMember()
    {
        var staffed = await _s.NewStaffedOrg();

        var asAdmin = await (await _s.As(staffed.Admin).GetAsync($"/api/organizations/{staffed.Id}")).ShouldBe(HttpStatusCode.OK);
        var asPlatform = await (await _s.As(staffed.PlatformAdmin).GetAsync($"/api/organizations/{staffed.Id}")).ShouldBe(HttpStatusCode.OK);

        Assert.Equal((staffed.Id.ToString(), "admin", "company_icl"), (asAdmin.Str("id"), asAdmin.Str("role"), asAdmin.Str("plan")));
        Assert.Null(asPlatform["role"]);
        await (await _s.As(staffed.Outsider).GetAsync($"/api/organizations/{staffed.Id}")).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task AnOwnerRenamesTheOrganizationAndTheRenameIsAudited()
    {
        var staffed = await _s.NewStaffedOrg();

        var renamed = await (await _s.As(staffed.Owner).PatchJson($"/api/organizations/{staffed.Id}", new { name = "  Acme Renamed  " }))
            .ShouldBe(HttpStatusCode.OK);

        Assert.Equal(("Acme Renamed", "owner"), (renamed.Str("name"), renamed.Str("role")));
        var read = await (await _s.As(staffed.Member).GetAsync($"/api/organizations/{staffed.Id}")).ShouldBe(HttpStatusCode.OK);
        Assert.Equal("Acme Renamed", read.Str("name"));
        var audit = await (await _s.As(staffed.Owner).GetAsync($"/api/organizations/{staffed.Id}/audit")).ShouldBe(HttpStatusCode.OK);
        Assert.Equal(("organization_renamed", "api"), (audit[0]!.Str("action"), audit[0]!.Str("via")));
        await (await _s.As(staffed.Admin).PatchJson($"/api/organizations/{staffed.Id}", new { name = "Nope" }))
            .ShouldBeProblem(HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task DeletingTombstonesTheOrganizationAndEveryMembershipWithAnAuditRowEach()
    {
        var staffed = await _s.NewStaffedOrg();
        var invitation = await _s.Invite(staffed.Id, staffed.Owner, RosterApp.NewUser("invitee"));

        await (await _s.As(staffed.Owner).DeleteAsync($"/api/organizations/{staffed.Id}")).ShouldBe(HttpStatusCode.NoContent);

        var org = await app.WithDbAsync(db => db.Organizations.AsNoTracking().SingleAsync(o => o.Id == staffed.Id));
        Assert.NotNull(org.DeletedAt);
        var memberships = await app.MembershipsOfAsync(staffed.Id);
        Assert.Equal(4, memberships.Count);
        Assert.All(memberships, m => Assert.NotNull(m.DeletedAt));
        var audited = await app.WithDbAsync(db => db.AuditEvents.Where(a => a.OrganizationId == staffed.Id && a.Action == "removed")
            .Select(a => a.MembershipId!.Value).ToListAsync());
        Assert.Equal(memberships.Select(m => m.Id).Order(), audited.Order());
        Assert.Contains(invitation, audited);
        await (await _s.As(staffed.Owner).GetAsync($"/api/organizations/{staffed.Id}")).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
        Assert.DoesNotContain((await (await _s.As(staffed.Member).GetAsync("/api/organizations")).ShouldBe(HttpStatusCode.OK)).AsArray(),
            o => o!.Str("id") == staffed.Id.ToString());
    }

    [Fact]
    public async Task AnOrganizationLinkedToWorkOsIsDeletedInWorkOsNotHere()
    {
        var org = await _s.NewOrg();
        await app.WithDbAsync(db => db.Organizations.Where(o => o.Id == org.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(o => o.WorkosOrganizationId, WorkOs.NewId("org"))));

        await (await _s.As(org.Owner).DeleteAsync($"/api/organizations/{org.Id}")).ShouldBeProblem(HttpStatusCode.Conflict, "managed_by_workos");

        Assert.Null((await app.WithDbAsync(db => db.Organizations.AsNoTracking().SingleAsync(o => o.Id == org.Id))).DeletedAt);
    }

    [Fact]
    public async Task TheAuditListsTheHistoryNewestFirstWithEveryFieldAndFilters()
    {
        var staffed = await _s.NewStaffedOrg();
        await (await _s.As(staffed.Owner).PatchJson($"/api/organizations/{staffed.Id}/members/{staffed.MemberMembershipId}", new { role = "billing" }))
            .ShouldBe(HttpStatusCode.OK);

        var all = await (await _s.As(staffed.Admin).GetAsync($"/api/organizations/{staffed.Id}/audit")).ShouldBe(HttpStatusCode.OK);

        var newest = all[0]!;
        var ownerUserId = await _s.UserIdOf(staffed.Owner);
        var memberUserId = await _s.UserIdOf(staffed.Member);
        Assert.Equal(("role_changed", ownerUserId.ToString(), staffed.Owner.Name, memberUserId.ToString(), staffed.Member.Email),
            (newest.Str("action"), newest.Str("actorUserId"), newest.Str("actorName"), newest.Str("subjectUserId"), newest.Str("subjectEmail")));
        Assert.Equal((staffed.MemberMembershipId.ToString(), "member", "billing", "active", "active", "owner_add", "api"),
            (newest.Str("membershipId"), newest.Str("oldRole"), newest.Str("newRole"), newest.Str("oldStatus"), newest.Str("newStatus"),
                newest.Str("source"), newest.Str("via")));
        var times = all.AsArray().Select(a => DateTime.Parse(a!.Str("at"), null, System.Globalization.DateTimeStyles.RoundtripKind)).ToList();
        Assert.Equal(times.OrderDescending(), times);
        Assert.Equal("founded", all.AsArray()[^1]!.Str("action"));

        var ofMember = await (await _s.As(staffed.Owner).GetAsync($"/api/organizations/{staffed.Id}/audit?membershipId={staffed.MemberMembershipId}"))
            .ShouldBe(HttpStatusCode.OK);
        Assert.Equal(["role_changed", "accepted", "added"], ofMember.AsArray().Select(a => a!.Str("action")));
        var byUser = await (await _s.As(staffed.Owner).GetAsync($"/api/organizations/{staffed.Id}/audit?userId={memberUserId}"))
            .ShouldBe(HttpStatusCode.OK);
        Assert.Equal(["role_changed", "accepted", "added"], byUser.AsArray().Select(a => a!.Str("action")));
        await (await _s.As(staffed.Member).GetAsync($"/api/organizations/{staffed.Id}/audit")).ShouldBeProblem(HttpStatusCode.Forbidden, "forbidden");
    }
}

public sealed class OrganizationApiTestsOnSqlite(SqliteApp app) : OrganizationApiTests(app), IClassFixture<SqliteApp>;

public sealed class OrganizationApiTestsOnPostgres(PostgresApp app) : OrganizationApiTests(app), IClassFixture<PostgresApp>;
