using System.Net;
using Microsoft.EntityFrameworkCore;

namespace Roster.Tests.Support;

public sealed record Org(Guid Id, TestUser Owner);

/// <summary>An organization with one person in each role, plus someone from outside and a platform admin.</summary>
public sealed record Staffed(Org Org, TestUser Owner, TestUser Admin, TestUser Member, TestUser Outsider, TestUser PlatformAdmin,
    Guid OwnerMembershipId, Guid AdminMembershipId, Guid MemberMembershipId)
{
    public Guid Id => Org.Id;
}

/// <summary>Builds the state a test needs through the public HTTP API, the way a real client would.</summary>
public sealed class Scenario(RosterApp app)
{
    public RosterApp App => app;

    public HttpClient As(TestUser? user) => app.ClientFor(user);

    /// <summary>Makes sure Roster has a local row for the user (created on their first authenticated request).</summary>
    public async Task<Guid> UserIdOf(TestUser user)
    {
        (await As(user).GetAsync("/api/membership-requests/mine")).EnsureSuccessStatusCode();
        return await app.WithDbAsync(db => db.Users.Where(u => u.WorkosUserId == user.Sub).Select(u => u.Id).SingleAsync());
    }

    public async Task<Org> NewOrg(TestUser? owner = null, string? plan = null)
    {
        owner ??= RosterApp.NewUser("owner");
        var created = await (await As(owner).PostJson("/api/organizations", new { name = $"Org of {owner.Name}" })).ShouldBe(HttpStatusCode.Created);
        var org = new Org(Guid.Parse(created.Str("id")), owner);
        if (plan is not null) await SetPlan(org.Id, plan);
        return org;
    }

    public async Task SetPlan(Guid orgId, string plan) =>
        await (await As(RosterApp.NewUser("platform", admin: true)).PutJson($"/api/organizations/{orgId}/plan", new { plan }))
            .ShouldBe(HttpStatusCode.OK);

    public async Task<Guid> Invite(Guid orgId, TestUser by, TestUser who, string role = "member", string? seatType = null)
    {
        var userId = await UserIdOf(who);
        var body = await (await As(by).PostJson($"/api/organizations/{orgId}/members", new { userId, role, seatType }))
            .ShouldBe(HttpStatusCode.Created);
        return Guid.Parse(body.Str("id"));
    }

    public async Task<Guid> Accept(TestUser who, Guid membershipId)
    {
        await (await As(who).PutJson($"/api/membership-requests/{membershipId}/accept")).ShouldBe(HttpStatusCode.OK);
        return membershipId;
    }

    public async Task<Guid> AddActive(Guid orgId, TestUser by, TestUser who, string role = "member", string? seatType = null) =>
        await Accept(who, await Invite(orgId, by, who, role, seatType));

    public async Task<Guid> RequestToJoin(Guid orgId, TestUser who)
    {
        var body = await (await As(who).PostAsync($"/api/organizations/{orgId}/requests", null)).ShouldBe(HttpStatusCode.Created);
        return Guid.Parse(body.Str("id"));
    }

    public async Task<Staffed> NewStaffedOrg(string? plan = "company_icl")
    {
        var org = await NewOrg(plan: plan);
        var admin = RosterApp.NewUser("admin");
        var member = RosterApp.NewUser("member");
        var outsider = RosterApp.NewUser("outsider");
        await UserIdOf(outsider);
        var adminMembership = await AddActive(org.Id, org.Owner, admin, "admin");
        var memberMembership = await AddActive(org.Id, org.Owner, member);
        var ownerMembership = await app.WithDbAsync(db => db.Memberships
            .Where(m => m.OrganizationId == org.Id && m.Role == "owner").Select(m => m.Id).SingleAsync());
        return new Staffed(org, org.Owner, admin, member, outsider, RosterApp.NewUser("platform", admin: true),
            ownerMembership, adminMembership, memberMembership);
    }
}
