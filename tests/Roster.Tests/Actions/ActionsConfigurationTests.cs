using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Roster.Features.Actions;
using Roster.Infrastructure.Data;
using Roster.Tests.Notifications;
using Roster.Tests.Support;
using Roster.Tests.Webhooks;

namespace Roster.Tests.Actions;

/// <summary>Actions__Enabled defaults to false: the endpoint is mapped but answers 404 until an operator turns it on.</summary>
public abstract class ActionsDisabledApp(StorageProvider provider) : RosterApp(provider)
{
    protected override bool EnablesActions => false;
}

public sealed class ActionsDisabledSqliteApp() : ActionsDisabledApp(StorageProvider.Sqlite);

public sealed class ActionsDisabledPostgresApp() : ActionsDisabledApp(StorageProvider.Postgres);

public abstract class ActionsDisabledTests(ActionsDisabledApp app)
{
    [Fact]
    public async Task WithActionsNotEnabledTheEndpointIsNotFoundEvenForASignedContext()
    {
        Assert.False(app.Services.GetRequiredService<ActionsOptions>().Enabled);
        var user = WorkOs.NewId("user");
        using var response = await app.ClientFor(null).SendAsync(WorkOsActions.Signed(WorkOsActions.Authentication(user, $"{user}@example.com", WorkOs.NewId("org"))));
        await response.ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
    }
}

public sealed class ActionsDisabledTestsOnSqlite(ActionsDisabledSqliteApp app) : ActionsDisabledTests(app), IClassFixture<ActionsDisabledSqliteApp>;

public sealed class ActionsDisabledTestsOnPostgres(ActionsDisabledPostgresApp app) : ActionsDisabledTests(app), IClassFixture<ActionsDisabledPostgresApp>;

/// <summary>A host whose database is taken away, answering actions as <c>Actions:WhenStorageDown</c> says, with its logs and metrics captured.</summary>
public abstract class StorageDownApp(StorageProvider provider, string whenStorageDown) : BreakableApp(provider)
{
    public CapturedLogs Logs { get; } = new();
    public string WhenStorageDown => whenStorageDown;

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Actions:WhenStorageDown"] = whenStorageDown,
        ["Logging:LogLevel:Default"] = "Information",
        ["Logging:Console:LogLevel:Default"] = "None",
    };

    protected override void ConfigureServices(IServiceCollection services) => services.AddSingleton<ILoggerProvider>(Logs);
}

public sealed class StorageDownAllowSqliteApp() : StorageDownApp(StorageProvider.Sqlite, "allow");

public sealed class StorageDownDenyPostgresApp() : StorageDownApp(StorageProvider.Postgres, "deny");

public sealed class StorageDownDenySqliteApp() : StorageDownApp(StorageProvider.Sqlite, "deny");

public sealed class StorageDownAllowPostgresApp() : StorageDownApp(StorageProvider.Postgres, "allow");

public abstract class ActionsStorageDownTests(StorageDownApp app)
{
    [Fact]
    public async Task WithoutTheDatabaseASignInGetsTheConfiguredVerdictSignedWithAMetricAndALogLine()
    {
        var workos = app.ClientFor(null);
        var workosOrgId = WorkOs.NewId("org");
        Assert.Equal("applied", await workos.DeliverOk(WorkOs.Envelope("organization.created", WorkOs.Organization(workosOrgId, "Acme"))));
        var measurements = new ConcurrentBag<(string Instrument, long Value, string? Verdict)>();
        var factory = app.Services.GetRequiredService<IMeterFactory>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == ActionsMetrics.MeterName && instrument.Meter.Scope == factory) l.EnableMeasurementEvents(instrument);
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string? verdict = null;
            foreach (var tag in tags) if (tag.Key == "verdict") verdict = tag.Value as string;
            measurements.Add((instrument.Name, value, verdict));
        });
        listener.Start();

        app.TakeStorageAway();
        var user = WorkOs.NewId("user");
        var answer = await workos.Act(WorkOsActions.Authentication(user, $"{user}@example.com", workosOrgId));

        var expected = app.WhenStorageDown == "allow" ? "Allow" : "Deny";
        Assert.Equal(expected, answer.Verdict);
        if (expected == "Deny") Assert.Contains("try again", answer.ErrorMessage);
        Assert.Contains(measurements, m => m.Instrument == "roster.actions.storage_unavailable" && m.Value == 1 && m.Verdict == expected);
        Assert.Contains(measurements, m => m.Instrument == "roster.actions.verdicts" && m.Verdict == expected);
        Assert.Contains(app.Logs.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("without the database", StringComparison.Ordinal)
                                              && l.Contains($"Actions:WhenStorageDown={app.WhenStorageDown}", StringComparison.Ordinal));
        Assert.DoesNotContain(app.Logs.Lines, l => l.Contains(WorkOsActions.Secret, StringComparison.Ordinal));
    }
}

public sealed class ActionsStorageDownAllowsOnSqlite(StorageDownAllowSqliteApp app) : ActionsStorageDownTests(app), IClassFixture<StorageDownAllowSqliteApp>;

public sealed class ActionsStorageDownDeniesOnSqlite(StorageDownDenySqliteApp app) : ActionsStorageDownTests(app), IClassFixture<StorageDownDenySqliteApp>;

public sealed class ActionsStorageDownAllowsOnPostgres(StorageDownAllowPostgresApp app) : ActionsStorageDownTests(app), IClassFixture<StorageDownAllowPostgresApp>;

public sealed class ActionsStorageDownDeniesOnPostgres(StorageDownDenyPostgresApp app) : ActionsStorageDownTests(app), IClassFixture<StorageDownDenyPostgresApp>;
