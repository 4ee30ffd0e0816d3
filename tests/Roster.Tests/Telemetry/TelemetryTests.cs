using System.Diagnostics;
using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Telemetry;
using Roster.Tests.Notifications;
using Roster.Tests.Support;

namespace Roster.Tests.Telemetry;

/// <summary>
/// Telemetry tests read process-wide meters and activity sources: they run alone, after the parallel tests, so no other
/// host's requests, webhooks or outbox rows show up in what they read.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryCollection
{
    public const string Name = "Telemetry";
}

/// <summary>Roster with a fake Slack and in-memory exporters for its traces and metrics.</summary>
public abstract class TelemetryApp(StorageProvider provider) : SlackApp(provider)
{
    public List<MetricSnapshot> Metrics { get; } = [];
    public List<Activity> Spans { get; } = [];

    protected override void Adjust(Dictionary<string, string?> settings) => settings["Telemetry:Enabled"] = "true";

    protected override void ConfigureServices(IServiceCollection services)
    {
        base.ConfigureServices(services);
        services.ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddInMemoryExporter(Metrics));
        services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(Spans));
    }

    /// <summary>Collects now and returns the latest points of every metric, by name.</summary>
    public IReadOnlyDictionary<string, MetricSnapshot> Collect()
    {
        Assert.True(Services.GetRequiredService<MeterProvider>().ForceFlush(10_000));
        Assert.True(Services.GetRequiredService<TracerProvider>().ForceFlush(10_000));
        // The gauges read the database; they must have managed to.
        var failure = Logs.Lines.FirstOrDefault(l => l.Contains("Could not read the outbox", StringComparison.Ordinal));
        Assert.True(failure is null, failure);
        lock (Metrics) return Metrics.GroupBy(m => m.Name).ToDictionary(g => g.Key, g => g.Last());
    }
}

public sealed class SqliteTelemetryApp() : TelemetryApp(StorageProvider.Sqlite);

public sealed class PostgresTelemetryApp() : TelemetryApp(StorageProvider.Postgres);

public abstract class TelemetryTests(TelemetryApp app)
{
    private readonly Scenario _s = new(app);

    internal static long Sum(IReadOnlyDictionary<string, MetricSnapshot> metrics, string name, params (string Key, object Value)[] tags)
    {
        if (!metrics.TryGetValue(name, out var metric)) return 0;
        return metric.MetricPoints.Where(p => Matches(p, tags)).Sum(p =>
            metric.MetricType is MetricType.LongSum or MetricType.LongSumNonMonotonic ? p.GetSumLong() : (long)p.GetGaugeLastValueLong());
    }

    private static double Gauge(IReadOnlyDictionary<string, MetricSnapshot> metrics, string name, params (string Key, object Value)[] tags)
    {
        var metric = metrics.TryGetValue(name, out var found) ? found
            : throw new Xunit.Sdk.XunitException($"no {name} among {string.Join(", ", metrics.Keys)}");
        var point = metric.MetricPoints.Single(p => Matches(p, tags));
        return metric.MetricType == MetricType.DoubleGauge ? point.GetGaugeLastValueDouble() : point.GetGaugeLastValueLong();
    }

    private static string? Tag(MetricPoint point, string key)
    {
        foreach (var tag in point.Tags)
            if (tag.Key == key) return tag.Value?.ToString();
        return null;
    }

    private static bool Matches(MetricPoint point, (string Key, object Value)[] tags)
    {
        var actual = new Dictionary<string, object?>();
        foreach (var tag in point.Tags) actual[tag.Key] = tag.Value;
        return tags.All(t => actual.TryGetValue(t.Key, out var v) && Equals(v?.ToString(), t.Value.ToString()));
    }

    [Fact]
    public async Task AWebhookARefusalAndAFailedSlackSendShowInTheMetricsAndTraces()
    {
        var webhook = app.CreateClient();
        // A webhook: a WorkOS organization on a plan with no community_only seats…
        var workosOrg = WorkOs.NewId("org");
        Assert.Equal("applied", await webhook.DeliverOk(WorkOs.Envelope("organization.created", WorkOs.Organization(workosOrg, "Telemetry"))));
        var orgId = await app.WithDbAsync(db => db.Organizations.Where(o => o.WorkosOrganizationId == workosOrg).Select(o => o.Id).SingleAsync());
        await _s.SetPlan(orgId, "individual_professional");
        // …so an un-staged WorkOS membership is refused (and its owners are to be told on Slack).
        var refusedEvent = WorkOs.NextEventId();
        Assert.Equal("refused", await webhook.DeliverOk(WorkOs.Envelope("organization_membership.created",
            WorkOs.Membership(WorkOs.NewId("om"), WorkOs.NewId("user"), workosOrg), refusedEvent)));

        // Through the API: adds up to 80% and 100% of 5 contributor seats warn once each, the next add is refused.
        var org = await _s.NewOrg();
        for (var i = 0; i < 4; i++) await _s.Invite(org.Id, org.Owner, RosterApp.NewUser("invitee"));
        var over = await _s.UserIdOf(RosterApp.NewUser("over"));
        await (await _s.As(org.Owner).PostJson($"/api/organizations/{org.Id}/members", new { userId = over }))
            .ShouldBeProblem(HttpStatusCode.Conflict, "seat_limit_reached");

        // A failed Slack send: nobody here is on Slack, so each notification goes to the system channel, and Slack answers
        // that post with a 500 — which fails the row at once (it may have been delivered; it is never posted again blind).
        app.Slack.Fail(new SlackFault.HttpStatus(500), "chat.postMessage");
        try
        {
            await app.DispatchUntilIdleAsync();
        }
        finally
        {
            app.Slack.Recover();
        }
        var (failedRows, pendingRows, failedRefusals) = await app.WithDbAsync(async db => (
            await db.NotificationOutbox.CountAsync(r => r.FailedAt != null && r.SentAt == null),
            await db.NotificationOutbox.CountAsync(r => r.FailedAt == null && r.SentAt == null),
            await db.NotificationOutbox.CountAsync(r => r.FailedAt != null && r.Kind == "membership_refused")));
        // The refusal and the two warnings (and a refusal the other test of this class may have queued before).
        Assert.True(failedRows >= 3, $"{failedRows} failed rows");

        // The gauges share one database read for up to a second: let one taken before these rows failed expire.
        await Task.Delay(TimeSpan.FromMilliseconds(1100));
        var metrics = app.Collect();
        Assert.Equal(1, Sum(metrics, "roster.webhook.events", ("workos.event.type", "organization.created"), ("roster.webhook.outcome", "applied")));
        Assert.Equal(1, Sum(metrics, "roster.webhook.events", ("workos.event.type", "organization_membership.created"), ("roster.webhook.outcome", "refused")));
        Assert.Equal(1, Sum(metrics, "roster.seat.refusals", ("roster.gate", "workos_event"), ("roster.seat_type", "community_only")));
        Assert.Equal(1, Sum(metrics, "roster.seat.refusals", ("roster.gate", "add_member"), ("roster.seat_type", "contributor")));
        Assert.Equal(1, Sum(metrics, "roster.seat.warnings", ("roster.seat_type", "contributor"), ("roster.threshold", 80)));
        Assert.Equal(1, Sum(metrics, "roster.seat.warnings", ("roster.seat_type", "contributor"), ("roster.threshold", 100)));
        Assert.Equal(failedRefusals, Sum(metrics, "roster.outbox.deliveries", ("roster.outbox.kind", "membership_refused"), ("roster.result", "failed")));
        Assert.Equal(2, Sum(metrics, "roster.outbox.deliveries", ("roster.outbox.kind", "seat_warning"), ("roster.result", "failed")));
        Assert.Equal(failedRows, Gauge(metrics, "roster.outbox.failed"));
        Assert.Equal(pendingRows, Gauge(metrics, "roster.outbox.pending"));
        Assert.Equal(0, Gauge(metrics, "roster.outbox.oldest_pending_age"));

        // Request rate and latency, by route.
        var requests = metrics["http.server.request.duration"];
        var routes = requests.MetricPoints.Select(p => $"{Tag(p, "http.request.method")} {Tag(p, "http.route")} {Tag(p, "http.response.status_code")}: {p.GetHistogramCount()}").ToList();
        Assert.True(requests.MetricPoints.Any(p => Matches(p, [("http.route", "/api/organizations/{orgId}/members/"), ("http.response.status_code", 409)])
                                                   && p.GetHistogramCount() == 1), string.Join("\n", routes));
        Assert.Contains(requests.MetricPoints, p => Matches(p, [("http.route", "/webhooks/workos")]) && p.GetHistogramCount() >= 2);

        // Traces: the webhook span carries the event id, type and outcome (and so does its request span); the Slack call
        // is an outgoing HTTP span; the database commands are spans (Npgsql's on PostgreSQL, EF Core's on SQLite).
        List<Activity> spans;
        lock (app.Spans) spans = [.. app.Spans];
        var span = spans.Single(s => s.GetTagItem(TraceTags.EventId) as string == refusedEvent && s.Source.Name == RosterMetrics.MeterName);
        Assert.Equal("organization_membership.created", span.GetTagItem(TraceTags.EventType));
        Assert.Equal("refused", span.GetTagItem(TraceTags.Outcome));
        var request = spans.Single(s => s.SpanId == span.ParentSpanId);
        Assert.Equal(ActivityKind.Server, request.Kind);
        Assert.Equal("refused", request.GetTagItem(TraceTags.Outcome));
        Assert.Equal(refusedEvent, request.GetTagItem(TraceTags.EventId));
        Assert.Contains(spans, s => s.Kind == ActivityKind.Client && (s.GetTagItem("url.full") as string)?.StartsWith(app.Slack.BaseUrl, StringComparison.Ordinal) == true);
        var database = app.Provider == StorageProvider.Postgres ? "Npgsql" : "OpenTelemetry.Instrumentation.EntityFrameworkCore";
        Assert.Contains(spans, s => s.Source.Name == database && s.TraceId == request.TraceId);
        // A PostgreSQL command is traced once (by Npgsql), not again by EF Core.
        if (app.Provider == StorageProvider.Postgres)
            Assert.DoesNotContain(spans, s => s.Source.Name == "OpenTelemetry.Instrumentation.EntityFrameworkCore");
        // Probes are not traced.
        await (await app.CreateClient().GetAsync("/health/live")).ShouldBe(HttpStatusCode.OK);
        app.Collect();
        lock (app.Spans) Assert.DoesNotContain(app.Spans, s => s.Kind == ActivityKind.Server && (s.GetTagItem("url.path") as string)?.StartsWith("/health", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task TheOldestPendingRowAndTheSyncLagAreMeasuredFromTheDatabase()
    {
        // Rows and cursors as the outbox and the Events API sync leave them, at known times on the fake clock.
        var org = await _s.NewOrg();
        var refused = RosterApp.NewUser("refused");
        await app.EnqueueRefusalAsync(org.Id, refused.Email, refused.Name);
        app.Clock.Advance(TimeSpan.FromSeconds(42));
        var workosOrg = WorkOs.NewId("org");
        await app.WithDbAsync(async db =>
        {
            db.OrganizationSyncs.Add(new WorkosOrganizationSync
            {
                WorkosOrganizationId = workosOrg, Cursor = "event_01", LastSyncedAt = app.Clock.UtcNow.AddSeconds(-90), UpdatedAt = app.Clock.UtcNow,
            });
            await db.SaveChangesAsync();
        });
        app.Clock.Advance(TimeSpan.FromSeconds(2));
        // The gauges share one database read for up to a second (real time): let a collection of the other test expire.
        await Task.Delay(TimeSpan.FromMilliseconds(1100));

        var metrics = app.Collect();
        var oldest = await app.WithDbAsync(db => db.NotificationOutbox.Where(r => r.SentAt == null && r.FailedAt == null).MinAsync(r => r.CreatedAt));
        Assert.Equal((app.Clock.UtcNow - oldest).TotalSeconds, Gauge(metrics, "roster.outbox.oldest_pending_age"), precision: 3);
        Assert.True(Gauge(metrics, "roster.outbox.oldest_pending_age") >= 44);
        Assert.Equal(92, Gauge(metrics, "roster.workos.sync.lag", ("workos.organization.id", workosOrg)), precision: 3);
    }
}

[Collection(TelemetryCollection.Name)]
public sealed class TelemetryTestsOnSqlite(SqliteTelemetryApp app) : TelemetryTests(app), IClassFixture<SqliteTelemetryApp>;

[Collection(TelemetryCollection.Name)]
public sealed class TelemetryTestsOnPostgres(PostgresTelemetryApp app) : TelemetryTests(app), IClassFixture<PostgresTelemetryApp>;
