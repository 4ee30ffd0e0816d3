using System.Net;
using Microsoft.EntityFrameworkCore;
using Roster.Tests.Support;

namespace Roster.Tests.Features;

/// <summary>The consent matrix: an owner_add becomes ACTIVE only when the invitee accepts it.</summary>
public abstract class ConsentTests(RosterApp app)
{
    private readonly Scenario _s = new(app);

    [Fact]
    public async Task InviteeAcceptsAnOwnerAddAndBecomesAnActiveMember()
    {
        var org = await _s.NewOrg();
        var invitee = RosterApp.NewUser("invitee");
        var membershipId = await _s.Invite(org.Id, org.Owner, invitee);

        var body = await (await _s.As(invitee).PutJson($"/api/membership-requests/{membershipId}/accept")).ShouldBe(HttpStatusCode.OK);

        Assert.Equal("active", body.Str("status"));
        Assert.Equal("owner_add", body.Str("source"));
        Assert.Equal(invitee.Email, body.Str("email"));
        var audit = await app.WithDbAsync(db => db.AuditEvents.Where(a => a.MembershipId == membershipId).Select(a => a.Action).ToListAsync());
        Assert.Equal(["accepted", "added"], audit.Order(StringComparer.Ordinal).ToList());
    }

    [Fact]
    public async Task AnInvitationToAnOrganizationDeletedInWorkOsLeavesTheInboxAndCannotBeAccepted()
    {
        var org = await _s.NewOrg();
        var invitee = RosterApp.NewUser("invitee");
        var membershipId = await _s.Invite(org.Id, org.Owner, invitee);
        var workosOrgId = WorkOs.NewId("org");
        await app.WithDbAsync(db => db.Organizations.Where(o => o.Id == org.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(o => o.WorkosOrganizationId, workosOrgId)));
        Assert.Equal("applied", await app.CreateClient().DeliverOk(
            WorkOs.Envelope("organization.deleted", WorkOs.Organization(workosOrgId, "Gone"))));

        var inbox = await (await _s.As(invitee).GetAsync("/api/membership-requests/mine/pending")).ShouldBe(HttpStatusCode.OK);
        Assert.DoesNotContain(inbox.AsArray(), i => i!.Str("id") == membershipId.ToString());
        await (await _s.As(invitee).PutJson($"/api/membership-requests/{membershipId}/accept")).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");

        var row = (await app.MembershipsOfAsync(org.Id)).Single(m => m.Id == membershipId);
        Assert.Equal("pending", row.Status);
    }

    [Fact]
    public async Task OwnerCannotAcceptAnInvitationOnTheInviteesBehalf()
    {
        var org = await _s.NewOrg();
        var membershipId = await _s.Invite(org.Id, org.Owner, RosterApp.NewUser("invitee"));

        await (await _s.As(org.Owner).PutJson($"/api/membership-requests/{membershipId}/accept")).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");

        var row = (await app.MembershipsOfAsync(org.Id)).Single(m => m.Id == membershipId);
        Assert.Equal("pending", row.Status);
    }

    [Fact]
    public async Task NeitherAnAdminNorAPlatformAdminNorAStrangerCanAcceptSomeoneElsesInvitation()
    {
        var staffed = await _s.NewStaffedOrg();
        var membershipId = await _s.Invite(staffed.Id, staffed.Owner, RosterApp.NewUser("invitee"));

        foreach (var other in new[] { staffed.Admin, staffed.Member, staffed.Outsider, staffed.PlatformAdmin })
            await (await _s.As(other).PutJson($"/api/membership-requests/{membershipId}/accept")).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");

        Assert.Equal("pending", (await app.MembershipsOfAsync(staffed.Id)).Single(m => m.Id == membershipId).Status);
    }

    [Fact]
    public async Task AJoinRequestCannotBeAcceptedThroughTheInvitationPath()
    {
        var org = await _s.NewOrg();
        var requester = RosterApp.NewUser("requester");
        var requestId = await _s.RequestToJoin(org.Id, requester);

        await (await _s.As(requester).PutJson($"/api/membership-requests/{requestId}/accept")).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
        await (await _s.As(org.Owner).PutJson($"/api/membership-requests/{requestId}/accept")).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
        Assert.Equal("pending", (await app.MembershipsOfAsync(org.Id)).Single(m => m.Id == requestId).Status);
    }

    [Fact]
    public async Task AnActiveMembershipIsNotAcceptedTwice()
    {
        var org = await _s.NewOrg();
        var invitee = RosterApp.NewUser("invitee");
        var membershipId = await _s.AddActive(org.Id, org.Owner, invitee);

        await (await _s.As(invitee).PutJson($"/api/membership-requests/{membershipId}/accept")).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task AcceptingAnUnknownIdIsNotFound()
    {
        var someone = RosterApp.NewUser();
        await (await _s.As(someone).PutJson($"/api/membership-requests/{Guid.NewGuid()}/accept")).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
        await (await _s.As(someone).PutJson("/api/membership-requests/not-a-guid/accept")).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task TheInviteeSeesTheirPendingInvitationWithOrganizationNameAndInviter()
    {
        var org = await _s.NewOrg();
        var invitee = RosterApp.NewUser("invitee");
        var membershipId = await _s.Invite(org.Id, org.Owner, invitee);

        var list = (await (await _s.As(invitee).GetAsync("/api/membership-requests/mine/pending")).ShouldBe(HttpStatusCode.OK)).AsArray();

        var invitation = Assert.Single(list)!;
        Assert.Equal(membershipId.ToString(), invitation.Str("id"));
        Assert.Equal($"Org of {org.Owner.Name}", invitation.Str("organizationName"));
        Assert.Equal(org.Owner.Name, invitation.Str("addedByName"));
        Assert.Equal("pending", invitation.Str("status"));
        Assert.Empty((await (await _s.As(org.Owner).GetAsync("/api/membership-requests/mine/pending")).ShouldBe(HttpStatusCode.OK)).AsArray());
    }

    [Fact]
    public async Task DecliningAnInvitationRemovesItAndIsAudited()
    {
        var org = await _s.NewOrg();
        var invitee = RosterApp.NewUser("invitee");
        var membershipId = await _s.Invite(org.Id, org.Owner, invitee);

        await (await _s.As(org.Owner).DeleteAsync($"/api/membership-requests/{membershipId}")).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
        await (await _s.As(invitee).DeleteAsync($"/api/membership-requests/{membershipId}")).ShouldBe(HttpStatusCode.NoContent);

        var members = (await (await _s.As(org.Owner).GetAsync($"/api/organizations/{org.Id}/members")).ShouldBe(HttpStatusCode.OK)).AsArray();
        Assert.DoesNotContain(members, m => m!.Str("id") == membershipId.ToString());
        Assert.Empty((await (await _s.As(invitee).GetAsync("/api/membership-requests/mine/pending")).ShouldBe(HttpStatusCode.OK)).AsArray());
        await (await _s.As(invitee).PutJson($"/api/membership-requests/{membershipId}/accept")).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
        Assert.Contains("declined", await app.WithDbAsync(db => db.AuditEvents.Where(a => a.MembershipId == membershipId).Select(a => a.Action).ToListAsync()));
    }

    [Fact]
    public async Task AnOwnerAddIsInvisibleToEveryApprovalPath()
    {
        var org = await _s.NewOrg();
        var membershipId = await _s.Invite(org.Id, org.Owner, RosterApp.NewUser("invitee"));

        await (await _s.As(org.Owner).PutJson($"/api/organizations/{org.Id}/requests/{membershipId}/approve")).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
        await (await _s.As(org.Owner).PutJson($"/api/organizations/{org.Id}/requests/{membershipId}/reject")).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
        var requests = (await (await _s.As(org.Owner).GetAsync($"/api/organizations/{org.Id}/requests")).ShouldBe(HttpStatusCode.OK)).AsArray();
        Assert.Empty(requests);
        Assert.Equal("pending", (await app.MembershipsOfAsync(org.Id)).Single(m => m.Id == membershipId).Status);
    }

    [Fact]
    public async Task ChangingThePendingInviteesRoleOrSeatTypeNeverActivatesIt()
    {
        var org = await _s.NewOrg(plan: "company_icl");
        var membershipId = await _s.Invite(org.Id, org.Owner, RosterApp.NewUser("invitee"));

        var body = await (await _s.As(org.Owner).PatchJson($"/api/organizations/{org.Id}/members/{membershipId}",
            new { role = "admin", seatType = "community_only" })).ShouldBe(HttpStatusCode.OK);

        Assert.Equal("pending", body.Str("status"));
        Assert.Equal("admin", body.Str("role"));
        Assert.Equal("community_only", body.Str("seatType"));
    }

    [Fact]
    public async Task APlatformAdminAddingSomeoneStillNeedsTheInviteesConsent()
    {
        var org = await _s.NewOrg();
        var invitee = RosterApp.NewUser("invitee");
        var platformAdmin = RosterApp.NewUser("platform", admin: true);
        var userId = await _s.UserIdOf(invitee);

        var body = await (await _s.As(platformAdmin).PostJson($"/api/organizations/{org.Id}/members", new { userId, role = "owner" }))
            .ShouldBe(HttpStatusCode.Created);

        Assert.Equal("pending", body.Str("status"));
        await (await _s.As(platformAdmin).PutJson($"/api/membership-requests/{body.Str("id")}/accept")).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
    }
}

public sealed class ConsentTestsOnSqlite(SqliteApp app) : ConsentTests(app), IClassFixture<SqliteApp>;

public sealed class ConsentTestsOnPostgres(PostgresApp app) : ConsentTests(app), IClassFixture<PostgresApp>;
