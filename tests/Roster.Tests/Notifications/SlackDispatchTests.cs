using System.Net;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;
using Roster.Tests.Support;
using Roster.Infrastructure.Outbox;
using Roster.Infrastructure.Seats;

namespace Roster.Tests.Notifications;

/// <summary>
/// The outbox dispatcher against a fake Slack, one call at a time, on a clock the tests move. Every test leaves
/// its rows sent or failed, and looks only at its own rows and its own people's Slack traffic.
/// </summary>
public abstract class SlackDispatchTests(SlackApp app)
{
    private readonly Scenario _s = new(app);
    private FakeSlack Slack => app.Slack;

    private IReadOnlyList<SlackCall> PostsAbout(TestUser person) =>
        Slack.Posted.Where(c => c.Arg("text")!.Contains(person.Email, StringComparison.Ordinal)).ToList();

    private IReadOnlyList<SlackCall> LookupsOf(string email) =>
        Slack.CallsTo("users.lookupByEmail").Where(c => c.Arg("email") == email).ToList();

    private Task<string?> SlackIdOf(TestUser user) =>
        app.WithDbAsync(db => db.Users.Where(u => u.WorkosUserId == user.Sub).Select(u => u.SlackUserId).SingleAsync());

    [Fact]
    public async Task OwnersAndAdminsGetAGroupDmAndTheirLookedUpSlackIdsAreKeptForNextTime()
    {
        var staffed = await _s.NewStaffedOrg();
        var ownerSlack = Slack.Map(staffed.Owner.Email);
        var adminSlack = Slack.Map(staffed.Admin.Email);
        Slack.Map(staffed.Member.Email);
        var refused = RosterApp.NewUser("refused");
        var row = await app.EnqueueRefusalAsync(staffed.Id, refused.Email, refused.Name);

        Assert.True(await app.DispatchUntilIdleAsync() >= 1);

        Assert.Single(LookupsOf(staffed.Owner.Email));
        Assert.Single(LookupsOf(staffed.Admin.Email));
        Assert.Empty(LookupsOf(staffed.Member.Email)); // a plain member is never told
        var open = Assert.Single(Slack.CallsTo("conversations.open"), c => c.Arg("users")!.Contains(ownerSlack, StringComparison.Ordinal));
        Assert.Equal($"{ownerSlack},{adminSlack}", open.Arg("users")); // owners first
        Assert.True(open.Succeeded);
        var post = Assert.Single(PostsAbout(refused));
        Assert.StartsWith("G", post.Arg("channel"));
        Assert.Equal(ownerSlack, await SlackIdOf(staffed.Owner));
        Assert.Equal(adminSlack, await SlackIdOf(staffed.Admin));
        Assert.Null(await SlackIdOf(staffed.Member));
        var sent = await app.RowAsync(row.Id);
        Assert.NotNull(sent.SentAt);
        Assert.Null(sent.FailedAt);
        Assert.Equal(1, sent.Attempts);

        var second = RosterApp.NewUser("second");
        var secondRow = await app.EnqueueRefusalAsync(staffed.Id, second.Email, second.Name);
        await app.DispatchUntilIdleAsync();

        Assert.Single(LookupsOf(staffed.Owner.Email)); // no second lookup: the ids came from the users table
        Assert.Single(LookupsOf(staffed.Admin.Email));
        Assert.Equal(post.Arg("channel"), Assert.Single(PostsAbout(second)).Arg("channel"));
        Assert.NotNull((await app.RowAsync(secondRow.Id)).SentAt);
    }

    [Fact]
    public async Task TheOnlyOwnerOrAdminOnSlackGetsADirectMessageAndSomeoneSlackDoesNotKnowIsSkipped()
    {
        var staffed = await _s.NewStaffedOrg();
        var ownerSlack = Slack.Map(staffed.Owner.Email);
        var refused = RosterApp.NewUser("refused");
        var row = await app.EnqueueRefusalAsync(staffed.Id, refused.Email, refused.Name);

        await app.DispatchUntilIdleAsync();

        var adminLookup = Assert.Single(LookupsOf(staffed.Admin.Email));
        Assert.Equal("users_not_found", adminLookup.Error);
        Assert.Null(await SlackIdOf(staffed.Admin));
        var open = Assert.Single(Slack.CallsTo("conversations.open"), c => c.Arg("users")!.Contains(ownerSlack, StringComparison.Ordinal));
        Assert.Equal(ownerSlack, open.Arg("users"));
        Assert.Equal("D" + ownerSlack, Assert.Single(PostsAbout(refused)).Arg("channel"));
        Assert.NotNull((await app.RowAsync(row.Id)).SentAt);
    }

    [Fact]
    public async Task WhenNoOwnerOrAdminIsOnSlackTheSystemErrorsChannelIsTold()
    {
        var staffed = await _s.NewStaffedOrg();
        var refused = RosterApp.NewUser("refused");
        var opensBefore = Slack.CallsTo("conversations.open").Count();
        var row = await app.EnqueueRefusalAsync(staffed.Id, refused.Email, refused.Name, organizationName: "Nobody On Slack Inc");

        await app.DispatchUntilIdleAsync();

        Assert.Equal("users_not_found", Assert.Single(LookupsOf(staffed.Owner.Email)).Error);
        Assert.Equal("users_not_found", Assert.Single(LookupsOf(staffed.Admin.Email)).Error);
        Assert.Equal(opensBefore, Slack.CallsTo("conversations.open").Count());
        var post = Assert.Single(PostsAbout(refused));
        Assert.Equal(SlackApp.SystemErrorsChannel, post.Arg("channel"));
        Assert.Contains("Nobody On Slack Inc", post.Arg("text"));
        Assert.Contains(staffed.Id.ToString(), post.Arg("text"));
        Assert.NotNull((await app.RowAsync(row.Id)).SentAt);
    }

    [Fact]
    public async Task ARefusalMessageNamesThePersonTheSeatTypeAndUsageAndLinksToUpgradeAndManageTeam()
    {
        var org = await _s.NewOrg();
        Slack.Map(org.Owner.Email);
        var refused = RosterApp.NewUser("refused");
        await app.EnqueueRefusalAsync(org.Id, refused.Email, "Eve <Ops> & Co", seatType: "community_only", limit: 5, used: 5,
            organizationName: "Acme & Sons");

        await app.DispatchUntilIdleAsync();

        var post = Assert.Single(PostsAbout(refused));
        Assert.Equal($"Bearer {FakeSlack.Token}", post.Authorization);
        Assert.Equal("application/x-www-form-urlencoded", post.ContentType); // as @slack/web-api sends it
        var text = post.Arg("text")!;
        Assert.Contains($"Eve &lt;Ops&gt; &amp; Co ({refused.Email})", text); // mrkdwn-escaped
        Assert.Contains("Acme &amp; Sons", text);
        Assert.Contains("5/5 community_only seats used", text);
        var upgrade = SlackApp.UpgradeUrl.Replace("{organizationId}", org.Id.ToString());
        var manage = SlackApp.ManageTeamUrl.Replace("{organizationId}", org.Id.ToString());
        Assert.Contains(upgrade, text);
        Assert.Contains(manage, text);

        var blocks = post.Blocks!;
        var section = blocks.Single(b => b!["type"]!.GetValue<string>() == "section")!;
        Assert.Equal("mrkdwn", section["text"]!["type"]!.GetValue<string>());
        var sectionText = section["text"]!["text"]!.GetValue<string>();
        Assert.Contains(refused.Email, sectionText);
        Assert.Contains("*community_only*", sectionText);
        Assert.Contains("(5/5 used)", sectionText);
        var buttons = blocks.Single(b => b!["type"]!.GetValue<string>() == "actions")!["elements"]!.AsArray();
        Assert.All(buttons, b => Assert.Equal("button", b!["type"]!.GetValue<string>()));
        Assert.All(buttons, b => Assert.Equal("plain_text", b!["text"]!["type"]!.GetValue<string>()));
        Assert.Equal(new[] { upgrade, manage }, buttons.Select(b => b!["url"]!.GetValue<string>()).ToArray());
        Assert.Equal(2, buttons.Select(b => b!["action_id"]!.GetValue<string>()).Distinct().Count());

        Assert.All(Slack.Calls.Where(c => c.Arg("email") == org.Owner.Email || c.Arg("text")?.Contains(refused.Email) == true),
            c => Assert.Equal($"Bearer {FakeSlack.Token}", c.Authorization));
    }

    [Fact]
    public async Task ASeatWarningSaysHowManySeatsOfWhichTypeAreUsedWithTheSameLinks()
    {
        var org = await _s.NewOrg();
        var ownerSlack = Slack.Map(org.Owner.Email);
        var name = $"Warned Org {Guid.NewGuid():N}";
        var row = await app.EnqueueAsync(NotificationKinds.SeatWarning, $"seat_warning:{org.Id}:contributor:80",
            new SeatWarningNotification(org.Id, "org_01WARN", name, "contributor", 80, 10, 8));

        await app.DispatchUntilIdleAsync();

        var post = Assert.Single(Slack.Posted, c => c.Arg("text")!.Contains(name, StringComparison.Ordinal));
        Assert.Equal("D" + ownerSlack, post.Arg("channel"));
        Assert.Contains("80%", post.Arg("text"));
        Assert.Contains("8/10 contributor seats used", post.Arg("text"));
        var urls = post.Blocks!.Where(b => b!["type"]!.GetValue<string>() == "actions")
            .SelectMany(b => b!["elements"]!.AsArray()).Select(e => e!["url"]!.GetValue<string>()).ToList();
        Assert.Equal(new[] { SlackApp.UpgradeUrl.Replace("{organizationId}", org.Id.ToString()),
            SlackApp.ManageTeamUrl.Replace("{organizationId}", org.Id.ToString()) }, urls);
        Assert.NotNull((await app.RowAsync(row.Id)).SentAt);
    }

    [Fact]
    public async Task WhileSlackIsDownNothingIsMarkedSentAndOnceItIsBackEveryNotificationArrivesExactlyOnce()
    {
        var staffed = await _s.NewStaffedOrg();
        Slack.Map(staffed.Owner.Email);
        Slack.Map(staffed.Admin.Email);
        var people = Enumerable.Range(0, 7).Select(i => RosterApp.NewUser($"refused{i}")).ToList();
        var rows = new List<NotificationOutboxRow>();
        Slack.Fail(new SlackFault.HttpStatus(500));
        try
        {
            foreach (var person in people) rows.Add(await app.EnqueueRefusalAsync(staffed.Id, person.Email, person.Name));

            for (var round = 1; round <= 2; round++)
            {
                var triedAt = app.Clock.UtcNow;
                await app.DispatchUntilIdleAsync();
                var retries = new List<DateTime>();
                foreach (var row in rows)
                {
                    var now = await app.RowAsync(row.Id);
                    Assert.Equal(round, now.Attempts);
                    Assert.Null(now.SentAt);
                    Assert.Null(now.FailedAt);
                    Assert.Equal("users.lookupByEmail: HTTP 500", now.LastError);
                    // Exponential backoff (60 s base in this fixture) with jitter in the upper half of the wait.
                    var wait = TimeSpan.FromSeconds(60 * Math.Pow(2, round - 1));
                    Assert.InRange(now.NextAttemptAt, triedAt + wait / 2 - TimeSpan.FromMilliseconds(1), triedAt + wait);
                    retries.Add(now.NextAttemptAt);
                }
                Assert.True(retries.Distinct().Count() > 1, "jitter spreads the retries");
                app.Clock.Advance(TimeSpan.FromMinutes(15));
            }
            // Each try also retried in the call (Polly) before giving the row back to the outbox.
            Assert.True(LookupsOf(staffed.Owner.Email).Count >= rows.Count * 2 * 3);
            Assert.All(people, p => Assert.Empty(PostsAbout(p)));
        }
        finally
        {
            Slack.Recover();
        }

        await app.DispatchUntilIdleAsync();

        foreach (var row in rows)
        {
            var now = await app.RowAsync(row.Id);
            Assert.NotNull(now.SentAt);
            Assert.Null(now.FailedAt);
            Assert.Equal(3, now.Attempts);
            Assert.Null(now.LastError); // sent: nothing left to act on
        }
        for (var i = 0; i < 3; i++)
        {
            app.Clock.Advance(TimeSpan.FromHours(1));
            await app.DispatchUntilIdleAsync();
        }
        Assert.All(people, p => Assert.Single(PostsAbout(p)));
    }

    [Fact]
    public async Task ARateLimitIsHonouredForTheRowAndTheRestOfItsBatch()
    {
        var org = await _s.NewOrg();
        Slack.Map(org.Owner.Email);
        var people = Enumerable.Range(0, 3).Select(i => RosterApp.NewUser($"limited{i}")).ToList();
        var rows = new List<NotificationOutboxRow>();
        foreach (var person in people) rows.Add(await app.EnqueueRefusalAsync(org.Id, person.Email, person.Name));
        Slack.Fail(new SlackFault.RateLimited(42));
        var callsBefore = Slack.Calls.Count;
        var now = app.Clock.UtcNow;
        try
        {
            Assert.Equal(3, await app.Dispatcher.DispatchDueAsync(CancellationToken.None));

            Assert.Equal(callsBefore + 1, Slack.Calls.Count); // stopped at the first 429
            var after = new List<NotificationOutboxRow>();
            foreach (var row in rows) after.Add(await app.RowAsync(row.Id));
            var tried = Assert.Single(after, r => r.Attempts == 1);
            Assert.Equal("users.lookupByEmail: ratelimited (HTTP 429)", tried.LastError);
            Assert.All(after, r => Assert.InRange(r.NextAttemptAt, now.AddSeconds(41), now.AddSeconds(43)));
            // The rest of the batch was handed back unsent, no try counted, due at the same time.
            Assert.Equal(2, after.Count(r => r.Attempts == 0 && r.LastError is null));
            Assert.All(after, r => Assert.Null(r.SentAt));

            Assert.Equal(0, await app.Dispatcher.DispatchDueAsync(CancellationToken.None));
            app.Clock.Advance(TimeSpan.FromSeconds(40));
            Assert.Equal(0, await app.Dispatcher.DispatchDueAsync(CancellationToken.None));
            Assert.Equal(callsBefore + 1, Slack.Calls.Count);
        }
        finally
        {
            Slack.Recover();
        }

        app.Clock.Advance(TimeSpan.FromSeconds(3));
        await app.DispatchUntilIdleAsync();

        Assert.All(people, p => Assert.Single(PostsAbout(p)));
        var attempts = new List<int>();
        foreach (var row in rows) attempts.Add((await app.RowAsync(row.Id)).Attempts);
        Assert.Equal(new[] { 1, 1, 2 }, attempts.Order().ToArray());
    }

    [Theory]
    [InlineData("chat.postMessage", "channel_not_found")]
    [InlineData("chat.postMessage", "not_in_channel")]
    [InlineData("conversations.open", "too_many_users")]
    public async Task APermanentSlackErrorFailsTheRowAtOnceAndItIsListedAsFailed(string? method, string error)
    {
        var org = await _s.NewOrg();
        Slack.Map(org.Owner.Email);
        var refused = RosterApp.NewUser("refused");
        var row = await app.EnqueueRefusalAsync(org.Id, refused.Email, refused.Name);
        Slack.Fail(new SlackFault.Error(error), method);
        try
        {
            await app.DispatchUntilIdleAsync();
        }
        finally
        {
            Slack.Recover();
        }

        var failed = await app.RowAsync(row.Id);
        Assert.NotNull(failed.FailedAt);
        Assert.Null(failed.SentAt);
        Assert.Equal(1, failed.Attempts);
        Assert.Equal($"{method ?? "users.lookupByEmail"}: {error}", failed.LastError);

        app.Clock.Advance(TimeSpan.FromHours(1));
        await app.DispatchUntilIdleAsync();
        Assert.Equal(1, (await app.RowAsync(row.Id)).Attempts); // never tried again
        Assert.Empty(PostsAbout(refused));

        var platformAdmin = _s.As(RosterApp.NewUser("platform", admin: true));
        var listed = (await (await platformAdmin.GetAsync("/api/admin/notifications?status=failed")).ShouldBe(HttpStatusCode.OK)).AsArray();
        var view = Assert.Single(listed, r => r!.Str("id") == row.Id.ToString())!;
        Assert.Equal("failed", view.Str("status"));
        Assert.Equal(failed.LastError, view.Str("lastError"));
        Assert.Equal(1, view["attempts"]!.GetValue<int>());
        var pending = (await (await platformAdmin.GetAsync("/api/admin/notifications?status=pending")).ShouldBe(HttpStatusCode.OK)).AsArray();
        Assert.DoesNotContain(pending, r => r!.Str("id") == row.Id.ToString());
    }

    [Fact]
    public async Task AnUnreadableRowFailsAtOnceWithoutTroublingSlack()
    {
        var callsBefore = Slack.Calls.Count;
        var unknown = await app.EnqueueAsync("carrier_pigeon", $"carrier_pigeon:{Guid.NewGuid():N}", new { to = "anyone" });
        var garbled = await app.EnqueueAsync(NotificationKinds.MembershipRefused, $"membership_refused:{Guid.NewGuid():N}", "not an object");

        await app.DispatchUntilIdleAsync();

        var unknownRow = await app.RowAsync(unknown.Id);
        Assert.NotNull(unknownRow.FailedAt);
        Assert.Equal(1, unknownRow.Attempts);
        Assert.Equal("unreadable notification: unknown notification kind 'carrier_pigeon'", unknownRow.LastError);
        var garbledRow = await app.RowAsync(garbled.Id);
        Assert.NotNull(garbledRow.FailedAt);
        Assert.StartsWith("unreadable notification:", garbledRow.LastError);
        Assert.Equal(callsBefore, Slack.Calls.Count);
    }

    [Fact]
    public async Task ARowThatKeepsFailingIsMarkedFailedAfterMaxAttempts()
    {
        var org = await _s.NewOrg();
        Slack.Map(org.Owner.Email);
        var refused = RosterApp.NewUser("refused");
        var row = await app.EnqueueRefusalAsync(org.Id, refused.Email, refused.Name);
        Slack.Fail(new SlackFault.HttpStatus(503));
        try
        {
            for (var attempt = 1; attempt <= 4; attempt++) // Notifications:MaxAttempts = 4 in this fixture
            {
                await app.DispatchUntilIdleAsync();
                var now = await app.RowAsync(row.Id);
                Assert.Equal(attempt, now.Attempts);
                Assert.Equal("users.lookupByEmail: HTTP 503", now.LastError);
                if (attempt < 4) Assert.Null(now.FailedAt);
                else Assert.NotNull(now.FailedAt);
                app.Clock.Advance(TimeSpan.FromMinutes(15));
            }
        }
        finally
        {
            Slack.Recover();
        }

        app.Clock.Advance(TimeSpan.FromHours(1));
        await app.DispatchUntilIdleAsync();
        var final = await app.RowAsync(row.Id);
        Assert.Equal(4, final.Attempts);
        Assert.Null(final.SentAt);
        Assert.Empty(PostsAbout(refused));
    }

    [Fact]
    public async Task TwoDispatchersRunningAtOnceNeverSendTheSameRowTwice()
    {
        var org = await _s.NewOrg();
        Slack.Map(org.Owner.Email);
        var people = Enumerable.Range(0, 20).Select(i => RosterApp.NewUser($"crowd{i}")).ToList();
        var rows = new List<NotificationOutboxRow>();
        foreach (var person in people) rows.Add(await app.EnqueueRefusalAsync(org.Id, person.Email, person.Name));
        // Slow answers keep both dispatchers busy at the same time.
        Slack.Latency = TimeSpan.FromMilliseconds(15);
        int[] claimed;
        try
        {
            using var start = new ManualResetEventSlim();
            var dispatchers = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
            {
                start.Wait();
                var total = 0;
                for (int n; (n = await app.Dispatcher.DispatchDueAsync(CancellationToken.None)) > 0;) total += n;
                return total;
            })).ToList();
            start.Set();
            claimed = await Task.WhenAll(dispatchers);
        }
        finally
        {
            Slack.Latency = TimeSpan.Zero;
        }

        Assert.All(claimed, n => Assert.True(n > 0, "both dispatchers got work"));
        Assert.Equal(rows.Count, claimed.Sum()); // no row was claimed twice
        Assert.All(people, p => Assert.Single(PostsAbout(p)));
        foreach (var row in rows)
        {
            var sent = await app.RowAsync(row.Id);
            Assert.NotNull(sent.SentAt);
            Assert.Equal(1, sent.Attempts);
        }
    }

    [Fact]
    public async Task TheBotTokenNeverReachesALogLine()
    {
        var org = await _s.NewOrg();
        Slack.Map(org.Owner.Email);
        var refused = RosterApp.NewUser("refused");
        await app.EnqueueRefusalAsync(org.Id, refused.Email, refused.Name);
        Slack.Fail(new SlackFault.HttpStatus(500), "conversations.open", times: 1);

        await app.DispatchUntilIdleAsync();

        Assert.Single(PostsAbout(refused));
        var lines = app.Logs.Lines;
        // HttpClient's request logging did run, headers included, so the check below means something.
        Assert.Contains(lines, l => l.Contains("System.Net.Http.HttpClient.SlackClient", StringComparison.Ordinal)
                                    && l.Contains("Authorization", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains(nameof(OutboxDispatcher), StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains(FakeSlack.Token, StringComparison.Ordinal));
    }
}

public sealed class SlackDispatchTestsOnSqlite(SqliteSlackApp app) : SlackDispatchTests(app), IClassFixture<SqliteSlackApp>;

public sealed class SlackDispatchTestsOnPostgres(PostgresSlackApp app) : SlackDispatchTests(app), IClassFixture<PostgresSlackApp>;
