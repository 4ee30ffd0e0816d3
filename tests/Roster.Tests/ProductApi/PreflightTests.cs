using System.Net;
using System.Text.Json.Nodes;
using Roster.Tests.Support;

namespace Roster.Tests.ProductApi;

/// <summary>
/// Preflight never disagrees with the action: for each situation in the table, preflight's answer is asked first, then
/// the real add or join is made, and the two must agree — allowed ⇔ 2xx, and when refused, preflight's first reason is
/// the code of the action's problem.
/// </summary>
public abstract class PreflightTests(ProductApiApp app)
{
    private readonly Scenario _s = new(app);

    /// <summary>A situation: who calls, what they ask, the expected outcome.</summary>
    public sealed record AddCase(string Name, Func<Staffed, TestUser> Caller, Func<PreflightTests, Staffed, Task<object>> Body, string? Code);

    public static readonly IReadOnlyList<AddCase> AddCases =
    [
        new("a new user", s => s.Owner, async (t, s) => new { userId = await t.NewUserId() }, null),
        new("a new user by an admin", s => s.Admin, async (t, s) => new { userId = await t.NewUserId() }, null),
        new("a new user by their WorkOS id", s => s.Owner, async (t, s) => new { userId = await t.NewUserWorkosId() }, null),
        new("an admin role by an admin", s => s.Admin, async (t, s) => new { userId = await t.NewUserId(), role = "admin" }, "role_escalation"),
        new("an admin role by the owner", s => s.Owner, async (t, s) => new { userId = await t.NewUserId(), role = "admin" }, null),
        new("an unknown user", s => s.Owner, (t, s) => Task.FromResult<object>(new { userId = Guid.NewGuid().ToString() }), "user_not_found"),
        new("an active member", s => s.Owner, async (t, s) => new { userId = await t._s.UserIdOf(s.Member) }, "already_member"),
        new("someone already invited", s => s.Owner, async (t, s) => new { userId = await t.Invited(s) }, "pending_membership_exists"),
        new("someone whose invitation expired", s => s.Owner, async (t, s) => new { userId = await t.InvitedAndExpired(s) }, null),
        new("someone who asked to join", s => s.Owner, async (t, s) => new { userId = await t.Requested(s) }, "pending_membership_exists"),
        new("into a full seat type", s => s.Owner, async (t, s) => new { userId = await t.NewUserId(), seatType = "community_only" }, "seat_limit_reached"),
        new("an unknown user into a full seat type by an admin as admin", s => s.Admin,
            (t, s) => Task.FromResult<object>(new { userId = Guid.NewGuid().ToString(), role = "admin", seatType = "community_only" }), "role_escalation"),
        new("an unknown seat type", s => s.Owner, async (t, s) => new { userId = await t.NewUserId(), seatType = "gold" }, "validation_failed"),
        new("no user", s => s.Owner, (t, s) => Task.FromResult<object>(new { role = "member" }), "validation_failed"),
    ];

    public static TheoryData<string> AddCaseNames => [.. AddCases.Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(AddCaseNames))]
    public async Task PreflightOfAnAddAgreesWithTheAdd(string name)
    {
        var situation = AddCases.Single(c => c.Name == name);
        // company_standard: the staff take three of five contributor seats; the community_only seats are all taken.
        var staffed = await _s.NewStaffedOrg(plan: "company_standard");
        await FillCommunitySeats(staffed);
        var caller = situation.Caller(staffed);
        var body = await situation.Body(this, staffed);
        var query = string.Join("&", JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(body))!.AsObject()
            .Select(p => $"{p.Key}={Uri.EscapeDataString(p.Value!.GetValue<string>())}"));

        var preflight = await (await _s.As(caller).GetAsync($"/api/organizations/{staffed.Id}/preflight?action=add&{query}")).ShouldBe(HttpStatusCode.OK);
        using var real = await _s.As(caller).PostJson($"/api/organizations/{staffed.Id}/members", body);
        var answer = await real.Content.ReadAsStringAsync();

        var allowed = preflight["allowed"]!.GetValue<bool>();
        var reasons = preflight["reasons"]!.AsArray();
        Assert.True(allowed == real.IsSuccessStatusCode, $"preflight said allowed={allowed} ({preflight.ToJsonString()}), the add answered {(int)real.StatusCode} {answer}");
        Assert.Equal(allowed, reasons.Count == 0);
        if (!allowed)
        {
            Assert.Equal(JsonNode.Parse(answer)!.Str("code"), reasons[0]!.Str("code"));
            Assert.All(reasons, r => Assert.False(string.IsNullOrEmpty(r!.Str("detail"))));
        }
        Assert.Equal(situation.Code, allowed ? null : reasons[0]!.Str("code"));
    }

    [Fact]
    public async Task PreflightListsEveryReasonTheActionsFirstAnswerComingFirst()
    {
        var staffed = await _s.NewStaffedOrg(plan: "company_standard");
        await FillCommunitySeats(staffed);

        var preflight = await (await _s.As(staffed.Admin).GetAsync(
                $"/api/organizations/{staffed.Id}/preflight?action=add&userId={Guid.NewGuid()}&role=admin&seatType=community_only"))
            .ShouldBe(HttpStatusCode.OK);

        Assert.Equal(["role_escalation", "user_not_found", "seat_limit_reached"], preflight["reasons"]!.AsArray().Select(r => r!.Str("code")));
    }

    public sealed record JoinCase(string Name, Func<PreflightTests, Staffed, Task<TestUser>> Caller, string? Code);

    public static readonly IReadOnlyList<JoinCase> JoinCases =
    [
        new("a verified outsider", (t, s) => Task.FromResult(RosterApp.NewUser("joiner")), null),
        new("an unverified outsider", (t, s) => Task.FromResult(RosterApp.NewUser("joiner", verified: false)), "email_not_verified"),
        new("a member", (t, s) => Task.FromResult(s.Member), "already_member"),
        new("an invitee", async (t, s) => { var u = RosterApp.NewUser("invitee"); await t._s.Invite(s.Id, s.Owner, u); return u; }, "invitation_pending"),
        new("an invitee whose invitation expired", async (t, s) =>
        {
            var u = RosterApp.NewUser("invitee");
            await t._s.Invite(s.Id, s.Owner, u);
            await t.ExpireInvitationsOf(u);
            return u;
        }, null),
        new("someone who already asked here", async (t, s) => { var u = RosterApp.NewUser("joiner"); await t._s.RequestToJoin(s.Id, u); return u; }, "join_request_pending"),
        new("someone who asked elsewhere", async (t, s) =>
        {
            var u = RosterApp.NewUser("joiner");
            await t._s.RequestToJoin((await t._s.NewOrg()).Id, u);
            return u;
        }, "join_request_pending"),
        new("an unverified member", async (t, s) =>
        {
            var u = RosterApp.NewUser("member", verified: false);
            await t._s.AddActive(s.Id, s.Owner, u);
            return u;
        }, "email_not_verified"),
    ];

    public static TheoryData<string> JoinCaseNames => [.. JoinCases.Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(JoinCaseNames))]
    public async Task PreflightOfAJoinAgreesWithTheJoin(string name)
    {
        var situation = JoinCases.Single(c => c.Name == name);
        var staffed = await _s.NewStaffedOrg();
        var caller = await situation.Caller(this, staffed);

        var preflight = await (await _s.As(caller).GetAsync($"/api/organizations/{staffed.Id}/preflight?action=join")).ShouldBe(HttpStatusCode.OK);
        using var real = await _s.As(caller).PostAsync($"/api/organizations/{staffed.Id}/requests", null);
        var answer = await real.Content.ReadAsStringAsync();

        var allowed = preflight["allowed"]!.GetValue<bool>();
        var reasons = preflight["reasons"]!.AsArray();
        Assert.True(allowed == real.IsSuccessStatusCode, $"preflight said allowed={allowed} ({preflight.ToJsonString()}), the join answered {(int)real.StatusCode} {answer}");
        if (!allowed) Assert.Equal(JsonNode.Parse(answer)!.Str("code"), reasons[0]!.Str("code"));
        Assert.Equal(situation.Code, allowed ? null : reasons[0]!.Str("code"));
    }

    private Task<Guid> NewUserId() => _s.UserIdOf(RosterApp.NewUser("candidate"));

    private async Task<string> NewUserWorkosId()
    {
        var user = RosterApp.NewUser("candidate");
        await _s.UserIdOf(user);
        return user.Sub;
    }

    private async Task<Guid> Invited(Staffed s)
    {
        var user = RosterApp.NewUser("invitee");
        await _s.Invite(s.Id, s.Owner, user);
        return await _s.UserIdOf(user);
    }

    private async Task<Guid> InvitedAndExpired(Staffed s)
    {
        var user = RosterApp.NewUser("invitee");
        await _s.Invite(s.Id, s.Owner, user);
        await ExpireInvitationsOf(user);
        return await _s.UserIdOf(user);
    }

    private async Task<Guid> Requested(Staffed s)
    {
        var user = RosterApp.NewUser("requester");
        await _s.RequestToJoin(s.Id, user);
        return await _s.UserIdOf(user);
    }

    /// <summary>Moves this person's invitations' expiry into the past (as if the days went by; the sweep has not run).</summary>
    private async Task ExpireInvitationsOf(TestUser user)
    {
        var userId = await _s.UserIdOf(user);
        var past = app.Clock.UtcNow.AddMinutes(-1);
        await app.WithDbAsync(db => Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.ExecuteUpdateAsync(
            db.Memberships.Where(m => m.UserId == userId && m.Status == "pending"), s => s.SetProperty(m => m.ExpiresAt, past)));
    }

    /// <summary>company_standard has five community_only seats: five invitations take them.</summary>
    private async Task FillCommunitySeats(Staffed s)
    {
        for (var i = 0; i < 5; i++) await _s.Invite(s.Id, s.Owner, RosterApp.NewUser("filler"), seatType: "community_only");
    }
}

public sealed class PreflightTestsOnSqlite(ProductApiSqliteApp app) : PreflightTests(app), IClassFixture<ProductApiSqliteApp>;

public sealed class PreflightTestsOnPostgres(ProductApiPostgresApp app) : PreflightTests(app), IClassFixture<ProductApiPostgresApp>;
