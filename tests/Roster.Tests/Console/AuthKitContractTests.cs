using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.WebUtilities;
using Roster.Tests.Contracts;
using Roster.Tests.Support;

namespace Roster.Tests.Console;

/// <summary>
/// The contract suite's AuthKit part (tests/contracts/authkit): @workos-inc/node 11.0.0 drives the fake's authorize and
/// authenticate endpoints, and Roster's own requests — the authorize URL it redirects to, the code exchange and the refresh
/// it sends — are compared with the SDK's for the same inputs.
/// </summary>
public sealed partial class AuthKitContractTests(SqliteConsole console) : IClassFixture<SqliteConsole>
{
    [Fact]
    public async Task TheFakesAuthKitEndpointsAnswerTheSdkAndRosterSendsWhatTheSdkSends()
    {
        var fake = console.WorkOs;
        var (userId, _) = fake.CreateUser($"ada.{Guid.NewGuid():N}@example.com", "Ada", "Lovelace");

        // Roster's side, as a browser: start the sign-in, go through the fake's authorize, come back to the callback.
        using var http = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = console.BaseUrl };
        using var form = await http.GetAsync("/console/sign-in?returnUrl=%2Fconsole%2Finvitations");
        var token = WebUtility.HtmlDecode(CsrfField().Match(await form.Content.ReadAsStringAsync()).Groups[1].Value);
        var csrf = form.Headers.GetValues("Set-Cookie").First(c => c.StartsWith("roster_console_csrf=", StringComparison.Ordinal)).Split(';')[0];
        using var start = new HttpRequestMessage(HttpMethod.Post, "/console/sign-in?handler=AuthKit")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["__csrf"] = token, ["returnUrl"] = "/console/invitations" }),
        };
        start.Headers.Add("Cookie", csrf);
        using var started = await http.SendAsync(start);
        Assert.Equal(HttpStatusCode.Redirect, started.StatusCode);
        var rosterAuthorizeUrl = started.Headers.Location!.AbsoluteUri;
        var stateCookie = started.Headers.GetValues("Set-Cookie").First(c => c.StartsWith("roster_console_state=", StringComparison.Ordinal)).Split(';')[0];
        var query = QueryHelpers.ParseQuery(started.Headers.Location.Query);
        var redirectUri = query["redirect_uri"].ToString();
        var state = query["state"].ToString();
        Assert.Equal(new Uri(console.BaseUrl, "/console/auth/callback").AbsoluteUri, redirectUri);

        fake.SignInNext(userId);
        using var authorized = await http.GetAsync(rosterAuthorizeUrl);
        Assert.Equal(HttpStatusCode.Redirect, authorized.StatusCode);
        using var callback = new HttpRequestMessage(HttpMethod.Get, authorized.Headers.Location);
        callback.Headers.Add("Cookie", stateCookie);
        using var signedIn = await http.SendAsync(callback);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal("/console/invitations", signedIn.Headers.Location!.OriginalString);
        var session = signedIn.Headers.GetValues("Set-Cookie").First(c => c.StartsWith("roster_console=", StringComparison.Ordinal)).Split(';')[0];
        var rosterExchange = LastAuthenticate(fake);

        // Roster refreshes an expired access token with the refresh token (the next page it loads).
        console.IssueExpiredAccessTokens = true;
        try
        {
            var (expiredUserId, _) = fake.CreateUser($"grace.{Guid.NewGuid():N}@example.com", "Grace", "Hopper");
            var expiredSession = await SignInThroughAuthKitAsync(http, expiredUserId);
            console.IssueExpiredAccessTokens = false;
            using var page = new HttpRequestMessage(HttpMethod.Get, "/console");
            page.Headers.Add("Cookie", expiredSession);
            using var loaded = await http.SendAsync(page);
            Assert.Equal(HttpStatusCode.OK, loaded.StatusCode);
        }
        finally
        {
            console.IssueExpiredAccessTokens = false;
        }
        var rosterRefresh = LastAuthenticate(fake);
        Assert.Equal("refresh_token", rosterRefresh["grant_type"]!.GetValue<string>());

        // The SDK's side, with the same client id, redirect URI and state.
        fake.SignInNext(userId);
        var sdkFrom = fake.Requests.Count;
        var result = JsonNode.Parse((await NodeContract.RunAsync("authkit/authkit.mjs", new Dictionary<string, string>
        {
            ["WORKOS_BASE_URL"] = fake.BaseUrl.ToString(), ["WORKOS_API_KEY"] = fake.ApiKey, ["AUTHKIT_CLIENT_ID"] = ConsoleHost.ClientId,
            ["AUTHKIT_REDIRECT_URI"] = redirectUri, ["AUTHKIT_STATE"] = state,
        })).EnsureSuccess().Stdout)!;

        Assert.Equal(rosterAuthorizeUrl, result["authorizationUrl"]!.GetValue<string>());
        Assert.Equal(302, result["authorizeStatus"]!.GetValue<int>());
        Assert.Equal(redirectUri, result["redirectedTo"]!.GetValue<string>());
        Assert.Equal(state, result["returnedState"]!.GetValue<string>());
        Assert.Equal(userId, result["user"]!["id"]!.GetValue<string>());
        Assert.Equal("Ada", result["user"]!["firstName"]!.GetValue<string>());
        Assert.True(result["hasAccessToken"]!.GetValue<bool>());
        Assert.True(result["hasRefreshToken"]!.GetValue<bool>());
        Assert.Equal(400, result["spentCode"]!["status"]!.GetValue<int>());
        Assert.Equal(userId, result["refreshedUser"]!.GetValue<string>());
        Assert.True(result["rotated"]!.GetValue<bool>());
        Assert.Equal(400, result["spentRefresh"]!["status"]!.GetValue<int>());

        // Field by field, Roster's exchange and refresh are the SDK's (the one-time code and token aside).
        var sdkBodies = fake.Requests.Skip(sdkFrom).Where(r => r.Path == "/user_management/authenticate").Select(r => JsonNode.Parse(r.Body)!.AsObject()).ToList();
        var sdkExchange = sdkBodies.First(b => b["grant_type"]!.GetValue<string>() == "authorization_code");
        var sdkRefresh = sdkBodies.First(b => b["grant_type"]!.GetValue<string>() == "refresh_token");
        AssertSameFields(sdkExchange, rosterExchange, "code");
        AssertSameFields(sdkRefresh, rosterRefresh, "refresh_token");
        Assert.StartsWith("roster_console=", session, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACallbackWhoseStateIsNotThisBrowsersSignsNobodyIn()
    {
        var fake = console.WorkOs;
        var (userId, _) = fake.CreateUser($"mallory.{Guid.NewGuid():N}@example.com", "Mallory", "Swap");
        using var http = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = console.BaseUrl };
        using var form = await http.GetAsync("/console/sign-in");
        var token = WebUtility.HtmlDecode(CsrfField().Match(await form.Content.ReadAsStringAsync()).Groups[1].Value);
        var csrf = form.Headers.GetValues("Set-Cookie").First(c => c.StartsWith("roster_console_csrf=", StringComparison.Ordinal)).Split(';')[0];
        using var start = new HttpRequestMessage(HttpMethod.Post, "/console/sign-in?handler=AuthKit")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["__csrf"] = token }),
        };
        start.Headers.Add("Cookie", csrf);
        using var started = await http.SendAsync(start);
        var stateCookie = started.Headers.GetValues("Set-Cookie").First(c => c.StartsWith("roster_console_state=", StringComparison.Ordinal)).Split(';')[0];
        fake.SignInNext(userId);
        using var authorized = await http.GetAsync(started.Headers.Location);
        var code = QueryHelpers.ParseQuery(authorized.Headers.Location!.Query)["code"].ToString();
        var exchangesBefore = fake.Requests.Count(r => r.Path == "/user_management/authenticate");

        // A code delivered with another state (a login CSRF), or with no state cookie at all, is never exchanged.
        foreach (var (state, cookie) in new[] { ("forged-state", stateCookie), (QueryHelpers.ParseQuery(authorized.Headers.Location.Query)["state"].ToString(), (string?)null) })
        {
            using var callback = new HttpRequestMessage(HttpMethod.Get, $"/console/auth/callback?code={Uri.EscapeDataString(code)}&state={Uri.EscapeDataString(state)}");
            if (cookie is not null) callback.Headers.Add("Cookie", cookie);
            using var answer = await http.SendAsync(callback);
            Assert.Equal(HttpStatusCode.Redirect, answer.StatusCode);
            Assert.Equal("/console/sign-in?failed=state", answer.Headers.Location!.OriginalString);
            Assert.DoesNotContain(answer.Headers.TryGetValues("Set-Cookie", out var set) ? set : [], c => c.StartsWith("roster_console=", StringComparison.Ordinal));
        }
        Assert.Equal(exchangesBefore, fake.Requests.Count(r => r.Path == "/user_management/authenticate"));
    }

    private async Task<string> SignInThroughAuthKitAsync(HttpClient http, string userId)
    {
        using var form = await http.GetAsync("/console/sign-in");
        var token = WebUtility.HtmlDecode(CsrfField().Match(await form.Content.ReadAsStringAsync()).Groups[1].Value);
        var csrf = form.Headers.GetValues("Set-Cookie").First(c => c.StartsWith("roster_console_csrf=", StringComparison.Ordinal)).Split(';')[0];
        using var start = new HttpRequestMessage(HttpMethod.Post, "/console/sign-in?handler=AuthKit")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["__csrf"] = token }),
        };
        start.Headers.Add("Cookie", csrf);
        using var started = await http.SendAsync(start);
        var stateCookie = started.Headers.GetValues("Set-Cookie").First(c => c.StartsWith("roster_console_state=", StringComparison.Ordinal)).Split(';')[0];
        console.WorkOs.SignInNext(userId);
        using var authorized = await http.GetAsync(started.Headers.Location);
        using var callback = new HttpRequestMessage(HttpMethod.Get, authorized.Headers.Location);
        callback.Headers.Add("Cookie", stateCookie);
        using var signedIn = await http.SendAsync(callback);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        return signedIn.Headers.GetValues("Set-Cookie").First(c => c.StartsWith("roster_console=", StringComparison.Ordinal)).Split(';')[0];
    }

    private static JsonObject LastAuthenticate(FakeWorkOs fake) =>
        JsonNode.Parse(fake.Requests.Last(r => r.Path == "/user_management/authenticate").Body)!.AsObject();

    private static void AssertSameFields(JsonObject sdk, JsonObject roster, string oneTime)
    {
        Assert.Equal(sdk.Select(p => p.Key).Order(StringComparer.Ordinal), roster.Select(p => p.Key).Order(StringComparer.Ordinal));
        foreach (var (key, value) in sdk)
            if (key != oneTime) Assert.Equal(value?.ToJsonString(), roster[key]?.ToJsonString());
    }

    [GeneratedRegex("name=\"__csrf\"[^>]*value=\"([^\"]+)\"")]
    private static partial Regex CsrfField();
}
