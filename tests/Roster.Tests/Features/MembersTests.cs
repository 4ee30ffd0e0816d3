using System.Net;
using Microsoft.EntityFrameworkCore;
using Roster.Tests.Support;

namespace Roster.Tests.Features;

public abstract class MembersTests(RosterApp app)
{
    private readonly Scenario _s = new(app);

    private static string Members(Guid orgId) => $"/api/organizations/{orgId}/members";

    [Fact]
    public async Task TheListShowsActiveMembersAndPendingInvitationsButNotJoinRequests()
    {
        var staffed = await _s.NewStaffedOrg();
        var invitationId = await _s.Invite(staffed.Id, staffed.Owner, RosterApp.NewUser("invitee"));
        var requestId = await _s.RequestToJoin(staffed.Id, RosterApp.NewUser("requester"));

        var list = (await (await _s.As(staffed.Member).GetAsync(Members(staffed.Id))).ShouldBe(HttpStatusCode.OK)).AsArray();

        var ids = list.Select(m => m!.Str("id")).ToHashSet();
        Assert.Equal(new[] { staffed.OwnerMembershipId, staffed.AdminMembershipId, staffed.MemberMembershipId, invitationId }
            .Select(i => i.ToString()).ToHashSet(), ids);
        Assert.DoesNotContain(requestId.ToString(), ids);
        var owner = list.Single(m => m!.Str("id") == staffed.OwnerMembershipId.ToString())!;
        Assert.Equal(("owner", "active", "founder", staffed.Owner.Email), (owner.Str("role"), owner.Str("status"), owner.Str("source"), owner.Str("email")));
    }

    [Fact]
    public async Task SomeoneListedOnlyAsAPendingInviteeOrWhoAskedToJoinCannotSeeTheMembers()
    {
        var staffed = await _s.NewStaffedOrg();
        var invitee = RosterApp.NewUser("invitee");
        var requester = RosterApp.NewUser("requester");
        await _s.Invite(staffed.Id, staffed.Owner, invitee);
        await _s.RequestToJoin(staffed.Id, requester);

        // The invitee's own row is in the list (pending), which must not make the list theirs to read.
        await (await _s.As(invitee).GetAsync(Members(staffed.Id))).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
        await (await _s.As(requester).GetAsync(Members(staffed.Id))).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task APlatformAdminListsAnOrganizationWithNoMembersButNotOneThatDoesNotExist()
    {
        var staffed = await _s.NewStaffedOrg();
        var admin = RosterApp.NewUser("platform", admin: true);
        // Everyone gone (tombstoned, as removal and leaving leave them): the list is empty, the organization still exists.
        await app.WithDbAsync(db => db.Memberships.Where(m => m.OrganizationId == staffed.Id)
            .ExecuteUpdateAsync(u => u.SetProperty(m => m.DeletedAt, DateTime.UtcNow)));

        var list = (await (await _s.As(admin).GetAsync(Members(staffed.Id))).ShouldBe(HttpStatusCode.OK)).AsArray();
        Assert.Empty(list);
        await (await _s.As(admin).GetAsync(Members(Guid.CreateVersion7()))).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task SearchFindsAUserByExactEmailAfterTrimmingAndLowercasing()
    {
        var staffed = await _s.NewStaffedOrg();
        var target = RosterApp.NewUser("target");
        var userId = await _s.UserIdOf(target);

        var hit = await (await _s.As(staffed.Admin).GetAsync($"{Members(staffed.Id)}/search?email={Uri.EscapeDataString("  " + target.Email.ToUpperInvariant() + " ")}"))
            .ShouldBe(HttpStatusCode.OK);

        Assert.Equal((userId.ToString(), target.Email, target.Name), (hit.Str("userId"), hit.Str("email"), hit.Str("name")));
    }

    [Fact]
    public async Task SearchDoesNoFuzzyMatching()
    {
        var staffed = await _s.NewStaffedOrg();
        var target = RosterApp.NewUser("target");
        await _s.UserIdOf(target);

        foreach (var partial in new[] { target.Email[..^1], target.Email.Split('@')[0], "%" + target.Email[1..], "%", "*" })
            await (await _s.As(staffed.Owner).GetAsync($"{Members(staffed.Id)}/search?email={Uri.EscapeDataString(partial)}"))
                .ShouldBeProblem(HttpStatusCode.NotFound, "user_not_found");
        await (await _s.As(staffed.Owner).GetAsync($"{Members(staffed.Id)}/search")).ShouldBeProblem(HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task AnOwnerChangesARoleAndTheStatusStaysAsItWas()
    {
        var staffed = await _s.NewStaffedOrg();

        var body = await (await _s.As(staffed.Owner).PatchJson($"{Members(staffed.Id)}/{staffed.MemberMembershipId}", new { role = "admin" }))
            .ShouldBe(HttpStatusCode.OK);

        Assert.Equal(("admin", "active"), (body.Str("role"), body.Str("status")));
        var audit = await app.WithDbAsync(db => db.AuditEvents.SingleAsync(a => a.MembershipId == staffed.MemberMembershipId && a.Action == "role_changed"));
        Assert.Equal(("member", "admin"), (audit.OldRole, audit.NewRole));
    }

    [Fact]
    public async Task AnAdminCannotChangeRolesButCanChangeSeatTypes()
    {
        var staffed = await _s.NewStaffedOrg();

        await (await _s.As(staffed.Admin).PatchJson($"{Members(staffed.Id)}/{staffed.MemberMembershipId}", new { role = "admin" }))
            .ShouldBeProblem(HttpStatusCode.Forbidden, "role_escalation");
        await (await _s.As(staffed.Admin).PatchJson($"{Members(staffed.Id)}/{staffed.AdminMembershipId}", new { role = "member" }))
            .ShouldBeProblem(HttpStatusCode.Forbidden, "forbidden");
        var body = await (await _s.As(staffed.Admin).PatchJson($"{Members(staffed.Id)}/{staffed.MemberMembershipId}", new { seatType = "community_only" }))
            .ShouldBe(HttpStatusCode.OK);
        Assert.Equal(("member", "community_only"), (body.Str("role"), body.Str("seatType")));
    }

    [Fact]
    public async Task ASeatTypeChangeIntoAFullSeatTypeIsRefused()
    {
        var org = await _s.NewOrg(plan: "individual_professional");
        var ownerMembership = (await app.MembershipsOfAsync(org.Id)).Single().Id;

        await (await _s.As(org.Owner).PatchJson($"{Members(org.Id)}/{ownerMembership}", new { seatType = "community_only" }))
            .ShouldBeProblem(HttpStatusCode.Conflict, "seat_limit_reached");
    }

    [Fact]
    public async Task TheLastOwnerCanNeitherBeDemotedNorRemovedNorLeave()
    {
        var staffed = await _s.NewStaffedOrg();

        await (await _s.As(staffed.Owner).PatchJson($"{Members(staffed.Id)}/{staffed.OwnerMembershipId}", new { role = "admin" }))
            .ShouldBeProblem(HttpStatusCode.Conflict, "last_owner");
        await (await _s.As(staffed.Owner).DeleteAsync($"{Members(staffed.Id)}/{staffed.OwnerMembershipId}"))
            .ShouldBeProblem(HttpStatusCode.Conflict, "last_owner");
        await (await _s.As(staffed.Owner).PostAsync($"/api/organizations/{staffed.Id}/leave", null))
            .ShouldBeProblem(HttpStatusCode.Conflict, "last_owner");
        await (await _s.As(staffed.PlatformAdmin).DeleteAsync($"{Members(staffed.Id)}/{staffed.OwnerMembershipId}"))
            .ShouldBeProblem(HttpStatusCode.Conflict, "last_owner");

        // With a second owner, the first may step down.
        await (await _s.As(staffed.Owner).PatchJson($"{Members(staffed.Id)}/{staffed.AdminMembershipId}", new { role = "owner" })).ShouldBe(HttpStatusCode.OK);
        await (await _s.As(staffed.Owner).PostAsync($"/api/organizations/{staffed.Id}/leave", null)).ShouldBe(HttpStatusCode.NoContent);
        await (await _s.As(staffed.Admin).PostAsync($"/api/organizations/{staffed.Id}/leave", null)).ShouldBeProblem(HttpStatusCode.Conflict, "last_owner");
    }

    [Fact]
    public async Task TwoOwnersDemotingEachOtherAtOnceLeaveOneOwner()
    {
        var staffed = await _s.NewStaffedOrg();
        await (await _s.As(staffed.Owner).PatchJson($"{Members(staffed.Id)}/{staffed.AdminMembershipId}", new { role = "owner" })).ShouldBe(HttpStatusCode.OK);

        var results = await Task.WhenAll(
            _s.As(staffed.Owner).PatchJson($"{Members(staffed.Id)}/{staffed.AdminMembershipId}", new { role = "member" }),
            _s.As(staffed.Admin).PatchJson($"{Members(staffed.Id)}/{staffed.OwnerMembershipId}", new { role = "member" }));

        Assert.Single(results, r => r.StatusCode == HttpStatusCode.OK);
        Assert.Equal(1, (await app.MembershipsOfAsync(staffed.Id)).Count(m => m.Role == "owner" && m.Status == "active" && m.DeletedAt == null));
    }

    [Fact]
    public async Task AnOwnerRemovesAnAdminButAnAdminRemovesMembersOnly()
    {
        var staffed = await _s.NewStaffedOrg();
        var otherAdmin = RosterApp.NewUser("admin2");
        var otherAdminMembership = await _s.AddActive(staffed.Id, staffed.Owner, otherAdmin, "admin");

        await (await _s.As(staffed.Admin).DeleteAsync($"{Members(staffed.Id)}/{otherAdminMembership}")).ShouldBeProblem(HttpStatusCode.Forbidden, "forbidden");
        await (await _s.As(staffed.Admin).DeleteAsync($"{Members(staffed.Id)}/{staffed.OwnerMembershipId}")).ShouldBeProblem(HttpStatusCode.Forbidden, "forbidden");
        await (await _s.As(staffed.Admin).DeleteAsync($"{Members(staffed.Id)}/{staffed.MemberMembershipId}")).ShouldBe(HttpStatusCode.NoContent);
        await (await _s.As(staffed.Owner).DeleteAsync($"{Members(staffed.Id)}/{otherAdminMembership}")).ShouldBe(HttpStatusCode.NoContent);

        var list = (await (await _s.As(staffed.Owner).GetAsync(Members(staffed.Id))).ShouldBe(HttpStatusCode.OK)).AsArray();
        Assert.Equal(2, list.Count);
        var removed = await app.WithDbAsync(db => db.AuditEvents
            .Where(a => a.OrganizationId == staffed.Id && a.Action == "removed").Select(a => a.MembershipId).ToListAsync());
        Assert.Equal(new Guid?[] { staffed.MemberMembershipId, otherAdminMembership }.ToHashSet(), removed.ToHashSet());
        // A removed member has no access any more.
        await (await _s.As(staffed.Member).GetAsync(Members(staffed.Id))).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task AnAdminMayCancelAPendingInvitation()
    {
        var staffed = await _s.NewStaffedOrg();
        var invitee = RosterApp.NewUser("invitee");
        var invitationId = await _s.Invite(staffed.Id, staffed.Owner, invitee);

        await (await _s.As(staffed.Admin).DeleteAsync($"{Members(staffed.Id)}/{invitationId}")).ShouldBe(HttpStatusCode.NoContent);

        await (await _s.As(invitee).PutJson($"/api/membership-requests/{invitationId}/accept")).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
        Assert.Empty((await (await _s.As(invitee).GetAsync("/api/membership-requests/mine/pending")).ShouldBe(HttpStatusCode.OK)).AsArray());
    }

    [Fact]
    public async Task AMemberLeavesAndTheirSeatIsFreed()
    {
        var staffed = await _s.NewStaffedOrg();
        var before = await (await _s.As(staffed.Owner).GetAsync($"/api/organizations/{staffed.Id}/seats")).ShouldBe(HttpStatusCode.OK);

        await (await _s.As(staffed.Member).PostAsync($"/api/organizations/{staffed.Id}/leave", null)).ShouldBe(HttpStatusCode.NoContent);

        var after = await (await _s.As(staffed.Owner).GetAsync($"/api/organizations/{staffed.Id}/seats")).ShouldBe(HttpStatusCode.OK);
        int Active(System.Text.Json.Nodes.JsonNode seats) =>
            seats["seatTypes"]!.AsArray().Single(t => t!.Str("seatType") == "contributor")!["active"]!.GetValue<int>();
        Assert.Equal(Active(before) - 1, Active(after));
        await (await _s.As(staffed.Member).PostAsync($"/api/organizations/{staffed.Id}/leave", null)).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
        Assert.Contains("left", await app.WithDbAsync(db => db.AuditEvents.Where(a => a.MembershipId == staffed.MemberMembershipId).Select(a => a.Action).ToListAsync()));
    }

    [Fact]
    public async Task AJoinRequestIsNotAMemberToPatchOrRemove()
    {
        var org = await _s.NewOrg();
        var requestId = await _s.RequestToJoin(org.Id, RosterApp.NewUser("requester"));

        await (await _s.As(org.Owner).PatchJson($"{Members(org.Id)}/{requestId}", new { role = "admin" })).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
        await (await _s.As(org.Owner).DeleteAsync($"{Members(org.Id)}/{requestId}")).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
        Assert.Equal("pending", (await app.MembershipsOfAsync(org.Id)).Single(m => m.Id == requestId).Status);
    }
}

public sealed class MembersTestsOnSqlite(SqliteApp app) : MembersTests(app), IClassFixture<SqliteApp>;

public sealed class MembersTestsOnPostgres(PostgresApp app) : MembersTests(app), IClassFixture<PostgresApp>;
