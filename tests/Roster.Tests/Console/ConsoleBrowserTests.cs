using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Roster.Infrastructure.Data;
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
        // Expect(…) assertions keep Playwright's own 5 s default unless told: the same patience as actions, for a loaded CI machine.
        SetDefaultExpectTimeout(15_000);
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
    [Fact]
    public async Task CarolAsksToJoinAliceApprovesHerWithASeatTypeAndTheBadgeClears()
    {
        var see = Recorder("scenario2-join-request");
        var alice = RosterApp.NewUser("Alice");
        var carol = RosterApp.NewUser("Carol");
        var alicePage = await SignInAsync(alice, see);
        var orgId = await CreateOrganizationAsync(alicePage, "Globex", see);
        await Expect(alicePage.GetByTestId("requests-badge")).ToHaveCountAsync(0);

        var carolPage = await SignInAsync(carol, see);
        await carolPage.GotoAsync("/console/invitations");
        // The link Alice would share (the members page) names the organization.
        await carolPage.GetByLabel("Organization id or link").FillAsync($"{Fixture.BaseUrl}console/orgs/{orgId}/members");
        await carolPage.GetByRole(AriaRole.Button, new() { Name = "Check" }).ClickAsync();
        await Expect(carolPage.GetByText("You can ask to join.")).ToBeVisibleAsync();
        await see.SeeAsync(carolPage, "invitations-preflight");
        await carolPage.GetByRole(AriaRole.Button, new() { Name = "Ask to join" }).ClickAsync();
        await Expect(carolPage.GetByRole(AriaRole.Status)).ToContainTextAsync("Join request sent");
        await Expect(carolPage.Locator("table[aria-labelledby='requests-heading'] tbody tr")).ToHaveCountAsync(1);
        // Asking again: the preflight shows the reason the real request would be refused with, before asking.
        await carolPage.GetByLabel("Organization id or link").FillAsync(orgId.ToString());
        await carolPage.GetByRole(AriaRole.Button, new() { Name = "Check" }).ClickAsync();
        await Expect(carolPage.Locator("li[data-code='join_request_pending']")).ToBeVisibleAsync();
        await see.SeeAsync(carolPage, "invitations-refused-preflight");

        await alicePage.GotoAsync($"/console/orgs/{orgId}/members");
        await Expect(alicePage.GetByTestId("requests-badge")).ToContainTextAsync("1");
        await alicePage.GetByRole(AriaRole.Link, new() { Name = "Join requests" }).ClickAsync();
        var request = Row(alicePage, carol.Email);
        await Expect(request).ToBeVisibleAsync();
        await see.SeeAsync(alicePage, "join-requests");
        await request.GetByLabel("Seat type").SelectOptionAsync("community_only");
        await request.GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();
        await Expect(alicePage.GetByRole(AriaRole.Status)).ToContainTextAsync("Approved with a community_only seat");
        await Expect(alicePage.GetByTestId("requests-badge")).ToHaveCountAsync(0);
        await Expect(alicePage.GetByText("No one is waiting.")).ToBeVisibleAsync();
        await see.SeeAsync(alicePage, "join-requests-empty");

        await alicePage.GotoAsync($"/console/orgs/{orgId}/members");
        var carolRow = Row(alicePage, carol.Email);
        await Expect(carolRow).ToContainTextAsync("active");
        await Expect(carolRow).ToContainTextAsync("asked to join");
        await Expect(carolRow.GetByLabel($"Seat type of {carol.Name}")).ToHaveValueAsync("community_only");
    }

    [Fact]
    public async Task ASignedWorkOsWebhookOverTheCapShowsItsRefusalOnTheSeatsPageWithTheRightNumbers()
    {
        var see = Recorder("scenario3-webhook-refusal");
        var workos = Fixture.WorkOs;
        var hooks = Fixture.App.ClientFor(null);
        var (workosOrg, orgCreated) = workos.CreateOrganization("Umbrella");
        await hooks.DeliverOk(orgCreated);
        var orgId = await Fixture.App.WithDbAsync(db => db.Organizations.Where(o => o.WorkosOrganizationId == workosOrg).Select(o => o.Id).SingleAsync());
        // One community_only seat: the owner's membership (mirrored from WorkOS) takes it.
        await Api.SetPlan(orgId, "individual_academic");
        var aliceEmail = $"alice.{Guid.NewGuid():N}@example.com";
        var (aliceId, aliceCreated) = workos.CreateUser(aliceEmail, "Alice", "Umbrella");
        await hooks.DeliverOk(aliceCreated);
        Assert.Equal("applied", await hooks.DeliverOk(workos.AddMembership(aliceId, workosOrg, ["owner"]).EventJson));

        var daveEmail = $"dave.{Guid.NewGuid():N}@example.com";
        var (daveId, daveCreated) = workos.CreateUser(daveEmail, "Dave", "Overcap");
        await hooks.DeliverOk(daveCreated);
        Assert.Equal("refused", await hooks.DeliverOk(workos.AddMembership(daveId, workosOrg, ["member"]).EventJson));

        var alicePage = await SignInAsync(new TestUser(aliceId, aliceEmail, "Alice Umbrella"), see);
        await Expect(Row(alicePage, "Umbrella")).ToContainTextAsync("owner");
        await alicePage.GotoAsync($"/console/orgs/{orgId}/seats");
        Assert.Equal("1 of 1 used (1 active, 0 reserved) · 0 available", await MeterTextAsync(alicePage, "community_only"));
        await Expect(alicePage.GetByText("100%: every community_only seat is taken.", new() { Exact = false })).ToBeVisibleAsync();
        var refusal = Row(alicePage, daveEmail);
        await Expect(refusal).ToContainTextAsync("Dave Overcap");
        await Expect(refusal).ToContainTextAsync("added in WorkOS");
        await Expect(refusal).ToContainTextAsync("community_only");
        await Expect(refusal.GetByTestId("refusal-numbers")).ToHaveTextAsync("1 / 1");
        await Expect(alicePage.GetByRole(AriaRole.Link, new() { Name = "Upgrade the plan" }))
            .ToHaveAttributeAsync("href", ConsoleHost.UpgradeUrl.Replace("{organizationId}", orgId.ToString(), StringComparison.Ordinal));
        await Expect(alicePage.GetByRole(AriaRole.Link, new() { Name = "Manage the team" }))
            .ToHaveAttributeAsync("href", $"http://localhost:5080/console/orgs/{orgId}/members");
        await see.SeeAsync(alicePage, "seats-refusal");
    }

    [Fact]
    public async Task APlatformAdminRetriesAFailedNotificationAndShrinksAPlanBelowUsageWhichRaisesTheOverCapBanner()
    {
        var see = Recorder("scenario4-operations");
        var alice = RosterApp.NewUser("Alice");
        var org = await Api.NewOrg(alice);
        await Api.AddActive(org.Id, alice, RosterApp.NewUser("Bo"));
        await Api.AddActive(org.Id, alice, RosterApp.NewUser("Cy"));
        var orgName = $"Org of {alice.Name}";
        var failedId = Guid.CreateVersion7();
        var lastError = $"chat.postMessage: channel_not_found ({failedId:N})";
        await Fixture.App.WithDbAsync(async db =>
        {
            db.NotificationOutbox.Add(new NotificationOutboxRow
            {
                Id = failedId, Kind = "seat_warning", DedupeKey = $"console-test:{failedId}", Payload = "{}", Attempts = 8,
                NextAttemptAt = DateTime.UtcNow, FailedAt = DateTime.UtcNow, LastError = lastError, CreatedAt = DateTime.UtcNow,
            });
            await db.SaveChangesAsync();
        });

        var admin = RosterApp.NewUser("Operator", admin: true);
        var adminPage = await SignInAsync(admin, see);
        await adminPage.GetByRole(AriaRole.Link, new() { Name = "Operations" }).ClickAsync();
        var row = adminPage.Locator($"tr[data-notification='{failedId}']");
        await Expect(row).ToContainTextAsync("failed");
        await Expect(row).ToContainTextAsync(lastError);
        await see.SeeAsync(adminPage, "operations-failed");
        await row.GetByRole(AriaRole.Button, new() { Name = "Retry" }).ClickAsync();
        await Expect(adminPage.GetByRole(AriaRole.Status)).ToContainTextAsync("pending again");
        await Expect(adminPage.Locator($"tr[data-notification='{failedId}']")).ToHaveCountAsync(0);
        await adminPage.GetByLabel("Show").SelectOptionAsync("pending");
        await adminPage.GetByRole(AriaRole.Button, new() { Name = "Show", Exact = true }).ClickAsync();
        await Expect(adminPage.Locator($"tr[data-notification='{failedId}']")).ToContainTextAsync("pending");
        await see.SeeAsync(adminPage, "operations-pending");

        await adminPage.GetByLabel("Organization id").FillAsync(org.Id.ToString());
        await adminPage.GetByLabel("Plan", new() { Exact = true }).SelectOptionAsync("individual_professional");
        await adminPage.GetByRole(AriaRole.Button, new() { Name = "Change plan" }).ClickAsync();
        await Expect(adminPage.GetByRole(AriaRole.Status)).ToContainTextAsync($"{orgName} is on individual_professional now");
        var audit = adminPage.Locator($"tr[data-organization='{org.Id}']");
        await Expect(audit).ToContainTextAsync("contributor: 3 of 1");
        await see.SeeAsync(adminPage, "operations-over-plan");
        // An unknown plan is the API's 400, shown beside the form.
        await adminPage.GetByLabel("Organization id").FillAsync("not-an-organization");
        await adminPage.GetByRole(AriaRole.Button, new() { Name = "Change plan" }).ClickAsync();
        await Expect(adminPage.Locator("form:has(#plan-org) .problem")).ToHaveAttributeAsync("data-code", "not_found");

        var alicePage = await SignInAsync(alice, see);
        await alicePage.GotoAsync($"/console/orgs/{org.Id}/seats");
        await Expect(alicePage.GetByTestId("over-cap")).ToContainTextAsync("contributor uses 3 of 1 seats");
        await see.SeeAsync(alicePage, "seats-over-cap");
    }

    [Fact]
    public async Task AliceCannotDemoteHerselfAsTheLastOwnerAndThePageShowsTheLastOwnerDetail()
    {
        var see = Recorder("scenario5-last-owner");
        var alice = RosterApp.NewUser("Alice");
        var alicePage = await SignInAsync(alice, see);
        var orgId = await CreateOrganizationAsync(alicePage, "Hooli", see);
        var mine = Row(alicePage, alice.Email);
        await mine.GetByLabel($"Role of {alice.Name}").SelectOptionAsync("admin");
        await mine.GetByRole(AriaRole.Button, new() { Name = "Change role" }).ClickAsync();

        var problem = Row(alicePage, alice.Email).Locator(".problem");
        await Expect(problem).ToHaveAttributeAsync("data-code", "last_owner");
        // The detail is the API's own, word for word.
        var membershipId = await Fixture.App.WithDbAsync(db => db.Memberships.Where(m => m.OrganizationId == orgId).Select(m => m.Id).SingleAsync());
        var api = await (await Api.As(alice).PatchAsync($"/api/organizations/{orgId}/members/{membershipId}",
            System.Net.Http.Json.JsonContent.Create(new { role = "admin" }))).ShouldBeProblem(System.Net.HttpStatusCode.Conflict, "last_owner");
        await Expect(problem).ToHaveTextAsync(api["detail"]!.GetValue<string>());
        await Expect(Row(alicePage, alice.Email)).ToContainTextAsync("owner");
        await see.SeeAsync(alicePage, "members-last-owner");

        // Leaving is refused the same way.
        await alicePage.GetByRole(AriaRole.Button, new() { Name = "Leave Hooli" }).ClickAsync();
        await Expect(alicePage.Locator("form:has(button.danger) .problem[data-code='last_owner']")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task AuthKitSignsInThroughTheFakeWorkOsRefreshesSignsOutAndAnEndedSessionSendsThePersonBackToSignIn()
    {
        var see = Recorder("scenario6-authkit");
        var workos = Fixture.WorkOs;
        var email = $"erin.{Guid.NewGuid():N}@example.com";
        var (erinId, _) = workos.CreateUser(email, "Erin", "Authkit");
        // Tokens close to their expiry: every page the console renders refreshes the session first.
        Fixture.AccessTokenLifetime = TimeSpan.FromSeconds(20);
        try
        {
            var page = await NewPageAsync();
            await page.GotoAsync("/console/invitations");
            await Expect(page).ToHaveURLAsync(new Regex("/console/sign-in"));
            await see.SeeAsync(page, "sign-in");
            workos.SignInNext(erinId);
            var refreshesBefore = Refreshes();
            await page.GetByRole(AriaRole.Button, new() { Name = "Sign in with WorkOS" }).ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("/console/invitations$"));
            await Expect(page.GetByText("Signed in as Erin Authkit")).ToBeVisibleAsync();
            await see.SeeAsync(page, "invitations-authkit");
            Assert.True(Refreshes() > refreshesBefore, "the console did not refresh an access token about to expire");
            await page.GotoAsync("/console");
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "My organizations" })).ToBeVisibleAsync();

            await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
            await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("You are signed out.");
            await see.SeeAsync(page, "signed-out");
            await page.GotoAsync("/console");
            await Expect(page).ToHaveURLAsync(new Regex("/console/sign-in"));

            // Signed in again; then WorkOS ends the session: the next page cannot refresh and says so.
            workos.SignInNext(erinId);
            await page.GetByRole(AriaRole.Button, new() { Name = "Sign in with WorkOS" }).ClickAsync();
            await Expect(page.GetByText("Signed in as Erin Authkit")).ToBeVisibleAsync();
            workos.EndSessions();
            await page.GotoAsync("/console/invitations");
            await Expect(page).ToHaveURLAsync(new Regex("/console/sign-in\\?expired=true"));
            await Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("Your session has ended. Sign in again.");
            await see.SeeAsync(page, "session-ended");
            await page.GotoAsync("/console");
            await Expect(page).ToHaveURLAsync(new Regex("/console/sign-in"));
        }
        finally
        {
            Fixture.AccessTokenLifetime = TimeSpan.FromMinutes(10);
        }

        int Refreshes() => workos.Requests.Count(r => r.Path == "/user_management/authenticate" && r.Body.Contains("\"refresh_token\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task EveryPageAnswersEachKindOfCallerWithTheApisOwnRefusal()
    {
        var see = Recorder("access");
        var org = await Api.NewStaffedOrg();
        var pages = new[] { "members", "seats", "requests", "history" };

        var anonymous = await NewPageAsync();
        foreach (var path in pages.Select(p => $"/console/orgs/{org.Id}/{p}").Concat(["/console", "/console/invitations", "/console/operations"]))
        {
            await anonymous.GotoAsync(path);
            await Expect(anonymous).ToHaveURLAsync(new Regex("/console/sign-in\\?returnUrl="));
        }

        // Someone from outside sees what the API tells them: the organization is not visible (404).
        var outsider = await SignInAsync(org.Outsider, see);
        foreach (var p in pages)
        {
            await outsider.GotoAsync($"/console/orgs/{org.Id}/{p}");
            await Expect(outsider.Locator("main > .problem")).ToHaveAttributeAsync("data-code", "not_found");
        }
        await see.SeeAsync(outsider, "outsider-members");

        // A plain member reads the members list (no actions offered); the owner/admin pages answer the API's 403.
        var member = await SignInAsync(org.Member, see);
        await member.GotoAsync($"/console/orgs/{org.Id}/members");
        await Expect(Row(member, org.Owner.Email)).ToContainTextAsync("owner");
        await Expect(member.GetByRole(AriaRole.Button, new() { Name = "Change role" })).ToHaveCountAsync(0);
        await see.SeeAsync(member, "member-members");
        foreach (var p in new[] { "seats", "requests", "history" })
        {
            await member.GotoAsync($"/console/orgs/{org.Id}/{p}");
            await Expect(member.Locator("main > .problem")).ToHaveAttributeAsync("data-code", "forbidden");
        }
        await member.GotoAsync("/console/operations");
        await Expect(member.Locator("main > .problem")).ToHaveAttributeAsync("data-code", "forbidden");
        await Expect(member.GetByRole(AriaRole.Link, new() { Name = "Operations" })).ToHaveCountAsync(0);
        await see.SeeAsync(member, "member-operations");

        // The owner reaches every page, and the history shows what happened.
        var owner = await SignInAsync(org.Owner, see);
        foreach (var p in pages)
        {
            await owner.GotoAsync($"/console/orgs/{org.Id}/{p}");
            await Expect(owner.Locator("main > .problem")).ToHaveCountAsync(0);
            await see.SeeAsync(owner, $"owner-{p}");
        }
        await owner.GotoAsync($"/console/orgs/{org.Id}/history");
        await Expect(owner.Locator("tbody tr", new() { HasText = "founded" })).ToHaveCountAsync(1);
        await owner.Locator("tbody tr", new() { HasText = org.Member.Email.ToLowerInvariant() }).First.GetByRole(AriaRole.Link).ClickAsync();
        await Expect(owner.GetByRole(AriaRole.Heading, new() { Name = "History of one member" })).ToBeVisibleAsync();
        await Expect(owner.Locator("tbody tr", new() { HasText = "accepted" })).ToHaveCountAsync(1);
        await see.SeeAsync(owner, "owner-history-member");
    }
}

public sealed class ConsoleBrowserTestsOnSqlite(SqliteConsole fixture) : ConsoleBrowserTests(fixture), IClassFixture<SqliteConsole>;

public sealed class ConsoleBrowserTestsOnPostgres(PostgresConsole fixture) : ConsoleBrowserTests(fixture), IClassFixture<PostgresConsole>;
