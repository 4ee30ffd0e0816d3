using System.Net;
using System.Text.RegularExpressions;
using Roster.Tests.Features;
using Roster.Tests.Reliability;
using Roster.Tests.Support;
using Xunit.Abstractions;

namespace Roster.Tests.Console;

/// <summary>
/// Malformed input at every console page (the route table's /console routes, so a new page is covered without edits), as
/// FuzzTests does for the API: every method, bad path ids, bad query strings and handler names, bad form fields — signed out,
/// with a forged session cookie, and signed in with a valid antiforgery token. Whatever comes in: never a 5xx, every 4xx a
/// problem with a code that changed nothing, and never a redirect off the site.
/// </summary>
public sealed class ConsoleFuzzTests(SqliteConsole console, ITestOutputHelper output) : IClassFixture<SqliteConsole>
{
    private static readonly string[] Methods = ["GET", "POST", "PUT", "PATCH", "DELETE"];

    private static readonly string[] Handlers =
        ["Create", "Search", "Add", "Role", "SeatType", "Remove", "Renew", "Offer", "Withdraw", "Leave", "Accept", "Decline", "AcceptOffer",
         "DeclineOffer", "Check", "Join", "AuthKit", "Approve", "Reject", "Plan", "Retry", "RetryFailed", "Nope", ""];

    private static readonly string[] Queries =
        ["", "?after=%%%", "?after=" + new string('x', 3000), "?returnUrl=https%3A%2F%2Fevil.example%2F", "?returnUrl=%2F%2Fevil.example",
         "?membershipId=not-a-guid", "?membershipId=00000000-0000-0000-0000-000000000000", "?code=x&state=y", "?error=access_denied",
         "?status=nonsense&limit=-1", "?expired=maybe&failed=%3Cscript%3E"];

    private static readonly Dictionary<string, string>[] Forms =
    [
        [],
        new() { ["name"] = "", ["email"] = "", ["role"] = "", ["seatType"] = "", ["plan"] = "" },
        new() { ["name"] = new string('n', 5000), ["email"] = "not-an-email", ["role"] = "<script>", ["seatType"] = "\u0000", ["userId"] = "x" },
        new() { ["userId"] = Guid.Empty.ToString(), ["role"] = "owner", ["seatType"] = "contributor", ["organization"] = "https://evil.example/console/orgs/%00/" },
        new() { ["sub"] = "", ["email"] = "@", ["platformAdmin"] = "maybe", ["emailVerified"] = "perhaps", ["organizationId"] = "org_nope" },
    ];

    [Fact]
    public async Task EveryConsolePageAnswersMalformedInputWithoutAServerErrorAndChangesNothingWhenItRefuses()
    {
        var routes = RouteTable.Of(console.App).Where(r => RouteTable.IsConsolePage(r.Route)).Select(r => r.Route).Distinct().Order().ToList();
        Assert.Contains("/console/orgs/{orgId}/members", routes);
        var owner = RosterApp.NewUser("fuzz-owner");
        var (session, _) = await ConsoleSetupTests.DevSignInAsync(console.BaseUrl, owner);
        var org = await new Scenario(console.App).NewOrg(owner);
        var random = new Random(20261130);
        var counts = new Dictionary<string, int>();

        var cases = 0;
        foreach (var route in routes)
        {
            // (No encoded NUL in the path: Kestrel itself refuses it with a bare 400 before any app code runs.)
            foreach (var orgId in new[] { org.Id.ToString(), "not-an-org", "org_nope", Guid.NewGuid().ToString() })
            {
                var path = route.Replace("{orgId}", orgId, StringComparison.Ordinal);
                foreach (var method in Methods)
                {
                    // Each of the three callers, with a drawn query, handler and form (the draw is seeded: the same cases every run).
                    foreach (var who in new[] { "anonymous", "forged", "owner" })
                    {
                        var query = Queries[random.Next(Queries.Length)];
                        var handler = Handlers[random.Next(Handlers.Length)];
                        var form = Forms[random.Next(Forms.Length)];
                        var url = path + (query.Length == 0 ? "?" : query + "&") + "handler=" + handler;
                        var cookie = who switch
                        {
                            "owner" => session,
                            "forged" => "roster_console=CfDJ8" + new string('A', 200),
                            _ => null,
                        };
                        var status = await SendAsync(method, url, cookie, form, withCsrf: who == "owner" && random.Next(4) > 0);
                        counts[$"{route} {status}"] = counts.GetValueOrDefault($"{route} {status}") + 1;
                        cases++;
                    }
                }
            }
        }
        foreach (var (key, n) in counts.OrderBy(c => c.Key, StringComparer.Ordinal)) output.WriteLine($"{key}: {n}");
        output.WriteLine($"{cases} cases");
        Assert.True(cases >= routes.Count * 60);
    }

    private async Task<int> SendAsync(string method, string url, string? cookie, Dictionary<string, string> form, bool withCsrf)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = console.BaseUrl };
        var fields = new Dictionary<string, string>(form);
        var cookies = cookie is null ? new List<string>() : [cookie];
        if (withCsrf && cookie is not null)
        {
            // A valid antiforgery pair for this session, so what is tested is the handler's input, not the token check.
            using var get = new HttpRequestMessage(HttpMethod.Get, "/console/invitations");
            get.Headers.Add("Cookie", cookie);
            using var page = await http.SendAsync(get);
            var html = await page.Content.ReadAsStringAsync();
            var token = Regex.Match(html, "name=\"__csrf\"[^>]*value=\"([^\"]+)\"").Groups[1].Value;
            if (page.Headers.TryGetValues("Set-Cookie", out var set) && set.FirstOrDefault(c => c.StartsWith("roster_console_csrf=", StringComparison.Ordinal)) is { } csrf)
                cookies.Add(csrf.Split(';')[0]);
            fields["__csrf"] = WebUtility.HtmlDecode(token);
        }

        var before = await DbState.CaptureAsync(console.App);
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (method != "GET") request.Content = new FormUrlEncodedContent(fields);
        if (cookies.Count > 0) request.Headers.Add("Cookie", string.Join("; ", cookies));
        using var response = await http.SendAsync(request);
        var status = (int)response.StatusCode;
        var body = await response.Content.ReadAsStringAsync();
        var context = $"{method} {url} ({(cookie is null ? "signed out" : withCsrf ? "signed in, token" : "cookie, no token")}) answered {status}: {body[..Math.Min(body.Length, 500)]}";
        Assert.True(status < 500, "A server error: " + context);
        if (status is >= 300 and < 400)
        {
            var location = response.Headers.Location!;
            Assert.True(!location.IsAbsoluteUri || location.Host == console.BaseUrl.Host || location.AbsoluteUri.StartsWith(console.WorkOs.BaseUrl.ToString(), StringComparison.Ordinal),
                "A redirect off the site: " + location + " for " + context);
        }
        if (status >= 400)
        {
            Assert.True(ProblemBody.Defect(status, response.Content.Headers.ContentType?.MediaType, body) is null, "Not a problem with a code: " + context);
            Assert.Equal(before, await DbState.CaptureAsync(console.App));
        }
        return status;
    }
}
