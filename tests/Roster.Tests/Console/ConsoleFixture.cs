using System.Net;
using Deque.AxeCore.Playwright;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Roster.Infrastructure.Data;
using Roster.Tests.Support;

namespace Roster.Tests.Console;

/// <summary>
/// Roster on a real Kestrel port of 127.0.0.1 (the browser has to reach it), in Development (so the Development sign-in
/// form exists), with AuthKit pointed at the fake WorkOS.
/// </summary>
public sealed class ConsoleHost : RosterApp
{
    public const string ClientId = "client_01CONSOLETESTS";
    public const string UpgradeUrl = "https://billing.example/upgrade?org={organizationId}";
    private readonly FakeWorkOs _workos;

    public ConsoleHost(StorageProvider provider, FakeWorkOs workos) : base(provider)
    {
        _workos = workos;
        UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
    }

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Console:WorkOsClientId"] = ClientId,
        ["WorkOS:ApiKey"] = _workos.ApiKey,
        ["WorkOS:BaseUrl"] = _workos.BaseUrl.ToString(),
        ["Links:UpgradeUrl"] = UpgradeUrl,
        // The outbox is shown, not sent, here: rows stay as the test makes them.
        ["Notifications:DispatcherEnabled"] = "false",
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseEnvironment("Development");
    }

    /// <summary>The address Kestrel listens on (http://127.0.0.1:port/).</summary>
    public Uri Address => new(Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + "/");
}

/// <summary>
/// One browser (Debian's Chromium, driven by Playwright) and one console host per test class: each test opens its own
/// browser contexts (one per person), so tests share nothing but the process.
/// </summary>
public abstract class ConsoleFixture(StorageProvider provider) : IAsyncLifetime
{
    public FakeWorkOs WorkOs { get; private set; } = null!;
    public ConsoleHost App { get; private set; } = null!;
    public IPlaywright Playwright { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;
    public Uri BaseUrl { get; private set; } = null!;
    public StorageProvider Provider => provider;

    /// <summary>WorkOS users whose access tokens carry the platform-admin permission (as a WorkOS role's permission would).</summary>
    public HashSet<string> PlatformAdmins { get; } = [];

    /// <summary>When true, the fake hands out access tokens that expired already (the console must refresh them).</summary>
    public bool IssueExpiredAccessTokens { get; set; }

    /// <summary>How long the fake's access tokens last (WorkOS's are short-lived; a test shortens them to make refreshes happen).</summary>
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The access token the fake WorkOS issues: a token Roster's API trusts (the tests' signing key, issuer and audience), with
    /// the claims an AuthKit JWT template gives it (sub, email, email_verified, name, permissions).
    /// </summary>
    private string AccessTokenFor(FakeUser user)
    {
        var now = IssueExpiredAccessTokens ? DateTime.UtcNow.AddHours(-1) : DateTime.UtcNow;
        return Roster.Infrastructure.Auth.TokenMinter.Mint(Roster.Infrastructure.Auth.DevSigningKey.Parse(RosterApp.SigningKeyPem),
            new Roster.Infrastructure.Auth.AuthOptions { Issuer = "roster-tests", Audience = "roster-tests-api" },
            new Roster.Infrastructure.Auth.TokenRequest(user.Id, user.Email, $"{user.FirstName} {user.LastName}", user.EmailVerified,
                PlatformAdmins.Contains(user.Id), AccessTokenLifetime), now);
    }

    /// <summary>
    /// Debian's Chromium (scripts/test.sh installs the package when it is missing); ROSTER_TEST_CHROMIUM overrides the path.
    /// Playwright never downloads a browser here.
    /// </summary>
    public static string ChromiumPath => Environment.GetEnvironmentVariable("ROSTER_TEST_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    public async Task InitializeAsync()
    {
        WorkOs = await FakeWorkOs.StartAsync();
        WorkOs.AuthKitClientId = ConsoleHost.ClientId;
        WorkOs.AccessTokenFor = AccessTokenFor;
        App = new ConsoleHost(provider, WorkOs);
        await App.InitializeAsync();
        BaseUrl = App.Address;
        App.ClientOptions.BaseAddress = BaseUrl;
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException($"{ChromiumPath} is missing: install Debian's chromium package (scripts/test.sh does) or set ROSTER_TEST_CHROMIUM");
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            // Root in CI containers has no user namespaces for Chromium's sandbox; /dev/shm is small there.
            Args = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        Playwright?.Dispose();
        if (App is not null) await ((IAsyncLifetime)App).DisposeAsync();
        if (WorkOs is not null) await WorkOs.DisposeAsync();
    }
}

public sealed class SqliteConsole() : ConsoleFixture(StorageProvider.Sqlite);

public sealed class PostgresConsole() : ConsoleFixture(StorageProvider.Postgres);

/// <summary>
/// What every browser test does on every page it visits: a screenshot (tests/Roster.Tests/artifacts/console/…, ignored by
/// git) and an axe scan that fails the test on any serious or critical violation.
/// </summary>
public sealed class PageRecorder(string provider, string test)
{
    private int _count;

    public static string ArtifactsRoot { get; } = FindArtifacts();

    public string Folder => Path.Combine(ArtifactsRoot, "console", provider, test);

    public async Task SeeAsync(IPage page, string name)
    {
        await page.WaitForLoadStateAsync(LoadState.Load);
        Directory.CreateDirectory(Folder);
        var file = Path.Combine(Folder, $"{Interlocked.Increment(ref _count):00}-{name}.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = file, FullPage = true });
        var results = await page.RunAxe();
        var bad = results.Violations.Where(v => v.Impact is "serious" or "critical").ToList();
        Assert.True(bad.Count == 0, $"axe found serious/critical violations on {name} ({page.Url}): " +
            string.Join("; ", bad.Select(v => $"{v.Id} ({v.Impact}): {v.Help} at {string.Join(", ", v.Nodes.Select(n => n.Target?.ToString()))}")));
        // The README's pictures are the test run's own (ROSTER_DOCS_SCREENSHOTS=1 copies the named pages to docs/).
        if (Environment.GetEnvironmentVariable("ROSTER_DOCS_SCREENSHOTS") == "1" && provider == "sqlite" && DocsNames.Contains(name))
        {
            var docs = Path.GetFullPath(Path.Combine(ArtifactsRoot, "..", "..", "..", "docs"));
            Directory.CreateDirectory(docs);
            File.Copy(file, Path.Combine(docs, $"console-{name}.png"), overwrite: true);
        }
    }

    private static readonly HashSet<string> DocsNames = ["members", "seats"];

    private static string FindArtifacts()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Api.sln"))) return Path.Combine(dir.FullName, "tests", "Roster.Tests", "artifacts");
        return Path.Combine(AppContext.BaseDirectory, "artifacts");
    }
}
