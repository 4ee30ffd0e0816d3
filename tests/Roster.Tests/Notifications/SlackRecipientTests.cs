using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;
using Roster.Tests.Support;

namespace Roster.Tests.Notifications;

/// <summary>
/// Who a notice goes to when Slack's view of the people differs from Roster's: deactivated, removed or bot users,
/// changed emails, people not on Slack. Always against the strict fake, which refuses a whole conversations.open for
/// one bad id, as Slack does.
/// </summary>
public abstract class SlackRecipientTests(SlackApp app)
{
    private readonly Scenario _s = new(app);
    private FakeSlack Slack => app.Slack;

    private IReadOnlyList<SlackCall> PostsAbout(TestUser person) =>
        Slack.Posted.Where(c => c.Arg("text")!.Contains(person.Email, StringComparison.Ordinal)).ToList();

    private IReadOnlyList<SlackCall> LookupsOf(string email) =>
        Slack.CallsTo("users.lookupByEmail").Where(c => c.Arg("email") == email).ToList();

    private Task<User> UserOf(TestUser user) =>
        app.WithDbAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.WorkosUserId == user.Sub));

    /// <summary>An organization with an owner and two admins, all on Slack, whose ids are cached by a first notice.</summary>
    private async Task<(Staffed Org, TestUser SecondAdmin, string Owner, string Admin, string Other)> OrgWithCachedIdsAsync()
    {
        var staffed = await _s.NewStaffedOrg();
        var admin2 = RosterApp.NewUser("admin2");
        await _s.AddActive(staffed.Id, staffed.Owner, admin2, "admin");
        var ids = (Slack.Map(staffed.Owner.Email), Slack.Map(staffed.Admin.Email), Slack.Map(admin2.Email));
        var first = RosterApp.NewUser("first");
        await app.EnqueueRefusalAsync(staffed.Id, first.Email, first.Name);
        await app.DispatchUntilIdleAsync();
        Assert.Single(PostsAbout(first));
        Assert.Contains(Slack.CallsTo("conversations.open"), c => c.Succeeded && c.Arg("users") == $"{ids.Item1},{ids.Item2},{ids.Item3}");
        return (staffed, admin2, ids.Item1, ids.Item2, ids.Item3);
    }

    [Fact]
    public async Task ADeactivatedAdminIsDroppedTheirCachedIdClearedAndTheOthersStillGetTheNotice()
    {
        var (org, admin2, owner, admin, other) = await OrgWithCachedIdsAsync();
        Slack.Deactivate(org.Admin.Email);
        var refused = RosterApp.NewUser("refused");
        var row = await app.EnqueueRefusalAsync(org.Id, refused.Email, refused.Name);

        await app.DispatchUntilIdleAsync();

        var opens = Slack.CallsTo("conversations.open").Where(c => c.Arg("users")!.Contains(owner, StringComparison.Ordinal)
                                                                   || c.Arg("users") == admin || c.Arg("users") == other).ToList();
        Assert.Contains(opens, c => c.Arg("users") == $"{owner},{admin},{other}" && c.Error == "user_disabled");
        Assert.Contains(opens, c => c.Arg("users") == admin && c.Error == "user_disabled"); // found out alone
        var post = Assert.Single(PostsAbout(refused));
        var group = opens.Last(c => c.Succeeded);
        Assert.Equal($"{owner},{other}", group.Arg("users"));
        Assert.Equal(group.Answer!["channel"]!["id"]!.GetValue<string>(), post.Arg("channel"));
        var sent = await app.RowAsync(row.Id);
        Assert.NotNull(sent.SentAt);
        Assert.Null(sent.LastError);
        Assert.Null((await UserOf(org.Admin)).SlackUserId);
        Assert.NotNull((await UserOf(org.Admin)).SlackNotFoundAt);
        Assert.Equal(owner, (await UserOf(org.Owner)).SlackUserId);
        Assert.Equal(other, (await UserOf(admin2)).SlackUserId);

        // Next time the deactivated admin is not even tried (not on Slack, remembered), and nobody is looked up again.
        var lookupsBefore = Slack.CallsTo("users.lookupByEmail").Count();
        var next = RosterApp.NewUser("next");
        await app.EnqueueRefusalAsync(org.Id, next.Email, next.Name);
        await app.DispatchUntilIdleAsync();
        Assert.Equal(post.Arg("channel"), Assert.Single(PostsAbout(next)).Arg("channel"));
        Assert.Equal(lookupsBefore, Slack.CallsTo("users.lookupByEmail").Count());
    }

    [Fact]
    public async Task WhenEveryCachedOwnerAndAdminIsGoneFromSlackTheSystemErrorsChannelIsTold()
    {
        var (org, admin2, _, _, _) = await OrgWithCachedIdsAsync();
        Slack.Deactivate(org.Owner.Email);
        Slack.Remove(org.Admin.Email);
        Slack.MakeBot(admin2.Email);
        var refused = RosterApp.NewUser("refused");
        var row = await app.EnqueueRefusalAsync(org.Id, refused.Email, refused.Name, organizationName: "Everyone Gone Ltd");

        await app.DispatchUntilIdleAsync();

        var post = Assert.Single(PostsAbout(refused));
        Assert.Equal(SlackApp.SystemErrorsChannel, post.Arg("channel"));
        Assert.Contains("Everyone Gone Ltd", post.Arg("text"));
        Assert.NotNull((await app.RowAsync(row.Id)).SentAt);
        foreach (var person in new[] { org.Owner, org.Admin, admin2 }) Assert.Null((await UserOf(person)).SlackUserId);
    }

    [Fact]
    public async Task AChangedEmailIsLookedUpAgainInsteadOfTrustingTheCachedId()
    {
        var org = await _s.NewOrg();
        var oldId = Slack.Map(org.Owner.Email);
        var first = RosterApp.NewUser("first");
        await app.EnqueueRefusalAsync(org.Id, first.Email, first.Name);
        await app.DispatchUntilIdleAsync();
        Assert.Equal("D" + oldId, Assert.Single(PostsAbout(first)).Arg("channel"));

        // The owner's email changes (a user.updated from WorkOS, or their next sign-in); Slack knows the new one as someone else.
        var newEmail = $"renamed.{Guid.NewGuid():N}@example.com";
        var newId = Slack.Map(newEmail);
        await app.WithDbAsync(db => db.Users.Where(u => u.WorkosUserId == org.Owner.Sub).ExecuteUpdateAsync(s => s.SetProperty(u => u.Email, newEmail)));
        var second = RosterApp.NewUser("second");
        await app.EnqueueRefusalAsync(org.Id, second.Email, second.Name);

        await app.DispatchUntilIdleAsync();

        Assert.Single(LookupsOf(newEmail));
        Assert.Equal("D" + newId, Assert.Single(PostsAbout(second)).Arg("channel"));
        var owner = await app.WithDbAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.WorkosUserId == org.Owner.Sub));
        Assert.Equal((newId, newEmail), (owner.SlackUserId, owner.SlackLookupEmail));
    }

    [Fact]
    public async Task ALookupThatFindsADeactivatedUserOrABotIsNotARecipient()
    {
        var staffed = await _s.NewStaffedOrg();
        Slack.Map(staffed.Owner.Email);
        Slack.Deactivate(staffed.Owner.Email);
        Slack.Map(staffed.Admin.Email);
        Slack.MakeBot(staffed.Admin.Email);
        var refused = RosterApp.NewUser("refused");
        var opensBefore = Slack.CallsTo("conversations.open").Count();
        await app.EnqueueRefusalAsync(staffed.Id, refused.Email, refused.Name);

        await app.DispatchUntilIdleAsync();

        Assert.True(Assert.Single(LookupsOf(staffed.Owner.Email)).Answer!["user"]!["deleted"]!.GetValue<bool>());
        Assert.True(Assert.Single(LookupsOf(staffed.Admin.Email)).Answer!["user"]!["is_bot"]!.GetValue<bool>());
        Assert.Equal(opensBefore, Slack.CallsTo("conversations.open").Count());
        Assert.Equal(SlackApp.SystemErrorsChannel, Assert.Single(PostsAbout(refused)).Arg("channel"));
        Assert.Null((await UserOf(staffed.Owner)).SlackUserId);
        Assert.Null((await UserOf(staffed.Admin)).SlackUserId);
    }

    [Fact]
    public async Task NotOnSlackIsRememberedForNotFoundCacheMinutesThenAskedAgain()
    {
        var staffed = await _s.NewStaffedOrg();
        Slack.Map(staffed.Owner.Email);
        async Task NoticeAsync()
        {
            var refused = RosterApp.NewUser("refused");
            await app.EnqueueRefusalAsync(staffed.Id, refused.Email, refused.Name);
            await app.DispatchUntilIdleAsync();
            Assert.Single(PostsAbout(refused));
        }

        await NoticeAsync();
        Assert.Equal("users_not_found", Assert.Single(LookupsOf(staffed.Admin.Email)).Error);

        app.Clock.Advance(TimeSpan.FromMinutes(59)); // Slack:NotFoundCacheMinutes is 60 by default
        await NoticeAsync();
        await NoticeAsync();
        Assert.Single(LookupsOf(staffed.Admin.Email));

        var adminId = Slack.Map(staffed.Admin.Email); // they joined Slack meanwhile
        app.Clock.Advance(TimeSpan.FromMinutes(2));
        await NoticeAsync();
        Assert.Equal(2, LookupsOf(staffed.Admin.Email).Count);
        Assert.Equal(adminId, (await UserOf(staffed.Admin)).SlackUserId);
    }
    /// <summary>
    /// End to end: WorkOS adds someone over the seat cap (a signed webhook), Roster refuses and queues the notice, the
    /// dispatcher sends it to the strict fake Slack — where one of the admins has been deactivated since Roster cached
    /// their id. The notice still reaches the owner and the other admin; and once nobody is left, the system channel.
    /// </summary>
    [Fact]
    public async Task ARefusalInAnOrgWithADeactivatedSlackAdminStillReachesTheOtherAdminsOrTheSystemChannel()
    {
        var client = app.CreateClient();
        // Signed at the app's own (test-moved) clock, as WorkOS signs at the time it sends.
        async Task<string> Deliver(string json) =>
            (await (await client.Deliver(json, app.Clock.GetUtcNow())).ShouldBe(System.Net.HttpStatusCode.OK)).Str("outcome");
        var orgId = WorkOs.NewId("org");
        var orgName = $"Deactivated Admin Co {Guid.NewGuid():N}";
        Assert.Equal("applied", await Deliver(WorkOs.Envelope("organization.created", WorkOs.Organization(orgId, orgName))));
        var staff = new List<(string WorkosId, string Email, string Role)>();
        foreach (var role in new[] { "owner", "admin", "admin", "member", "member" }) // the free plan: 5 community_only seats
        {
            var userId = WorkOs.NewId("user");
            var email = $"{userId}@example.com";
            Assert.Equal("applied", await Deliver(WorkOs.Envelope("user.created", WorkOs.User(userId, email))));
            Assert.Equal("applied", await Deliver(WorkOs.Envelope("organization_membership.created",
                WorkOs.Membership(WorkOs.NewId("om"), userId, orgId, role: role))));
            staff.Add((userId, email, role));
        }
        var owner = Slack.Map(staff[0].Email);
        var deactivated = Slack.Map(staff[1].Email);
        var otherAdmin = Slack.Map(staff[2].Email);

        async Task<SlackCall> RefuseAsync()
        {
            var stranger = WorkOs.NewId("user");
            var email = $"{stranger}@example.com";
            Assert.Equal("applied", await Deliver(WorkOs.Envelope("user.created", WorkOs.User(stranger, email))));
            Assert.Equal("refused", await Deliver(WorkOs.Envelope("organization_membership.created",
                WorkOs.Membership(WorkOs.NewId("om"), stranger, orgId))));
            await app.DispatchUntilIdleAsync();
            var post = Assert.Single(Slack.Posted, c => c.Arg("text")!.Contains(email, StringComparison.Ordinal));
            Assert.True(post.Succeeded, post.Error);
            return post;
        }

        // Everyone on Slack: the group DM of all three (ids now cached).
        var first = await RefuseAsync();
        Assert.Contains(Slack.CallsTo("conversations.open"), c => c.Arg("users") == $"{owner},{deactivated},{otherAdmin}"
                                                                  && c.Answer!["channel"]!["id"]!.GetValue<string>() == first.Arg("channel"));

        // One admin deactivated in Slack: the others still hear of the next refusal.
        Slack.Deactivate(staff[1].Email);
        var second = await RefuseAsync();
        var group = Slack.CallsTo("conversations.open").Last(c => c.Succeeded && c.Arg("users")!.Contains(owner, StringComparison.Ordinal));
        Assert.Equal($"{owner},{otherAdmin}", group.Arg("users"));
        Assert.Equal(group.Answer!["channel"]!["id"]!.GetValue<string>(), second.Arg("channel"));
        Assert.Contains(orgName, second.Arg("text"));

        // Then everyone else gone too: the system-errors channel is told.
        Slack.Deactivate(staff[0].Email);
        Slack.Remove(staff[2].Email);
        var third = await RefuseAsync();
        Assert.Equal(SlackApp.SystemErrorsChannel, third.Arg("channel"));
        Assert.Contains(orgName, third.Arg("text"));
    }
}

public sealed class SlackRecipientTestsOnSqlite(SqliteSlackApp app) : SlackRecipientTests(app), IClassFixture<SqliteSlackApp>;

public sealed class SlackRecipientTestsOnPostgres(PostgresSlackApp app) : SlackRecipientTests(app), IClassFixture<PostgresSlackApp>;
