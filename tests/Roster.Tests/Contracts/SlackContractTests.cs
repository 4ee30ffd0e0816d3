using System.Text.Json;
using System.Text.Json.Nodes;
using Roster.Tests.Notifications;
using Roster.Tests.Support;

namespace Roster.Tests.Contracts;

/// <summary>
/// @slack/web-api 8.2.0 is the judge of FakeSlack: the SDK's own calls (tests/contracts/slack/sdk-against-fake.mjs)
/// run against the strict fake, and each answer must be the one Slack documents. Everything else in the suite uses
/// the fake strict, so a rule proven here holds for every Slack test.
/// </summary>
public sealed class SlackSdkAgainstFakeSlackTests : IAsyncLifetime
{
    private FakeSlack _slack = null!;

    public Task InitializeAsync()
    {
        _slack = FakeSlack.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _slack.DisposeAsync();

    [Fact]
    public async Task TheSdksOwnCallsGetSlacksAnswersFromTheStrictFake()
    {
        var people = new Dictionary<string, string>
        {
            ["active"] = "ada@example.com", ["active2"] = "grace@example.com", ["deactivated"] = "gone@example.com",
            ["bot"] = "robot@example.com", ["unknown"] = "nobody@example.com",
        };
        var ids = people.Where(p => p.Key != "unknown").ToDictionary(p => p.Key, p => _slack.Map(p.Value));
        _slack.Deactivate(people["deactivated"]);
        _slack.MakeBot(people["bot"]);

        var run = (await NodeContract.RunAsync("slack/sdk-against-fake.mjs",
            new Dictionary<string, string> { ["SLACK_URL"] = _slack.BaseUrl, ["SLACK_TOKEN"] = FakeSlack.Token },
            JsonSerializer.Serialize(new { people, ids }))).EnsureSuccess();
        var r = JsonNode.Parse(run.Stdout)!;

        void Ok(string name) => Assert.True(r[name]!["ok"]!.GetValue<bool>(), $"{name}: {r[name]!.ToJsonString()}");
        void Refused(string name, string error)
        {
            Assert.False(r[name]!["ok"]!.GetValue<bool>(), $"{name} should have failed: {r[name]!.ToJsonString()}");
            Assert.Equal("slack_webapi_platform_error", r[name]!["code"]!.GetValue<string>());
            Assert.Equal(error, r[name]!["error"]!.GetValue<string>());
        }

        Ok("lookup");
        Assert.Equal(ids["active"], r["lookup"]!["result"]!["user"]!["id"]!.GetValue<string>());
        Assert.True(r["lookupDeactivated"]!["result"]!["user"]!["deleted"]!.GetValue<bool>());
        Assert.True(r["lookupBot"]!["result"]!["user"]!["is_bot"]!.GetValue<bool>());
        Refused("lookupUnknown", "users_not_found");

        Ok("openOne");
        Assert.Equal("D" + ids["active"], r["openOne"]!["result"]!["channel"]!["id"]!.GetValue<string>());
        Ok("openGroup");
        Assert.StartsWith("G", r["openGroup"]!["result"]!["channel"]!["id"]!.GetValue<string>());
        Refused("openWithDeactivated", "user_disabled");
        Refused("openWithUnknown", "user_not_found");
        Refused("openWithBot", "cannot_dm_bot");
        Refused("openNine", "too_many_users");
        Refused("openArray", "user_not_found");

        Ok("post");
        Assert.NotNull(r["post"]!["result"]!["ts"]);
        Refused("postTooLong", "invalid_blocks");
        Assert.Contains("[json-pointer:/blocks/0/text]", r["postTooLong"]!["data"]!["response_metadata"]!["messages"]![0]!.GetValue<string>());
        Ok("postLongest");
        Refused("postTooManyBlocks", "invalid_blocks");
        Ok("postMostBlocks");
        Refused("postDuplicateActionIds", "invalid_blocks");
        Refused("postWithoutText", "no_text"); // stricter than Slack, where the SDK only warns:
        Assert.True(r["postWithoutTextSdkWarned"]!.GetValue<bool>());
        Refused("postUnknownChannel", "channel_not_found");

        Refused("badToken", "invalid_auth");
        Refused("noToken", "not_authed");

        // What the fake saw is what the SDK sends: POST, a form body, the token as a Bearer header (or none at all).
        Assert.All(_slack.Calls, c =>
        {
            Assert.Equal("POST", c.HttpMethod);
            Assert.Equal("application/x-www-form-urlencoded", c.ContentType);
            Assert.Empty(c.Query);
            Assert.DoesNotContain("token", c.Form.Keys);
        });
        Assert.Equal(2, _slack.Calls.Count(c => c.Authorization != $"Bearer {FakeSlack.Token}"));
    }
}

/// <summary>
/// Roster's Slack requests beside the SDK's: Roster sends a refusal (lookups, conversations.open, chat.postMessage),
/// then tests/contracts/slack/replay.mjs makes the same calls with the SDK's own methods and the same arguments; the
/// fake recorded both, and they must match in everything Slack reads: HTTP method, path, content type, the headers
/// that matter (Authorization, Accept) and every body field (blocks as JSON).
/// </summary>
public abstract class RosterBesideSlackSdkTests(SlackApp app)
{
    private static readonly string[] HeadersThatMatter = ["Authorization", "Accept"];
    private readonly Scenario _s = new(app);

    [Fact]
    public async Task RostersSlackRequestsAreTheOnesTheSdkSendsForTheSameOperations()
    {
        var staffed = await _s.NewStaffedOrg();
        app.Slack.Map(staffed.Owner.Email);
        app.Slack.Map(staffed.Admin.Email);
        var refused = RosterApp.NewUser("refused");
        var before = app.Slack.Calls.Count;
        await app.EnqueueRefusalAsync(staffed.Id, refused.Email, "Eve *Ops* & Co");
        await app.DispatchUntilIdleAsync();
        var roster = app.Slack.Calls.Skip(before).ToList();
        Assert.Equal(["users.lookupByEmail", "users.lookupByEmail", "conversations.open", "chat.postMessage"], roster.Select(c => c.Method));
        Assert.All(roster, c => Assert.True(c.Succeeded, $"{c.Method}: {c.Error}"));

        var replay = new JsonArray(roster.Select(c => (JsonNode)new JsonObject { ["method"] = c.Method, ["args"] = Typed(c.Args) }).ToArray());
        var sdkBefore = app.Slack.Calls.Count;
        var run = (await NodeContract.RunAsync("slack/replay.mjs",
            new Dictionary<string, string> { ["SLACK_URL"] = app.Slack.BaseUrl, ["SLACK_TOKEN"] = FakeSlack.Token },
            replay.ToJsonString())).EnsureSuccess();
        Assert.All(JsonNode.Parse(run.Stdout)!.AsArray(), a => Assert.True(a!["ok"]!.GetValue<bool>(), a.ToJsonString()));
        var sdk = app.Slack.Calls.Skip(sdkBefore).ToList();
        Assert.Equal(roster.Count, sdk.Count);

        foreach (var (ours, theirs) in roster.Zip(sdk))
        {
            var what = $"{ours.Method}: Roster vs @slack/web-api";
            Assert.Equal((theirs.HttpMethod, theirs.Method), (ours.HttpMethod, ours.Method));
            Assert.Equal(MediaType(theirs.ContentType), MediaType(ours.ContentType));
            foreach (var header in HeadersThatMatter)
                Assert.True(theirs.Headers.GetValueOrDefault(header) == ours.Headers.GetValueOrDefault(header),
                    $"{what}: {header} '{ours.Headers.GetValueOrDefault(header)}' vs '{theirs.Headers.GetValueOrDefault(header)}'");
            Assert.Equal(theirs.Args.Keys.Order(StringComparer.Ordinal), ours.Args.Keys.Order(StringComparer.Ordinal));
            foreach (var (key, value) in ours.Args)
            {
                if (key == "blocks")
                    Assert.True(JsonNode.DeepEquals(JsonNode.Parse(theirs.Args[key]), JsonNode.Parse(value)), $"{what}: blocks differ");
                else
                    Assert.True(theirs.Args[key] == value, $"{what}: {key} '{value}' vs '{theirs.Args[key]}'");
            }
        }
    }

    /// <summary>The arguments as an application hands them to the SDK: blocks as objects, flags as booleans.</summary>
    private static JsonObject Typed(IReadOnlyDictionary<string, string> args)
    {
        var typed = new JsonObject();
        foreach (var (key, value) in args)
            typed[key] = key == "blocks" ? JsonNode.Parse(value) : value is "true" or "false" ? JsonValue.Create(value == "true") : JsonValue.Create(value);
        return typed;
    }

    private static string? MediaType(string? contentType) => contentType?.Split(';')[0].Trim();
}

public sealed class RosterBesideSlackSdkTestsOnSqlite(SqliteSlackApp app) : RosterBesideSlackSdkTests(app), IClassFixture<SqliteSlackApp>;

public sealed class RosterBesideSlackSdkTestsOnPostgres(PostgresSlackApp app) : RosterBesideSlackSdkTests(app), IClassFixture<PostgresSlackApp>;
