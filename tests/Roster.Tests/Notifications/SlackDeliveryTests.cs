using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Roster.Features.Notifications;
using Roster.Infrastructure.Data;
using Roster.Tests.Support;
using Roster.Infrastructure.Outbox;

namespace Roster.Tests.Notifications;

/// <summary>
/// chat.postMessage when Slack is slow or unsure, workspace-level errors, and Slack's warnings — against the strict
/// fake. Its own fixture: a paused notifier shows in /health/ready, which no other class should see.
/// </summary>
public abstract class SlackDeliveryTests(SlackApp app)
{
    private readonly Scenario _s = new(app);
    private FakeSlack Slack => app.Slack;
    private HttpClient PlatformAdmin => _s.As(RosterApp.NewUser("platform", admin: true));

    private IReadOnlyList<SlackCall> PostsAbout(TestUser person) =>
        Slack.Posted.Where(c => c.Arg("text")!.Contains(person.Email, StringComparison.Ordinal)).ToList();

    private async Task<(Org Org, TestUser Refused, NotificationOutboxRow Row)> RefusalAsync()
    {
        var org = await _s.NewOrg();
        Slack.Map(org.Owner.Email);
        var refused = RosterApp.NewUser("refused");
        return (org, refused, await app.EnqueueRefusalAsync(org.Id, refused.Email, refused.Name));
    }

    [Fact]
    public async Task ASlowSlackThatPostsAndThenAnswersLateGetsExactlyOneMessage()
    {
        var (_, refused, row) = await RefusalAsync();
        Slack.Fail(new SlackFault.AnswerLate(SlackApp.RequestTimeout + TimeSpan.FromSeconds(2)), "chat.postMessage");
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
        Assert.Equal(1, failed.Attempts);
        Assert.Equal(OutboxErrors.MayHaveBeenDeliveredPrefix + "chat.postMessage: timed out", failed.LastError);
        Assert.Single(Slack.CallsTo("chat.postMessage"), c => c.Arg("text")!.Contains(refused.Email, StringComparison.Ordinal));

        for (var i = 0; i < 3; i++)
        {
            app.Clock.Advance(TimeSpan.FromHours(2));
            await app.DispatchUntilIdleAsync();
        }
        Assert.Single(PostsAbout(refused)); // exactly one message, however long we wait
        Assert.Equal(1, (await app.RowAsync(row.Id)).Attempts);
    }

    [Theory]
    [InlineData("internal_error")]
    [InlineData("fatal_error")]
    public async Task AnInternalOrFatalErrorFromChatPostMessageMayHavePostedSoTheRowFailsWithoutASecondPost(string error)
    {
        var (_, refused, row) = await RefusalAsync();
        Slack.Fail(new SlackFault.DoneThenError(error), "chat.postMessage", times: 1);

        await app.DispatchUntilIdleAsync();
        app.Clock.Advance(TimeSpan.FromHours(2));
        await app.DispatchUntilIdleAsync();

        Assert.Single(PostsAbout(refused));
        var failed = await app.RowAsync(row.Id);
        Assert.NotNull(failed.FailedAt);
        Assert.Equal(OutboxErrors.MayHaveBeenDeliveredPrefix + $"chat.postMessage: {error}", failed.LastError);
        var listed = (await (await PlatformAdmin.GetAsync("/api/admin/notifications?status=failed")).ShouldBe(HttpStatusCode.OK)).AsArray();
        Assert.Equal(failed.LastError, Assert.Single(listed, r => r!.Str("id") == row.Id.ToString())!.Str("lastError"));
    }

    [Fact]
    public async Task AConnectionThatCannotBeMadeIsNotAPostAndIsRetriedLater()
    {
        // Nothing listens on this port: the request never reaches anyone, so trying again later is safe.
        var closed = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var port = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        var client = new SlackClient(new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/api/") },
            new SlackOptions { BotToken = FakeSlack.Token }, new SlackResilience(new SlackOptions(), TimeProvider.System), TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<SlackClient>.Instance);

        var ex = await Assert.ThrowsAsync<SlackApiException>(() => client.PostMessageAsync("C1", "text", [], CancellationToken.None));

        Assert.Equal(OutboxFailure.Transient, ex.Failure);
        Assert.StartsWith("network error", ex.Error);
    }

    [Theory]
    [InlineData("invalid_auth")]
    [InlineData("token_revoked")]
    [InlineData("account_inactive")]
    [InlineData("missing_scope")]
    [InlineData("not_authed")]
    public async Task AWorkspaceLevelErrorPausesDeliveryRowsStayPendingAndReadinessSaysDegraded(string error)
    {
        var org = await _s.NewOrg();
        Slack.Map(org.Owner.Email);
        var people = Enumerable.Range(0, 7).Select(i => RosterApp.NewUser($"paused{i}")).ToList(); // more than one batch (5)
        var rows = new List<NotificationOutboxRow>();
        foreach (var person in people) rows.Add(await app.EnqueueRefusalAsync(org.Id, person.Email, person.Name));
        var expected = $"{OutboxErrors.PausedPrefix}users.lookupByEmail: {error}";
        Slack.Fail(new SlackFault.Error(error));
        var callsBefore = Slack.Calls.Count;
        try
        {
            await app.DispatchUntilIdleAsync();

            Assert.Equal(callsBefore + 1, Slack.Calls.Count); // one try; neither the rest of the batch nor the next batch were sent to fail too
            foreach (var row in rows)
            {
                var now = await app.RowAsync(row.Id);
                Assert.Equal((0, (DateTime?)null, (DateTime?)null, expected), (now.Attempts, now.SentAt, now.FailedAt, now.LastError));
            }
            var pending = (await (await PlatformAdmin.GetAsync("/api/admin/notifications?status=pending")).ShouldBe(HttpStatusCode.OK)).AsArray();
            Assert.All(rows, r => Assert.Equal(expected, Assert.Single(pending, v => v!.Str("id") == r.Id.ToString())!.Str("lastError")));
            using (var ready = await app.CreateClient().GetAsync("/health/ready"))
            {
                var health = await ready.ShouldBe(HttpStatusCode.OK);
                Assert.Equal("degraded", health.Str("status"));
                Assert.Equal(expected, health["degraded"]!.Str("notifier"));
            }

            // Still broken an hour later: each due round probes with one row, and nothing is ever marked failed.
            for (var round = 0; round < 6; round++)
            {
                app.Clock.Advance(TimeSpan.FromMinutes(10));
                await app.DispatchUntilIdleAsync();
            }
            Assert.Equal(7, Slack.Calls.Count - callsBefore); // one probe per round
            foreach (var row in rows) Assert.Null((await app.RowAsync(row.Id)).FailedAt);
        }
        finally
        {
            Slack.Recover();
        }

        // Fixed (a new token, the scope granted): the next probe works and everything waiting goes out, once.
        app.Clock.Advance(TimeSpan.FromMinutes(2));
        await app.DispatchUntilIdleAsync();
        foreach (var row in rows)
        {
            var sent = await app.RowAsync(row.Id);
            Assert.NotNull(sent.SentAt);
            Assert.Null(sent.LastError);
            Assert.Equal(1, sent.Attempts);
        }
        Assert.All(people, p => Assert.Single(PostsAbout(p)));
        using var readyAgain = await app.CreateClient().GetAsync("/health/ready");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"status":"ready"}"""), await readyAgain.ShouldBe(HttpStatusCode.OK)));
    }

    [Fact]
    public async Task SlacksWarningsAreLogged()
    {
        var (_, refused, _) = await RefusalAsync();
        Slack.Warn("chat.postMessage", "superfluous_charset");
        try
        {
            await app.DispatchUntilIdleAsync();
        }
        finally
        {
            Slack.Recover();
        }

        Assert.Single(PostsAbout(refused));
        Assert.Contains(app.Logs.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal)
                                             && l.Contains("Slack chat.postMessage answered with warning(s): superfluous_charset", StringComparison.Ordinal));
    }

    // ---- what the message says ----------------------------------------------------------------------------------

    private async Task<(SlackCall Post, string Section)> DeliverAsync(string? name, string? email, string organizationName)
    {
        var org = await _s.NewOrg();
        var owner = Slack.Map(org.Owner.Email);
        var row = await app.EnqueueRefusalAsync(org.Id, email, name, organizationName: organizationName);
        await app.DispatchUntilIdleAsync();
        var sent = await app.RowAsync(row.Id);
        Assert.True(sent.SentAt is not null, $"not sent: {sent.LastError}");
        var post = Assert.Single(Slack.Posted, c => c.Arg("channel") == "D" + owner);
        var section = post.Blocks!.Single(b => b!["type"]!.GetValue<string>() == "section")!["text"]!;
        Assert.True(section["verbatim"]!.GetValue<bool>());
        return (post, section["text"]!.GetValue<string>());
    }

    private static void AssertWellFormed(string mrkdwn)
    {
        Assert.True(mrkdwn.Length <= FakeSlack.MaxSectionText, $"{mrkdwn.Length} characters");
        // Every & starts one of the three entities: nothing was cut through an escape.
        for (var i = mrkdwn.IndexOf('&', StringComparison.Ordinal); i >= 0; i = mrkdwn.IndexOf('&', i + 1))
            Assert.True(mrkdwn.AsSpan(i).StartsWith("&amp;") || mrkdwn.AsSpan(i).StartsWith("&lt;") || mrkdwn.AsSpan(i).StartsWith("&gt;"), mrkdwn[i..Math.Min(i + 8, mrkdwn.Length)]);
        // No half of a surrogate pair was left behind.
        Assert.Equal(mrkdwn, Encoding.UTF8.GetString(new UTF8Encoding(false, throwOnInvalidBytes: true).GetBytes(mrkdwn)));
    }

    [Fact]
    public async Task NamesFullOfAmpersandsAreEscapedFirstThenClippedSoTheMessageStillFitsBlockKit()
    {
        var name = new string('&', 3000);
        var email = new string('<', 2000) + "@example.com";
        var (post, section) = await DeliverAsync(name, email, new string('>', 3000));

        AssertWellFormed(section);
        AssertWellFormed(post.Arg("text")!);
        Assert.Contains("&amp;&amp;&amp;" + Mrkdwn.Ellipsis, section);
        Assert.Contains("&lt;&lt;" + Mrkdwn.Ellipsis, section); // the email is clipped too
        Assert.Contains("&gt;&gt;" + Mrkdwn.Ellipsis, section);
    }

    [Fact]
    public async Task ClippingNeverSplitsAGrapheme()
    {
        const string family = "\U0001F468\u200D\U0001F469\u200D\U0001F467"; // one grapheme, eight UTF-16 units
        const string accented = "e\u0301"; // e + combining acute
        var (_, section) = await DeliverAsync(string.Concat(Enumerable.Repeat(family, 400)), $"{Guid.NewGuid():N}@example.com",
            string.Concat(Enumerable.Repeat(accented, 400)));

        AssertWellFormed(section);
        var person = section[(section.IndexOf('*', StringComparison.Ordinal) + 1)..section.IndexOf(" (", StringComparison.Ordinal)];
        Assert.EndsWith(family + Mrkdwn.Ellipsis, person);
        Assert.Equal(0, (person.Length - Mrkdwn.Ellipsis.Length) % family.Length);
        Assert.Contains(accented + Mrkdwn.Ellipsis + "*", section);
        var elements = StringInfo.GetTextElementEnumerator(person);
        while (elements.MoveNext()) Assert.True(elements.GetTextElement() is family or Mrkdwn.Ellipsis, $"split grapheme {elements.GetTextElement()}");
    }

    [Fact]
    public async Task FormattingCharactersAndLineBreaksInNamesCannotForgeTheMessage()
    {
        var email = $"a_b.{Guid.NewGuid():N}@example.com";
        var (post, section) = await DeliverAsync("*Boss* _urgent_ ~gone~ `code`\n:white_check_mark: Approved by <!here>\r\nReal line",
            email, "Acme*\nFake org line");

        var firstLine = section.Split('\n')[0];
        Assert.Equal(2, section.Split('\n').Length); // only Roster's own line break
        Assert.Contains("\u2217Boss\u2217 \u02CDurgent\u02CD \u223Cgone\u223C \u02CBcode\u02CB :white_check_mark: Approved by &lt;!here&gt; Real line", firstLine);
        Assert.Contains("Acme\u2217 Fake org line", firstLine);
        Assert.Contains("a_b.", firstLine); // inside a word an underscore cannot format: emails stay as they are
        // Without Roster's own bold markers, nothing in the line can format.
        var content = firstLine.Replace(":no_entry: *", "", StringComparison.Ordinal).Replace("* was not added to *", "", StringComparison.Ordinal);
        Assert.EndsWith("*.", content);
        Assert.Equal(-1, content[..^2].Replace("a_b.", "", StringComparison.Ordinal).Replace("white_check_mark", "", StringComparison.Ordinal)
            .IndexOfAny(['*', '_', '~', '`']));
        var text = post.Arg("text")!;
        Assert.DoesNotContain('\n', text);
        Assert.Contains("\u2217Boss\u2217", text);
    }
}

public sealed class SlackDeliveryTestsOnSqlite(SqliteSlackApp app) : SlackDeliveryTests(app), IClassFixture<SqliteSlackApp>;

public sealed class SlackDeliveryTestsOnPostgres(PostgresSlackApp app) : SlackDeliveryTests(app), IClassFixture<PostgresSlackApp>;
