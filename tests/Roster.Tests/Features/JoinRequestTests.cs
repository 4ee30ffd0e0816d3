using System.Net;
using Microsoft.EntityFrameworkCore;
using Roster.Tests.Support;

namespace Roster.Tests.Features;

public abstract class JoinRequestTests(RosterApp app)
{
    private readonly Scenario _s = new(app);

    [Fact]
    public async Task AVerifiedUserAsksToJoinAndTheRequestWaitsForAnOwner()
    {
        var org = await _s.NewOrg();
        var requester = RosterApp.NewUser("requester");

        var body = await (await _s.As(requester).PostAsync($"/api/organizations/{org.Id}/requests", null)).ShouldBe(HttpStatusCode.Created);

        Assert.Equal(("pending", "join_request", "member"), (body.Str("status"), body.Str("source"), body.Str("role")));
        var mine = (await (await _s.As(requester).GetAsync("/api/membership-requests/mine")).ShouldBe(HttpStatusCode.OK)).AsArray();
        Assert.Equal(body.Str("id"), Assert.Single(mine)!.Str("id"));
        Assert.Equal($"Org of {org.Owner.Name}", mine[0]!.Str("organizationName"));
        var listed = (await (await _s.As(org.Owner).GetAsync($"/api/organizations/{org.Id}/requests")).ShouldBe(HttpStatusCode.OK)).AsArray();
        Assert.Equal(body.Str("id"), Assert.Single(listed)!.Str("id"));
        // A join request reserves nothing and is not a member yet.
        var members = (await (await _s.As(org.Owner).GetAsync($"/api/organizations/{org.Id}/members")).ShouldBe(HttpStatusCode.OK)).AsArray();
        Assert.DoesNotContain(members, m => m!.Str("id") == body.Str("id"));
        var seats = await (await _s.As(org.Owner).GetAsync($"/api/organizations/{org.Id}/seats")).ShouldBe(HttpStatusCode.OK);
        Assert.Equal(0, seats["seatTypes"]!.AsArray().Single(t => t!.Str("seatType") == "contributor")!["reserved"]!.GetValue<int>());
    }

    [Fact]
    public async Task AnUnverifiedEmailCannotAskToJoin()
    {
        var org = await _s.NewOrg();
        await (await _s.As(RosterApp.NewUser("unverified", verified: false)).PostAsync($"/api/organizations/{org.Id}/requests", null))
            .ShouldBeProblem(HttpStatusCode.Forbidden, "email_not_verified");
        Assert.Single(await app.MembershipsOfAsync(org.Id));
    }

    [Fact]
    public async Task AskingToJoinAnUnknownOrganizationIsNotFound()
    {
        await (await _s.As(RosterApp.NewUser()).PostAsync($"/api/organizations/{Guid.NewGuid()}/requests", null))
            .ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task AUserHasOnePendingJoinRequestAcrossAllOrganizations()
    {
        var first = await _s.NewOrg();
        var second = await _s.NewOrg();
        var requester = RosterApp.NewUser("requester");
        await _s.RequestToJoin(first.Id, requester);

        await (await _s.As(requester).PostAsync($"/api/organizations/{first.Id}/requests", null)).ShouldBeProblem(HttpStatusCode.Conflict, "join_request_pending");
        await (await _s.As(requester).PostAsync($"/api/organizations/{second.Id}/requests", null)).ShouldBeProblem(HttpStatusCode.Conflict, "join_request_pending");
    }

    [Fact]
    public async Task APendingInvitationToTheSameOrganizationBlocksAJoinRequest()
    {
        var org = await _s.NewOrg();
        var invitee = RosterApp.NewUser("invitee");
        await _s.Invite(org.Id, org.Owner, invitee);

        await (await _s.As(invitee).PostAsync($"/api/organizations/{org.Id}/requests", null)).ShouldBeProblem(HttpStatusCode.Conflict, "invitation_pending");
    }

    [Fact]
    public async Task APendingInvitationElsewhereDoesNotBlockAJoinRequest()
    {
        var inviting = await _s.NewOrg();
        var other = await _s.NewOrg();
        var person = RosterApp.NewUser("person");
        await _s.Invite(inviting.Id, inviting.Owner, person);

        await (await _s.As(person).PostAsync($"/api/organizations/{other.Id}/requests", null)).ShouldBe(HttpStatusCode.Created);
    }

    [Fact]
    public async Task AnActiveMemberCannotAskToJoinAgain()
    {
        var org = await _s.NewOrg();
        await (await _s.As(org.Owner).PostAsync($"/api/organizations/{org.Id}/requests", null)).ShouldBeProblem(HttpStatusCode.Conflict, "already_member");
    }

    [Fact]
    public async Task AnAdminApprovesAJoinRequestAndItBecomesActive()
    {
        var staffed = await _s.NewStaffedOrg();
        var requester = RosterApp.NewUser("requester");
        var requestId = await _s.RequestToJoin(staffed.Id, requester);

        var body = await (await _s.As(staffed.Admin).PutJson($"/api/organizations/{staffed.Id}/requests/{requestId}/approve")).ShouldBe(HttpStatusCode.OK);

        Assert.Equal(("active", "join_request", "contributor"), (body.Str("status"), body.Str("source"), body.Str("seatType")));
        Assert.Empty((await (await _s.As(requester).GetAsync("/api/membership-requests/mine")).ShouldBe(HttpStatusCode.OK)).AsArray());
        await (await _s.As(staffed.Admin).PutJson($"/api/organizations/{staffed.Id}/requests/{requestId}/approve")).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
        var audit = await app.WithDbAsync(db => db.AuditEvents.Where(a => a.MembershipId == requestId).Select(a => a.Action).ToListAsync());
        Assert.Contains("approved", audit);
    }

    [Fact]
    public async Task ApprovalMayNameTheSeatType()
    {
        var org = await _s.NewOrg();
        var requestId = await _s.RequestToJoin(org.Id, RosterApp.NewUser("requester"));

        var body = await (await _s.As(org.Owner).PutJson($"/api/organizations/{org.Id}/requests/{requestId}/approve", new { seatType = "community_only" }))
            .ShouldBe(HttpStatusCode.OK);

        Assert.Equal("community_only", body.Str("seatType"));
    }

    [Fact]
    public async Task ApprovalIsRefusedWhenTheSeatTypeIsFull()
    {
        var org = await _s.NewOrg(plan: "individual_professional");
        var requestId = await _s.RequestToJoin(org.Id, RosterApp.NewUser("requester"));

        await (await _s.As(org.Owner).PutJson($"/api/organizations/{org.Id}/requests/{requestId}/approve")).ShouldBeProblem(HttpStatusCode.Conflict, "seat_limit_reached");
        Assert.Equal("pending", (await app.MembershipsOfAsync(org.Id)).Single(m => m.Id == requestId).Status);
    }

    [Fact]
    public async Task RejectingRemovesTheRequestAndIsAudited()
    {
        var org = await _s.NewOrg();
        var requester = RosterApp.NewUser("requester");
        var requestId = await _s.RequestToJoin(org.Id, requester);

        await (await _s.As(org.Owner).PutJson($"/api/organizations/{org.Id}/requests/{requestId}/reject")).ShouldBe(HttpStatusCode.NoContent);
        await (await _s.As(org.Owner).PutJson($"/api/organizations/{org.Id}/requests/{requestId}/reject")).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");

        Assert.Empty((await (await _s.As(org.Owner).GetAsync($"/api/organizations/{org.Id}/requests")).ShouldBe(HttpStatusCode.OK)).AsArray());
        Assert.NotNull((await app.MembershipsOfAsync(org.Id)).Single(m => m.Id == requestId).DeletedAt);
        Assert.Contains("rejected", await app.WithDbAsync(db => db.AuditEvents.Where(a => a.MembershipId == requestId).Select(a => a.Action).ToListAsync()));
        // Rejected, the requester may ask again (here or elsewhere).
        await _s.RequestToJoin(org.Id, requester);
    }

    [Fact]
    public async Task ARequestOfAnotherOrganizationIsInvisibleToThisOrganizationsOwner()
    {
        var mine = await _s.NewOrg();
        var theirs = await _s.NewOrg();
        var requestId = await _s.RequestToJoin(theirs.Id, RosterApp.NewUser("requester"));

        await (await _s.As(mine.Owner).PutJson($"/api/organizations/{mine.Id}/requests/{requestId}/approve")).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
        await (await _s.As(mine.Owner).PutJson($"/api/organizations/{mine.Id}/requests/{requestId}/reject")).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
        Assert.Equal("pending", (await app.MembershipsOfAsync(theirs.Id)).Single(m => m.Id == requestId).Status);
    }

    [Fact]
    public async Task TheRequesterMayWithdrawTheirJoinRequest()
    {
        var org = await _s.NewOrg();
        var requester = RosterApp.NewUser("requester");
        var requestId = await _s.RequestToJoin(org.Id, requester);

        await (await _s.As(org.Owner).DeleteAsync($"/api/membership-requests/{requestId}")).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
        await (await _s.As(requester).DeleteAsync($"/api/membership-requests/{requestId}")).ShouldBe(HttpStatusCode.NoContent);

        Assert.Empty((await (await _s.As(requester).GetAsync("/api/membership-requests/mine")).ShouldBe(HttpStatusCode.OK)).AsArray());
    }
}

public sealed class JoinRequestTestsOnSqlite(SqliteApp app) : JoinRequestTests(app), IClassFixture<SqliteApp>;

public sealed class JoinRequestTestsOnPostgres(PostgresApp app) : JoinRequestTests(app), IClassFixture<PostgresApp>;
