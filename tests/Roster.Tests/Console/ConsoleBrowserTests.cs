using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Roster.Tests.Support;
using static Microsoft.Playwright.Assertions;

namespace Roster.Tests.Console;

/// <summary>
/// The console used as a person would, in Debian's Chromium: the six scenarios of the console issue, on SQLite and on
/// PostgreSQL. Every page a test visits is screenshotted and scanned by axe (<see cref="PageRecorder"/>).
/// </summary>
public abstract partial class ConsoleBrowserTests(ConsoleFixture fixture) : IAsyncLifetime
{
    private readonly List<IBrowserContext> _contexts = [];
    protected ConsoleFixture Fixture => fixture;
    protected Scenario Api { get; } = new(fixture.App);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var context in _contexts) await context.DisposeAsync();
    }

    protected PageRecorder Recorder(string test) => new(fixture.Provider.ToString().ToLowerInvariant(), test);

    /// <summary>A person in a browser of their own (a fresh context: their own cookies), signed in with the Development form.</summary>
    protected async Task<IPage> SignInAsync(TestUser user, PageRecorder recorder)
    {
        var page = await NewPageAsync();
        await page.GotoAsync("/console");
        await Expect(page).ToHaveURLAsync(new Regex("/console/sign-in"));
        await page.GetByRole(AriaRole.Link, new() { Name = "Development sign-in" }).ClickAsync();
        await page.GetByLabel("WorkOS user id").FillAsync(user.Sub);
        await page.GetByLabel("Email", new() { Exact = true }).FillAsync(user.Email);
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync(user.Name);
        if (!user.EmailVerified) await page.GetByLabel("Email verified").UncheckAsync();
        if (user.PlatformAdmin) await page.GetByLabel("Platform admin").CheckAsync();
        await recorder.SeeAsync(page, "dev-sign-in");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "My organizations", Level = 1 })).ToBeVisibleAsync();
        return page;
    }

    protected async Task<IPage> NewPageAsync()
    {
        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = fixture.BaseUrl.ToString() });
        context.SetDefaultTimeout(15_000);
        _contexts.Add(context);
        return await context.NewPageAsync();
    }

    protected static ILocator Row(IPage page, string text) => page.Locator("tr", new() { HasText = text });

    /// <summary>Creates an organization through the "My organizations" page; returns its id (from the members page it lands on).</summary>
    protected static async Task<Guid> CreateOrganizationAsync(IPage page, string name, PageRecorder recorder)
    {
        await page.GotoAsync("/console");
        await page.GetByLabel("Organization name").FillAsync(name);
        await recorder.SeeAsync(page, "my-organizations");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create organization" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/console/orgs/[0-9a-f-]+/members$"));
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"Created {name}");
        return Guid.Parse(OrgInUrl().Match(page.Url).Groups[1].Value);
    }

    protected static async Task<string> MeterTextAsync(IPage page, string seatType) =>
        (await page.Locator($"section[data-seat-type='{seatType}'] [data-testid='meter-text']").InnerTextAsync()).Trim();

    [GeneratedRegex("/console/orgs/([0-9a-f-]+)/")]
    private static partial Regex OrgInUrl();

    [Fact]
    public async Task AliceAddsBobByExactEmailBobAcceptsInHisInboxAndAliceSeesHimActiveWithTheMeterMoved()
    {
        var see = Recorder("scenario1-add-accept");
        var alice = RosterApp.NewUser("Alice");
        var bob = RosterApp.NewUser("Bob");
        var alicePage = await SignInAsync(alice, see);
        var orgId = await CreateOrganizationAsync(alicePage, "Acme", see);
        await Expect(Row(alicePage, alice.Email)).ToContainTextAsync("owner");

        var bobPage = await SignInAsync(bob, see);
        await see.SeeAsync(bobPage, "my-organizations-empty");

        await alicePage.GotoAsync($"/console/orgs/{orgId}/seats");
        Assert.Equal("1 of 5 used (1 active, 0 reserved) · 4 available", await MeterTextAsync(alicePage, "contributor"));
        await see.SeeAsync(alicePage, "seats-before");

        await alicePage.GotoAsync($"/console/orgs/{orgId}/members");
        await alicePage.GetByLabel("Email address").FillAsync(bob.Email.ToUpperInvariant());
        await alicePage.GetByRole(AriaRole.Button, new() { Name = "Find" }).ClickAsync();
        await Expect(alicePage.GetByText($"Found {bob.Name}")).ToBeVisibleAsync();
        await alicePage.GetByLabel("Role", new() { Exact = true }).SelectOptionAsync("member");
        await alicePage.GetByLabel("Seat type", new() { Exact = true }).SelectOptionAsync("contributor");
        await see.SeeAsync(alicePage, "members-found");
        await alicePage.GetByRole(AriaRole.Button, new() { Name = $"Add {bob.Name}" }).ClickAsync();
        await Expect(alicePage.GetByRole(AriaRole.Status)).ToContainTextAsync($"Added {bob.Email.ToLowerInvariant()}");
        await Expect(Row(alicePage, bob.Email)).ToContainTextAsync("pending");
        await see.SeeAsync(alicePage, "members-pending");

        await alicePage.GotoAsync($"/console/orgs/{orgId}/seats");
        Assert.Equal("2 of 5 used (1 active, 1 reserved) · 3 available", await MeterTextAsync(alicePage, "contributor"));

        await bobPage.GotoAsync("/console/invitations");
        var invitation = Row(bobPage, "Acme");
        await Expect(invitation).ToContainTextAsync(alice.Name);
        await see.SeeAsync(bobPage, "invitations");
        await invitation.GetByRole(AriaRole.Button, new() { Name = "Accept the invitation to Acme" }).ClickAsync();
        await Expect(bobPage.GetByRole(AriaRole.Status)).ToContainTextAsync("Invitation accepted");
        await Expect(bobPage.GetByText("No invitations.")).ToBeVisibleAsync();

        await alicePage.GotoAsync($"/console/orgs/{orgId}/members");
        await Expect(Row(alicePage, bob.Email)).ToContainTextAsync("active");
        await see.SeeAsync(alicePage, "members");
        await alicePage.GotoAsync($"/console/orgs/{orgId}/seats");
        Assert.Equal("2 of 5 used (2 active, 0 reserved) · 3 available", await MeterTextAsync(alicePage, "contributor"));
        await see.SeeAsync(alicePage, "seats");
    }
}

public sealed class ConsoleBrowserTestsOnSqlite(SqliteConsole fixture) : ConsoleBrowserTests(fixture), IClassFixture<SqliteConsole>;

public sealed class ConsoleBrowserTestsOnPostgres(PostgresConsole fixture) : ConsoleBrowserTests(fixture), IClassFixture<PostgresConsole>;
