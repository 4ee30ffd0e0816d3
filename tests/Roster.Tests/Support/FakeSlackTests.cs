using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Roster.Tests.Support;

/// <summary>
/// The strict fake's rules the SDK never exercises (it always sends a form): JSON bodies as Slack takes them, and
/// bodies Slack does not read. The SDK-driven half is tests/Roster.Tests/Contracts/SlackContractTests.cs.
/// </summary>
public sealed class FakeSlackTests : IAsyncLifetime
{
    private FakeSlack _slack = null!;
    private HttpClient _http = null!;

    public Task InitializeAsync()
    {
        _slack = FakeSlack.Start();
        _http = new HttpClient { BaseAddress = new Uri(_slack.BaseUrl) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", FakeSlack.Token);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _slack.DisposeAsync();
    }

    private async Task<JsonObject> PostAsync(string method, string body, string contentType)
    {
        using var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        using var response = await _http.PostAsync(method, content);
        return (JsonObject)JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    [Fact]
    public async Task AJsonBodyWithItsCharsetIsReadAndOneWithoutGetsSlacksMissingCharsetWarning()
    {
        var id = _slack.Map("json@example.com");

        var withCharset = await PostAsync("conversations.open", $$"""{"users":"{{id}}"}""", "application/json; charset=utf-8");
        var without = await PostAsync("conversations.open", $$"""{"users":"{{id}}"}""", "application/json");

        Assert.True(withCharset["ok"]!.GetValue<bool>());
        Assert.Null(withCharset["warning"]);
        Assert.True(without["ok"]!.GetValue<bool>());
        Assert.Equal("missing_charset", without["warning"]!.GetValue<string>());
        Assert.Equal("missing_charset", without["response_metadata"]!["warnings"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task UsersMustBeACommaSeparatedStringOfOneToEightKnownIds()
    {
        var ids = Enumerable.Range(0, 9).Select(i => _slack.Map($"person{i}@example.com")).ToList();
        const string json = "application/json; charset=utf-8";

        Assert.Equal("invalid_arguments", (await PostAsync("conversations.open", new JsonObject { ["users"] = new JsonArray(ids[0], ids[1]) }.ToJsonString(), json))["error"]!.GetValue<string>());
        Assert.Equal("users_list_not_supplied", (await PostAsync("conversations.open", "{}", json))["error"]!.GetValue<string>());
        Assert.Equal("too_many_users", (await PostAsync("conversations.open", $"users={string.Join(',', ids)}", "application/x-www-form-urlencoded"))["error"]!.GetValue<string>());
        Assert.True((await PostAsync("conversations.open", $"users={string.Join(',', ids.Take(8))}", "application/x-www-form-urlencoded"))["ok"]!.GetValue<bool>());
        Assert.Equal("user_not_found", (await PostAsync("conversations.open", $"users={ids[0]},UNOBODY", "application/x-www-form-urlencoded"))["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task ABodySlackDoesNotReadCarriesNoArguments()
    {
        var id = _slack.Map("plain@example.com");

        var plain = await PostAsync("conversations.open", $"users={id}", "text/plain");
        var broken = await PostAsync("conversations.open", "{not json", "application/json; charset=utf-8");

        Assert.Equal("users_list_not_supplied", plain["error"]!.GetValue<string>());
        Assert.Equal("invalid_json", broken["error"]!.GetValue<string>());
    }

    [Fact]
    // Stricter than Slack, which also takes a token POST parameter: the SDK, and Roster, send the header.
    public async Task TheTokenIsOnlyReadFromTheAuthorizationHeaderAsTheSdkSendsIt()
    {
        using var anonymous = new HttpClient { BaseAddress = new Uri(_slack.BaseUrl) };
        using var content = new FormUrlEncodedContent([new("token", FakeSlack.Token), new("email", "x@example.com")]);

        var answer = (JsonObject)JsonNode.Parse(await (await anonymous.PostAsync("users.lookupByEmail", content)).Content.ReadAsStringAsync())!;

        Assert.Equal("not_authed", answer["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task APostNeedsAChannelTheBotCanPostIn()
    {
        _slack.AddChannel("C0PRIVATE", botIsMember: false);
        _slack.AddChannel("C0OPEN");
        const string form = "application/x-www-form-urlencoded";

        Assert.Equal("not_in_channel", (await PostAsync("chat.postMessage", "channel=C0PRIVATE&text=hi", form))["error"]!.GetValue<string>());
        Assert.Equal("channel_not_found", (await PostAsync("chat.postMessage", "channel=C0UNKNOWN&text=hi", form))["error"]!.GetValue<string>());
        Assert.Equal("invalid_blocks_format", (await PostAsync("chat.postMessage", "channel=C0OPEN&text=hi&blocks=nope", form))["error"]!.GetValue<string>());
    }
}
