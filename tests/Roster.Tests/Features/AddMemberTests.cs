using System.Net;
using Microsoft.EntityFrameworkCore;
using Roster.Tests.Support;

namespace Roster.Tests.Features;

public abstract class AddMemberTests(RosterApp app)
{
    private readonly Scenario _s = new(app);

    [Fact]
    public async Task AnOwnerAddCreatesAPendingMembershipWithTheMemberRoleByDefault()
    {
        var org = await _s.NewOrg();
        var invitee = RosterApp.NewUser("invitee");
        var userId = await _s.UserIdOf(invitee);

        var response = await _s.As(org.Owner).PostJson($"/api/organizations/{org.Id}/members", new { userId });
        var body = await response.ShouldBe(HttpStatusCode.Created);

        Assert.Equal("pending", body.Str("status"));
        Assert.Equal("owner_add", body.Str("source"));
        Assert.Equal("member", body.Str("role"));
        Assert.Equal("contributor", body.Str("seatType"));
        Assert.Equal(userId.ToString(), body.Str("userId"));
        Assert.Equal(org.Id.ToString(), body.Str("organizationId"));
        Assert.Equal(invitee.Email, body.Str("email"));
        Assert.Equal(await _s.UserIdOf(org.Owner), Guid.Parse(body.Str("addedBy")));
        Assert.EndsWith($"/api/organizations/{org.Id}/members/{body.Str("id")}", response.Headers.Location!.ToString());
        var audit = await app.WithDbAsync(db => db.AuditEvents.SingleAsync(a => a.MembershipId == Guid.Parse(body.Str("id"))));
        Assert.Equal(("added", "pending", "owner_add"), (audit.Action, audit.NewStatus, audit.Source));
    }

    [Fact]
    public async Task AUserCanBeAddedByTheirWorkOsIdAndTheOrgAddressedByItsWorkOsId()
    {
        var org = await _s.NewOrg();
        var workosOrgId = $"org_{Guid.NewGuid():N}";
        await app.WithDbAsync(db => db.Organizations.Where(o => o.Id == org.Id).ExecuteUpdateAsync(s => s.SetProperty(o => o.WorkosOrganizationId, workosOrgId)));
        var invitee = RosterApp.NewUser("invitee");
        await _s.UserIdOf(invitee);

        var body = await (await _s.As(org.Owner).PostJson($"/api/organizations/{workosOrgId}/members", new { userId = invitee.Sub }))
            .ShouldBe(HttpStatusCode.Created);

        Assert.Equal(org.Id.ToString(), body.Str("organizationId"));
    }

    [Fact]
    public async Task AddingAnActiveMemberAgainIsAlreadyMember()
    {
        var org = await _s.NewOrg();
        var member = RosterApp.NewUser("member");
        await _s.AddActive(org.Id, org.Owner, member);

        await (await _s.As(org.Owner).PostJson($"/api/organizations/{org.Id}/members", new { userId = await _s.UserIdOf(member) }))
            .ShouldBeProblem(HttpStatusCode.Conflict, "already_member");
    }

    [Fact]
    public async Task AddingSomeoneWithAPendingInvitationOrJoinRequestIsPendingMembershipExists()
    {
        var org = await _s.NewOrg();
        var invited = RosterApp.NewUser("invited");
        await _s.Invite(org.Id, org.Owner, invited);
        var requester = RosterApp.NewUser("requester");
        await _s.RequestToJoin(org.Id, requester);

        await (await _s.As(org.Owner).PostJson($"/api/organizations/{org.Id}/members", new { userId = await _s.UserIdOf(invited) }))
            .ShouldBeProblem(HttpStatusCode.Conflict, "pending_membership_exists");
        await (await _s.As(org.Owner).PostJson($"/api/organizations/{org.Id}/members", new { userId = await _s.UserIdOf(requester) }))
            .ShouldBeProblem(HttpStatusCode.Conflict, "pending_membership_exists");
        Assert.Equal(3, (await app.MembershipsOfAsync(org.Id)).Count);
    }

    [Fact]
    public async Task AddingAnUnknownUserIsUserNotFound()
    {
        var org = await _s.NewOrg();
        await (await _s.As(org.Owner).PostJson($"/api/organizations/{org.Id}/members", new { userId = Guid.NewGuid() }))
            .ShouldBeProblem(HttpStatusCode.NotFound, "user_not_found");
        await (await _s.As(org.Owner).PostJson($"/api/organizations/{org.Id}/members", new { userId = "user_nobody" }))
            .ShouldBeProblem(HttpStatusCode.NotFound, "user_not_found");
    }

    [Fact]
    public async Task AMissingUserIdIsAValidationProblem()
    {
        var org = await _s.NewOrg();
        var body = await (await _s.As(org.Owner).PostJson($"/api/organizations/{org.Id}/members", new { role = "member" }))
            .ShouldBeProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(body["errors"]!["userId"]);
    }

    [Fact]
    public async Task AnAdminCannotGrantAdminOrOwnerButAnOwnerAndAPlatformAdminCan()
    {
        var staffed = await _s.NewStaffedOrg();
        var target = RosterApp.NewUser("target");
        var userId = await _s.UserIdOf(target);

        foreach (var role in new[] { "admin", "owner" })
            await (await _s.As(staffed.Admin).PostJson($"/api/organizations/{staffed.Id}/members", new { userId, role }))
                .ShouldBeProblem(HttpStatusCode.Forbidden, "role_escalation");
        await (await _s.As(staffed.Admin).PostJson($"/api/organizations/{staffed.Id}/members", new { userId, role = "member" }))
            .ShouldBe(HttpStatusCode.Created);

        var other = RosterApp.NewUser("other");
        var body = await (await _s.As(staffed.Owner).PostJson($"/api/organizations/{staffed.Id}/members", new { userId = await _s.UserIdOf(other), role = "admin" }))
            .ShouldBe(HttpStatusCode.Created);
        Assert.Equal("admin", body.Str("role"));
    }

    [Fact]
    public async Task AnAddIsRefusedWhenTheSeatTypeIsFull()
    {
        // individual_professional: 1 contributor seat (the founder's), no community seats.
        var org = await _s.NewOrg(plan: "individual_professional");
        var userId = await _s.UserIdOf(RosterApp.NewUser("invitee"));

        await (await _s.As(org.Owner).PostJson($"/api/organizations/{org.Id}/members", new { userId }))
            .ShouldBeProblem(HttpStatusCode.Conflict, "seat_limit_reached");
        await (await _s.As(org.Owner).PostJson($"/api/organizations/{org.Id}/members", new { userId, seatType = "community_only" }))
            .ShouldBeProblem(HttpStatusCode.Conflict, "seat_limit_reached");
        Assert.Single(await app.MembershipsOfAsync(org.Id));
    }

    [Fact]
    public async Task APendingInvitationHoldsASeatAndDecliningItFreesTheSeat()
    {
        // free: 5 contributor seats; the founder holds one.
        var org = await _s.NewOrg();
        var invitations = new List<(TestUser User, Guid Id)>();
        for (var i = 0; i < 4; i++)
        {
            var user = RosterApp.NewUser($"invitee{i}");
            invitations.Add((user, await _s.Invite(org.Id, org.Owner, user)));
        }
        var late = await _s.UserIdOf(RosterApp.NewUser("late"));
        await (await _s.As(org.Owner).PostJson($"/api/organizations/{org.Id}/members", new { userId = late }))
            .ShouldBeProblem(HttpStatusCode.Conflict, "seat_limit_reached");

        await (await _s.As(invitations[0].User).DeleteAsync($"/api/membership-requests/{invitations[0].Id}")).ShouldBe(HttpStatusCode.NoContent);

        await (await _s.As(org.Owner).PostJson($"/api/organizations/{org.Id}/members", new { userId = late })).ShouldBe(HttpStatusCode.Created);
    }

    [Fact]
    public async Task FiftyConcurrentAddsIntoFiveFreeSeatsReserveExactlyFive()
    {
        // free: 5 community_only seats, none used (the founder holds a contributor seat).
        var org = await _s.NewOrg();
        var userIds = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => _s.UserIdOf(RosterApp.NewUser($"racer{i}"))));
        var owner = _s.As(org.Owner);

        var responses = await Task.WhenAll(userIds.Select(userId =>
            owner.PostJson($"/api/organizations/{org.Id}/members", new { userId, seatType = "community_only" })));

        Assert.Equal(5, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        foreach (var refused in responses.Where(r => r.StatusCode != HttpStatusCode.Created))
            await refused.ShouldBeProblem(HttpStatusCode.Conflict, "seat_limit_reached");
        var rows = await app.MembershipsOfAsync(org.Id);
        Assert.Equal(5, rows.Count(m => m.Status == "pending" && m.Source == "owner_add" && m.SeatType == "community_only"));
        var seats = await (await owner.GetAsync($"/api/organizations/{org.Id}/seats")).ShouldBe(HttpStatusCode.OK);
        var community = seats["seatTypes"]!.AsArray().Single(t => t!.Str("seatType") == "community_only")!;
        Assert.Equal((5, 0, 5, 0), (community["limit"]!.GetValue<int>(), community["active"]!.GetValue<int>(),
            community["reserved"]!.GetValue<int>(), community["available"]!.GetValue<int>()));
    }
}

public sealed class AddMemberTestsOnSqlite(SqliteApp app) : AddMemberTests(app), IClassFixture<SqliteApp>;

public sealed class AddMemberTestsOnPostgres(PostgresApp app) : AddMemberTests(app), IClassFixture<PostgresApp>;
