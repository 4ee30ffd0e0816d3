using System.Diagnostics;
using Roster.Infrastructure.Data;
using Roster.Tests.Support;

namespace Roster.Tests.Features;

/// <summary>
/// A wrong setting stops the service at start with a message naming the key (options pattern, ValidateOnStart), and
/// the commands report it the same way, instead of the service starting, saying it is ready, and failing requests.
/// </summary>
public class SettingsValidationTests
{
    private sealed class ConfiguredApp(IReadOnlyDictionary<string, string?> settings) : RosterApp(StorageProvider.Sqlite)
    {
        protected override IReadOnlyDictionary<string, string?> Settings => settings;
    }

    [Theory]
    [InlineData("Plans:free:contributor", "abc", "Plans:free:contributor")]
    [InlineData("Plans:company_icl:community_only", "-7", "Plans:company_icl:community_only")]
    [InlineData("Seats:DefaultPlan", "platinum", "Seats:DefaultPlan")]
    [InlineData("RateLimits:MemberSearchPerMinute", "0", "RateLimits:MemberSearchPerMinute")]
    [InlineData("RateLimits:MemberSearchPerMinute", "lots", "RateLimits:MemberSearchPerMinute")]
    [InlineData("Auth:JwksUrl", "not a url", "Auth:JwksUrl")]
    [InlineData("Auth:Issuer", "", "Auth:Issuer")]
    [InlineData("Storage:MigrateOnStartup", "sometimes", "Storage:MigrateOnStartup")]
    [InlineData("Slack:NotFoundCacheMinutes", "-1", "Slack:NotFoundCacheMinutes")]
    [InlineData("Slack:NotFoundCacheMinutes", "20000", "Slack:NotFoundCacheMinutes")]
    [InlineData("Slack:NotFoundCacheMinutes", "an hour", "Slack:NotFoundCacheMinutes")]
    [InlineData("Actions:WhenStorageDown", "maybe", "Actions:WhenStorageDown")]
    [InlineData("Actions:Enabled", "yes please", "Actions:Enabled")]
    [InlineData("Seats:DenialNotifyMinutes", "-1", "Seats:DenialNotifyMinutes")]
    [InlineData("Slack:BaseUrl", "not a url", "Slack:BaseUrl")]
    [InlineData("Slack:InCallRetries", "11", "Slack:InCallRetries")]
    [InlineData("Links:UpgradeUrl", "ftp://example.com/upgrade", "Links:UpgradeUrl")]
    [InlineData("Links:ManageTeamUrl", "team page", "Links:ManageTeamUrl")]
    [InlineData("Console:PublicUrl", "not a url", "Links:ManageTeamUrl")]
    [InlineData("Notifications:BatchSize", "0", "Notifications:BatchSize")]
    [InlineData("Notifications:PollSeconds", "-1", "Notifications:PollSeconds")]
    [InlineData("Notifications:MaxAttempts", "many", "Notifications:MaxAttempts")]
    [InlineData("Notifications:LeaseSeconds", "5", "Notifications:LeaseSeconds")]
    [InlineData("WorkOS:BaseUrl", "api.workos.com", "WorkOS:BaseUrl")]
    [InlineData("WorkOS:MaxRetries", "-1", "WorkOS:MaxRetries")]
    [InlineData("WorkOS:WebhookToleranceSeconds", "0", "WorkOS:WebhookToleranceSeconds")]
    [InlineData("WorkOS:SyncDebounceSeconds", "soon", "WorkOS:SyncDebounceSeconds")]
    [InlineData("WorkOS:ReconcileIntervalSeconds", "-60", "WorkOS:ReconcileIntervalSeconds")]
    [InlineData("WorkOS:RoleSlugs:owner", "Owner Role", "WorkOS:RoleSlugs:owner")]
    [InlineData("Telemetry:PrometheusEnabled", "maybe", "Telemetry:PrometheusEnabled")]
    public async Task AWrongSettingStopsTheServiceAtStartNamingTheKey(string key, string value, string named)
    {
        var app = new ConfiguredApp(new Dictionary<string, string?> { [key] = value });
        var ex = await Record.ExceptionAsync(() => ((IAsyncLifetime)app).InitializeAsync());
        try
        {
            Assert.NotNull(ex);
            Assert.Contains(named, Flatten(ex));
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
        }
    }

    [Fact]
    public async Task ADevSigningKeyThatIsNotAKeyIsRefusedWithoutEchoingIt()
    {
        const string secretLookingValue = "c2VjcmV0LXRoYXQtaXMtbm90LWEta2V5";
        var app = new ConfiguredApp(new Dictionary<string, string?> { ["Auth:DevSigningKey"] = secretLookingValue });
        var ex = await Record.ExceptionAsync(() => ((IAsyncLifetime)app).InitializeAsync());
        try
        {
            Assert.NotNull(ex);
            Assert.Contains("Auth:DevSigningKey", Flatten(ex));
            Assert.DoesNotContain(secretLookingValue, Flatten(ex));
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
        }
    }

    [Theory]
    [InlineData("migrate", "--status")]
    [InlineData("dev-token", "--sub", "user_x", "--email", "x@example.com")]
    [InlineData("seats", "audit")]
    public Task CommandsReportAWrongSettingTheSameWayAndExitNonZero(params string[] command) =>
        CommandReports(command, "Plans__free__contributor", "abc", "Invalid configuration: Plans:free:contributor must be a whole number");

    [Theory]
    [InlineData("WorkOS__MaxRetries", "-1", "Invalid configuration: WorkOS:MaxRetries must be between 0 and 10.")]
    [InlineData("Slack__BaseUrl", "slack", "Invalid configuration: Slack:BaseUrl must be an absolute http(s) URL.")]
    [InlineData("Links__UpgradeUrl", "upgrade", "Invalid configuration: Links:UpgradeUrl must be an absolute http(s) URL.")]
    [InlineData("Notifications__BatchSize", "501", "Invalid configuration: Notifications:BatchSize must be between 1 and 500.")]
    [InlineData("Telemetry__Enabled", "perhaps", "Invalid configuration: Failed to convert configuration value")]
    public Task MigrateReportsAWrongSettingOfEverySectionTheSameWay(string variable, string value, string message) =>
        CommandReports(["migrate", "--status"], variable, value, message);

    private static async Task CommandReports(string[] command, string variable, string value, string message)
    {
        var roster = Path.Combine(AppContext.BaseDirectory, "Roster.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetTempPath() };
        start.ArgumentList.Add(roster);
        foreach (var arg in command) start.ArgumentList.Add(arg);
        start.Environment[variable] = value;
        start.Environment["Storage__ConnectionString"] = $"Data Source={Path.Combine(Path.GetTempPath(), $"roster-settings-{Guid.NewGuid():N}.db")}";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(cts.Token);

        Assert.Equal(1, process.ExitCode);
        Assert.Contains(message, await stderr);
        Assert.Equal("", await stdout);
    }

    private static string Flatten(Exception ex) =>
        ex is AggregateException agg ? string.Join("\n", agg.InnerExceptions.Select(Flatten)) : ex + (ex.InnerException is null ? "" : "\n" + Flatten(ex.InnerException));
}
