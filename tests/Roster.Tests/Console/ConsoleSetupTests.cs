using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Roster.Features.Notifications;
using Roster.Infrastructure.Data;
using Roster.Tests.Features;
using Roster.Tests.Support;

namespace Roster.Tests.Console;

/// <summary>
/// The console's wiring over plain HTTP: where it is mapped, the Development-only sign-in, the session cookie's attributes,
/// antiforgery on its forms, and the default "Manage team" link.
/// </summary>
public sealed partial class ConsoleSetupTests(SqliteApp testing, SqliteConsole development) : IClassFixture<SqliteApp>, IClassFixture<SqliteConsole>
{
    [Fact]
    public void TheDevelopmentSignInIsNotMappedOutsideDevelopment()
    {
        Assert.DoesNotContain(RouteTable.Of(testing), r => r.Route == "/console/dev-sign-in");
        Assert.Contains(RouteTable.Of(development.App), r => r.Route == "/console/dev-sign-in");
    }

    [Theory]
    [InlineData("Testing")]
    [InlineData("Production")]
    public async Task TheDevelopmentSignInAnswers404OutsideDevelopment(string environment)
    {
        await using var app = new EnvironmentApp(environment);
        await app.InitializeAsync();
        using var client = app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/console/dev-sign-in")).StatusCode);
        using var post = await client.PostAsync("/console/dev-sign-in", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["sub"] = "user_intruder", ["email"] = "intruder@example.com", ["platformAdmin"] = "true",
        }));
        Assert.Equal(HttpStatusCode.NotFound, post.StatusCode);
        Assert.DoesNotContain(post.Headers.TryGetValues("Set-Cookie", out var cookies) ? cookies : [], c => c.StartsWith("roster_console=", StringComparison.Ordinal));
        // The sign-in page offers no Development form there either.
        var signIn = await (await client.GetAsync("/console/sign-in")).Content.ReadAsStringAsync();
        Assert.DoesNotContain("dev-sign-in", signIn, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheRootRedirectsToTheConsoleAndTheConsoleToSignInWhenSignedOut()
    {
        using var client = testing.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        using var root = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, root.StatusCode);
        Assert.Equal("/console", root.Headers.Location!.OriginalString);
        using var console = await client.GetAsync("/console");
        Assert.Equal(HttpStatusCode.Redirect, console.StatusCode);
        Assert.Equal("/console/sign-in", console.Headers.Location!.AbsolutePath);
        Assert.Equal("?returnUrl=%2Fconsole", console.Headers.Location.Query);
        // A bearer token is the API's, not the console's: it does not sign anyone in to the console.
        using var withToken = await testing.ClientFor(RosterApp.NewUser()).GetAsync("/console");
        Assert.Equal(HttpStatusCode.Redirect, withToken.StatusCode);
    }

    [Fact]
    public async Task TheSessionCookieIsEncryptedHttpOnlySecureSameSiteAndScopedToTheConsole()
    {
        var user = RosterApp.NewUser("cookie");
        var (cookie, setCookie) = await DevSignInAsync(development.BaseUrl, user);
        var attributes = setCookie.Split(';').Select(a => a.Trim().ToLowerInvariant()).ToList();
        Assert.Contains("httponly", attributes);
        Assert.Contains("secure", attributes);
        Assert.Contains("samesite=lax", attributes);
        Assert.Contains("path=/console", attributes);
        // Data Protection: neither the token (a JWT starts with eyJ) nor the email is readable in the cookie.
        Assert.DoesNotContain("eyJ", cookie, StringComparison.Ordinal);
        Assert.DoesNotContain(user.Email.Split('@')[0], cookie, StringComparison.OrdinalIgnoreCase);

        using var http = Client(development.BaseUrl);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/console");
        request.Headers.Add("Cookie", cookie);
        using var page = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains(user.Name, html, StringComparison.Ordinal);
        Assert.DoesNotContain("eyJ", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AConsoleFormPostedWithoutItsAntiforgeryTokenIsRefusedAndChangesNothing()
    {
        var user = RosterApp.NewUser("csrf");
        var (cookie, _) = await DevSignInAsync(development.BaseUrl, user);
        var name = "Forged " + Guid.NewGuid().ToString("N")[..8];
        using var http = Client(development.BaseUrl);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/console?handler=Create")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["name"] = name }),
        };
        request.Headers.Add("Cookie", cookie);
        using var answer = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Equal(0, await development.App.WithDbAsync(db => db.Organizations.CountAsync(o => o.Name == name)));
    }

    [Fact]
    public void ManageTeamLinksDefaultToTheConsolesMembersPage()
    {
        Assert.Equal("http://localhost:5080/console/orgs/{organizationId}/members", testing.Services.GetRequiredService<LinkOptions>().ManageTeamUrl);
        Assert.Equal("https://roster.example/console/orgs/{organizationId}/members",
            LinkOptions.DefaultManageTeamUrl("https://roster.example"));
    }

    /// <summary>Signs in through the Development form as a browser would (antiforgery cookie and field); returns the session cookie.</summary>
    public static async Task<(string Cookie, string SetCookie)> DevSignInAsync(Uri baseUrl, TestUser user)
    {
        using var http = Client(baseUrl);
        using var form = await http.GetAsync("/console/dev-sign-in");
        form.EnsureSuccessStatusCode();
        var token = CsrfField().Match(await form.Content.ReadAsStringAsync()).Groups[1].Value;
        var csrfCookie = form.Headers.GetValues("Set-Cookie").First(c => c.StartsWith("roster_console_csrf=", StringComparison.Ordinal)).Split(';')[0];
        using var post = new HttpRequestMessage(HttpMethod.Post, "/console/dev-sign-in")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["__csrf"] = WebUtility.HtmlDecode(token), ["sub"] = user.Sub, ["email"] = user.Email, ["name"] = user.Name, ["emailVerified"] = "true",
            }),
        };
        post.Headers.Add("Cookie", csrfCookie);
        using var answer = await http.SendAsync(post);
        Assert.Equal(HttpStatusCode.Redirect, answer.StatusCode);
        var setCookie = answer.Headers.GetValues("Set-Cookie").First(c => c.StartsWith("roster_console=", StringComparison.Ordinal));
        return (setCookie.Split(';')[0], setCookie);
    }

    private static HttpClient Client(Uri baseUrl) =>
        new(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = baseUrl };

    [GeneratedRegex("name=\"__csrf\"[^>]*value=\"([^\"]+)\"")]
    private static partial Regex CsrfField();

    /// <summary>A host in the environment given (Testing, Production), on its own database.</summary>
    private sealed class EnvironmentApp(string environment) : RosterApp(StorageProvider.Sqlite), IAsyncDisposable
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseEnvironment(environment);
        }

        public override async ValueTask DisposeAsync()
        {
            await base.DisposeAsync();
            TestDatabases.Drop(Storage);
        }
    }
}
