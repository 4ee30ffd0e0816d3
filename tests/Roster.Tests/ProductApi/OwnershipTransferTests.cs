using System.Net;
using Microsoft.EntityFrameworkCore;
using Roster.Tests.Support;

namespace Roster.Tests.ProductApi;

/// <summary>Ownership changes hands only when the member it is offered to accepts.</summary>
public abstract class OwnershipTransferTests(RosterApp app)
{
    private readonly Scenario _s = new(app);

    private static string Offer(Staffed s, Guid membershipId) => $"/api/organizations/{s.Id}/members/{membershipId}/ownership-offer";

    private async Task<Dictionary<Guid, string>> RolesOf(Staffed s) =>
        (await app.MembershipsOfAsync(s.Id)).Where(m => m.DeletedAt == null).ToDictionary(m => m.Id, m => m.Role);

    [Fact]
    public async Task NothingChangesUntilTheMemberAcceptsThenTheyOwnAndTheOfferingOwnerIsAdmin()
    {
        var staffed = await _s.NewStaffedOrg();
        var before = await RolesOf(staffed);

        var offer = await (await _s.As(staffed.Owner).PostAsync(Offer(staffed, staffed.MemberMembershipId), null)).ShouldBe(HttpStatusCode.OK);

        Assert.Equal(staffed.MemberMembershipId.ToString(), offer.Str("membershipId"));
        Assert.Equal(before, await RolesOf(staffed));
        var mine = await (await _s.As(staffed.Member).GetAsync("/api/membership-requests/mine/ownership-offers")).ShouldBe(HttpStatusCode.OK);
        var listed = Assert.Single(mine.AsArray())!;
        Assert.Equal((staffed.Id.ToString(), staffed.OwnerMembershipId.ToString(), staffed.Owner.Name),
            (listed.Str("organizationId"), listed.Str("offeredByMembershipId"), listed.Str("offeredByName")));

        var accepted = await (await _s.As(staffed.Member).PutJson($"/api/membership-requests/{staffed.MemberMembershipId}/ownership-offer/accept"))
            .ShouldBe(HttpStatusCode.OK);

        Assert.Equal(("owner", "active"), (accepted.Str("role"), accepted.Str("status")));
        var after = await RolesOf(staffed);
        Assert.Equal(("owner", "admin"), (after[staffed.MemberMembershipId], after[staffed.OwnerMembershipId]));
        var audit = await app.WithDbAsync(db => db.AuditEvents.AsNoTracking().Where(a => a.OrganizationId == staffed.Id && a.Action == "ownership_transferred")
            .ToListAsync());
        Assert.Equal([("member", "owner", staffed.MemberMembershipId), ("owner", "admin", staffed.OwnerMembershipId)],
            audit.Select(a => (a.OldRole, a.NewRole, a.MembershipId!.Value)).OrderBy(a => a.Item2 == "owner" ? 0 : 1));
        Assert.Empty((await (await _s.As(staffed.Member).GetAsync("/api/membership-requests/mine/ownership-offers")).ShouldBe(HttpStatusCode.OK)).AsArray());
        // Accepting twice finds nothing.
        await (await _s.As(staffed.Member).PutJson($"/api/membership-requests/{staffed.MemberMembershipId}/ownership-offer/accept"))
            .ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task AWithdrawnOrDeclinedOfferCannotBeAccepted()
    {
        var staffed = await _s.NewStaffedOrg();
        var before = await RolesOf(staffed);

        await (await _s.As(staffed.Owner).PostAsync(Offer(staffed, staffed.MemberMembershipId), null)).ShouldBe(HttpStatusCode.OK);
        await (await _s.As(staffed.Owner).DeleteAsync(Offer(staffed, staffed.MemberMembershipId))).ShouldBe(HttpStatusCode.NoContent);
        await (await _s.As(staffed.Member).PutJson($"/api/membership-requests/{staffed.MemberMembershipId}/ownership-offer/accept"))
            .ShouldBeProblem(HttpStatusCode.NotFound, "not_found");

        await (await _s.As(staffed.Owner).PostAsync(Offer(staffed, staffed.AdminMembershipId), null)).ShouldBe(HttpStatusCode.OK);
        await (await _s.As(staffed.Admin).DeleteAsync($"/api/membership-requests/{staffed.AdminMembershipId}/ownership-offer")).ShouldBe(HttpStatusCode.NoContent);
        await (await _s.As(staffed.Admin).PutJson($"/api/membership-requests/{staffed.AdminMembershipId}/ownership-offer/accept"))
            .ShouldBeProblem(HttpStatusCode.NotFound, "not_found");

        Assert.Equal(before, await RolesOf(staffed));
        var actions = await app.WithDbAsync(db => db.AuditEvents.Where(a => a.OrganizationId == staffed.Id && a.Action.StartsWith("ownership"))
            .OrderBy(a => a.At).Select(a => a.Action).ToListAsync());
        Assert.Equal(["ownership_offered", "ownership_offer_withdrawn", "ownership_offered", "ownership_offer_declined"], actions);
    }

    [Fact]
    public async Task AnOfferWhoseOwnerIsNoLongerAnOwnerIsVoid()
    {
        var staffed = await _s.NewStaffedOrg();
        var secondOwner = RosterApp.NewUser("owner2");
        await _s.AddActive(staffed.Id, staffed.Owner, secondOwner, "owner");
        await (await _s.As(staffed.Owner).PostAsync(Offer(staffed, staffed.MemberMembershipId), null)).ShouldBe(HttpStatusCode.OK);
        await (await _s.As(secondOwner).PatchJson($"/api/organizations/{staffed.Id}/members/{staffed.OwnerMembershipId}", new { role = "admin" }))
            .ShouldBe(HttpStatusCode.OK);

        await (await _s.As(staffed.Member).PutJson($"/api/membership-requests/{staffed.MemberMembershipId}/ownership-offer/accept"))
            .ShouldBeProblem(HttpStatusCode.NotFound, "not_found");

        Assert.Equal("member", (await RolesOf(staffed))[staffed.MemberMembershipId]);
        Assert.Empty((await (await _s.As(staffed.Member).GetAsync("/api/membership-requests/mine/ownership-offers")).ShouldBe(HttpStatusCode.OK)).AsArray());
    }

    [Fact]
    public async Task OnlyAnOwnerOffersAndNotToAnOwnerOrAPendingInvitee()
    {
        var staffed = await _s.NewStaffedOrg();
        var invitation = await _s.Invite(staffed.Id, staffed.Owner, RosterApp.NewUser("invitee"));

        await (await _s.As(staffed.Admin).PostAsync(Offer(staffed, staffed.MemberMembershipId), null)).ShouldBeProblem(HttpStatusCode.Forbidden, "forbidden");
        await (await _s.As(staffed.Owner).PostAsync(Offer(staffed, staffed.OwnerMembershipId), null)).ShouldBeProblem(HttpStatusCode.Conflict, "already_owner");
        await (await _s.As(staffed.Owner).PostAsync(Offer(staffed, invitation), null)).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
    }
}

public sealed class OwnershipTransferTestsOnSqlite(SqliteApp app) : OwnershipTransferTests(app), IClassFixture<SqliteApp>;

public sealed class OwnershipTransferTestsOnPostgres(PostgresApp app) : OwnershipTransferTests(app), IClassFixture<PostgresApp>;
