using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Roster.Infrastructure.Data;
using Roster.Tests.Support;
using Roster.Infrastructure.Outbox;
using Roster.Infrastructure.Seats;

namespace Roster.Tests.Notifications;

/// <summary>
/// Roster wired to a fake Slack, with the background loop off and a clock the test moves: tests enqueue rows and
/// call <see cref="OutboxDispatcher.DispatchDueAsync"/> themselves.
/// </summary>
public abstract class SlackApp(StorageProvider provider) : RosterApp(provider)
{
    public const string SystemErrorsChannel = "C0SYSERRORS";
    public const string UpgradeUrl = "https://roster.example/billing/upgrade?org={organizationId}";
    public const string ManageTeamUrl = "https://roster.example/orgs/{organizationId}/team";
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(3);

    public FakeSlack Slack { get; } = StartSlack();
    public AdjustableClock Clock { get; } = new();

    /// <summary>A strict fake Slack whose system-errors channel has the bot in it.</summary>
    public static FakeSlack StartSlack()
    {
        var slack = FakeSlack.Start();
        slack.AddChannel(SystemErrorsChannel);
        return slack;
    }
    public CapturedLogs Logs { get; } = new();

    /// <summary>False where the background loop runs on real time.</summary>
    protected virtual bool UsesAdjustableClock => true;

    public OutboxDispatcher Dispatcher => Services.GetService<OutboxDispatcher>()
        ?? throw new InvalidOperationException(
            "The notifications feature is not registered: Program.cs needs builder.Services.AddNotifications(builder.Configuration);");

    protected override IReadOnlyDictionary<string, string?> Settings
    {
        get
        {
            var settings = new Dictionary<string, string?>
            {
                ["Slack:BotToken"] = FakeSlack.Token,
                ["Slack:BaseUrl"] = Slack.BaseUrl,
                ["Slack:SystemErrorsChannel"] = SystemErrorsChannel,
                ["Slack:InCallRetries"] = "2",
                ["Slack:InCallRetryDelay"] = "00:00:00.005",
                // Short, so a test can outwait it (FakeSlack's AnswerLate).
                ["Slack:RequestTimeout"] = RequestTimeout.ToString(),
                ["Links:UpgradeUrl"] = UpgradeUrl,
                ["Links:ManageTeamUrl"] = ManageTeamUrl,
                ["Notifications:DispatcherEnabled"] = "false",
                ["Notifications:MaxAttempts"] = "4",
                ["Notifications:BatchSize"] = "5",
                ["Notifications:BackoffBaseSeconds"] = "60",
                ["Notifications:BackoffMaxSeconds"] = "600",
                // Everything, HttpClient's own request logging included, goes to the captured logs (and not the console).
                ["Logging:LogLevel:Default"] = "Trace",
                ["Logging:Console:LogLevel:Default"] = "None",
            };
            Adjust(settings);
            return settings;
        }
    }

    protected virtual void Adjust(Dictionary<string, string?> settings) { }

    protected override void ConfigureServices(IServiceCollection services)
    {
        if (UsesAdjustableClock) services.AddSingleton<TimeProvider>(Clock);
        services.AddSingleton<ILoggerProvider>(Logs);
    }

    /// <summary>Enqueues a refusal the way the webhook ingest does (own transaction), at the fake clock's now.</summary>
    public async Task<NotificationOutboxRow> EnqueueRefusalAsync(Guid organizationId, string? email, string? name = null,
        string seatType = "community_only", int limit = 5, int used = 5, string organizationName = "Acme")
    {
        var eventId = $"event_{Guid.NewGuid():N}";
        var payload = new MembershipRefusedNotification(organizationId, null, organizationName, $"user_{Guid.NewGuid():N}",
            email, name, seatType, limit, used, eventId);
        return await EnqueueAsync(NotificationKinds.MembershipRefused, $"membership_refused:{eventId}", payload);
    }

    public async Task<NotificationOutboxRow> EnqueueAsync<T>(string kind, string dedupeKey, T payload)
    {
        var now = Services.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
        return await WithDbAsync(async db =>
        {
            var row = Outbox.Enqueue(db, kind, dedupeKey, payload, now);
            await db.SaveChangesAsync();
            return row;
        });
    }

    public Task<NotificationOutboxRow> RowAsync(Guid id) =>
        WithDbAsync(db => db.NotificationOutbox.AsNoTracking().SingleAsync(r => r.Id == id));

    /// <summary>Dispatches until a call finds nothing due; returns how many rows were claimed in all.</summary>
    public async Task<int> DispatchUntilIdleAsync()
    {
        var total = 0;
        for (var round = 0; round < 100; round++)
        {
            var claimed = await Dispatcher.DispatchDueAsync(CancellationToken.None);
            if (claimed == 0) return total;
            total += claimed;
        }
        throw new InvalidOperationException("The dispatcher never ran out of due rows.");
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) Slack.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }
}

public sealed class SqliteSlackApp() : SlackApp(StorageProvider.Sqlite);

public sealed class PostgresSlackApp() : SlackApp(StorageProvider.Postgres);

/// <summary>The same, with the background loop running on the real clock and quick backoff.</summary>
public abstract class BackgroundSlackApp(StorageProvider provider) : SlackApp(provider)
{
    protected override bool UsesAdjustableClock => false;

    protected override void Adjust(Dictionary<string, string?> settings)
    {
        settings["Notifications:DispatcherEnabled"] = "true";
        settings["Notifications:PollSeconds"] = "0.1";
        settings["Notifications:MaxAttempts"] = "1000";
        settings["Notifications:BackoffBaseSeconds"] = "0.1";
        settings["Notifications:BackoffMaxSeconds"] = "0.3";
    }
}

public sealed class SqliteBackgroundSlackApp() : BackgroundSlackApp(StorageProvider.Sqlite);

public sealed class PostgresBackgroundSlackApp() : BackgroundSlackApp(StorageProvider.Postgres);

/// <summary>Every log line the app wrote, formatted, for checking what must never be logged.</summary>
public sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => _lines.ToArray();

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose() { }

    private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var structured = state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? string.Join(" ", pairs.Select(p => $"{p.Key}={p.Value}"))
                : "";
            lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {structured} {exception}");
        }
    }
}
