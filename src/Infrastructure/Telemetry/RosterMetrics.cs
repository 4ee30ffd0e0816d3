using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Outbox;

namespace Roster.Infrastructure.Telemetry;

/// <summary>
/// Roster's own meter ("Roster") and activity source: what an operator watches beside request rate and latency.
/// Counters are recorded where things happen; the outbox and sync gauges are read from the database when a reader
/// collects (an exporter's interval, a Prometheus scrape), at most once a second, so they are always the stored truth.
/// Instruments cost nothing while nobody listens (no exporter configured).
/// </summary>
public sealed class RosterMetrics : IDisposable
{
    public const string MeterName = "Roster";
    public static readonly ActivitySource ActivitySource = new(MeterName);

    /// <summary>At most this many organizations are reported by the sync-lag gauge (the most lagging first).</summary>
    public const int MaxSyncLagSeries = 500;

    private static readonly TimeSpan SnapshotMaxAge = TimeSpan.FromSeconds(1);

    private readonly Meter _meter;
    private readonly IServiceScopeFactory _scopes;
    private readonly TimeProvider _clock;
    private readonly ILogger<RosterMetrics> _logger;
    private readonly Counter<long> _webhookEvents;
    private readonly Counter<long> _seatRefusals;
    private readonly Counter<long> _seatWarnings;
    private readonly Counter<long> _notificationDeliveries;
    private readonly Lock _snapshotLock = new();
    private Snapshot? _snapshot;

    public RosterMetrics(IMeterFactory meters, IServiceScopeFactory scopes, TimeProvider clock, ILogger<RosterMetrics> logger)
    {
        _scopes = scopes;
        _clock = clock;
        _logger = logger;
        _meter = meters.Create(MeterName);
        _webhookEvents = _meter.CreateCounter<long>("roster.webhook.events", "{event}",
            "WorkOS webhook deliveries answered 200, by event type and outcome (applied, refused, stale, ignored, duplicate).");
        _seatRefusals = _meter.CreateCounter<long>("roster.seat.refusals", "{refusal}",
            "New seats refused because the seat type is full, by gate (add_member, approve, update_member, workos_event) and seat type.");
        _seatWarnings = _meter.CreateCounter<long>("roster.seat.warnings", "{warning}",
            "Seat warnings queued (usage rising past 80% or 100% of the plan), by seat type and threshold.");
        _notificationDeliveries = _meter.CreateCounter<long>("roster.outbox.deliveries", "{attempt}",
            "Outbox delivery attempts, by kind and result (sent, retry, failed).");
        _meter.CreateObservableGauge("roster.outbox.pending", () => Read(s => s.Pending), "{row}",
            "Outbox rows not sent yet and not given up on.");
        _meter.CreateObservableGauge("roster.outbox.failed", () => Read(s => s.Failed), "{row}",
            "Outbox rows given up on (a permanent error or the last try); listed at GET /api/admin/notifications?status=failed.");
        _meter.CreateObservableGauge("roster.outbox.oldest_pending_age", () => Read(s => s.OldestPendingAgeSeconds), "s",
            "Age of the oldest pending outbox row (0 when none).");
        _meter.CreateObservableGauge("roster.workos.sync.lag", ReadSyncLag, "s",
            "Seconds since the Events API sync of each organization last completed (organization \"\" = environment role events).");
    }

    /// <param name="handled">Whether Roster handles this event type (the webhook processor knows).</param>
    public void WebhookEvent(string eventType, bool handled, string outcome) =>
        // Types Roster does not handle are one series: they come from outside, so they must not grow the series count.
        _webhookEvents.Add(1, new("workos.event.type", handled ? eventType : "other"),
            new("roster.webhook.outcome", outcome));

    public void SeatRefused(string gate, string seatType) =>
        _seatRefusals.Add(1, new("roster.gate", gate), new("roster.seat_type", seatType));

    public void SeatWarning(string seatType, int threshold) =>
        _seatWarnings.Add(1, new("roster.seat_type", seatType), new("roster.threshold", threshold));

    public void Delivery(string kind, string result) =>
        _notificationDeliveries.Add(1, new("roster.outbox.kind", kind), new("roster.result", result));

    private sealed record Snapshot(long TakenAt, long Pending, long Failed, double OldestPendingAgeSeconds,
        IReadOnlyList<(string Organization, double LagSeconds)> SyncLag);

    private IEnumerable<Measurement<T>> Read<T>(Func<Snapshot, T> value) where T : struct =>
        CurrentSnapshot() is { } snapshot ? [new Measurement<T>(value(snapshot))] : [];

    private IEnumerable<Measurement<double>> ReadSyncLag() =>
        CurrentSnapshot()?.SyncLag.Select(s => new Measurement<double>(s.LagSeconds, new KeyValuePair<string, object?>("workos.organization.id", s.Organization)))
        ?? [];

    /// <summary>One read of the database serves every gauge of a collection.</summary>
    private Snapshot? CurrentSnapshot()
    {
        lock (_snapshotLock)
        {
            // The cache's age is measured on the monotonic clock; the ages reported, on the wall clock.
            if (_snapshot is { } fresh && _clock.GetElapsedTime(fresh.TakenAt) < SnapshotMaxAge) return fresh;
            try
            {
                _snapshot = Take(_clock.GetUtcNow().UtcDateTime, _clock.GetTimestamp());
            }
            catch (Exception ex)
            {
                // A gauge must never break the exporter; an unreachable database shows as missing points.
                _logger.LogWarning("Could not read the outbox and sync gauges: {Error}", ex.Message);
                _snapshot = null;
            }
            return _snapshot;
        }
    }

    // Observable callbacks are synchronous; these are three small aggregate queries, once per collection.
    private Snapshot Take(DateTime now, long takenAt)
    {
        using var scope = _scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<RosterDb>();
        var pending = db.NotificationOutbox.AsNoTracking().Where(r => r.SentAt == null && r.FailedAt == null);
        var pendingCount = pending.LongCount();
        var oldest = pendingCount == 0 ? (DateTime?)null : pending.OrderBy(r => r.CreatedAt).Select(r => r.CreatedAt).First();
        var failed = db.NotificationOutbox.AsNoTracking().LongCount(r => r.FailedAt != null && r.SentAt == null);
        var syncs = db.OrganizationSyncs.AsNoTracking()
            .Where(s => s.LastSyncedAt != null)
            .OrderBy(s => s.LastSyncedAt)
            .Take(MaxSyncLagSeries)
            .Select(s => new { s.WorkosOrganizationId, s.LastSyncedAt })
            .ToList();
        return new Snapshot(takenAt, pendingCount, failed, oldest is null ? 0 : Math.Max(0, (now - oldest.Value).TotalSeconds),
            syncs.Select(s => (s.WorkosOrganizationId, Math.Max(0, (now - s.LastSyncedAt!.Value).TotalSeconds))).ToList());
    }

    public void Dispose() => _meter.Dispose();
}

/// <summary>Attributes Roster puts on its spans.</summary>
public static class TraceTags
{
    public const string EventId = "workos.event.id";
    public const string EventType = "workos.event.type";
    public const string Outcome = "roster.webhook.outcome";
}
