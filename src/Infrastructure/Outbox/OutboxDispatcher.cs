using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;

namespace Roster.Infrastructure.Outbox;

/// <summary>
/// Sends what the outbox holds. A call claims a batch of due rows (not sent, not failed, next_attempt_at reached)
/// by moving their next_attempt_at one lease ahead in a single statement, so no other dispatcher — in this
/// process or another instance — picks them up meanwhile: PostgreSQL skips rows another claim has locked
/// (FOR UPDATE SKIP LOCKED), SQLite runs the whole claim under its one write lock. The new next_attempt_at is the
/// claim's token: outcomes are written only while it still matches. A row is marked sent only after Slack said ok;
/// a transient failure is retried later with exponential backoff and jitter (or at Slack's Retry-After), a
/// permanent one, or running out of tries, marks it failed with its last error. A delivery that may have happened
/// (chat.postMessage timed out) fails the row at once: it is never re-sent blind. A paused sender (a revoked token)
/// leaves its rows pending, uncounted, with the reason as their last error.
/// </summary>
public sealed class OutboxDispatcher(
    IServiceScopeFactory scopes,
    StorageOptions storage,
    NotificationOptions options,
    TimeProvider clock,
    Infrastructure.Telemetry.RosterMetrics metrics,
    ILogger<OutboxDispatcher> log)
{
    private const int MaxErrorLength = 1000;

    // Senders paused by this instance (by the kinds they send), with why and until when: the rest of the batch and
    // later batches hand their rows back untried instead of each spending a call to learn the same thing. Another
    // instance learns it itself.
    private readonly Dictionary<string, (string Error, DateTime Until)> _paused = new(StringComparer.Ordinal);
    private readonly Lock _pausedLock = new();

    /// <summary>Claims and sends one batch of due rows; returns how many rows it claimed (0 = nothing was due).</summary>
    public async Task<int> DispatchDueAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RosterDb>();
        // Roster runs standalone without Slack or WorkOS: rows for what is not configured simply stay pending.
        var all = scope.ServiceProvider.GetServices<IOutboxSender>().ToList();
        var senders = all.Where(s => s.IsConfigured)
            .SelectMany(s => s.Kinds.Select(kind => (kind, s)))
            .ToDictionary(x => x.kind, x => x.s, StringComparer.Ordinal);
        if (senders.Count == 0) return 0;
        var known = all.SelectMany(s => s.Kinds).ToArray();

        // Claimed: kinds a configured sender delivers, and kinds nobody knows (those fail at once, visibly).
        var claimed = await ClaimAsync(db, senders.Keys.ToArray(), known, ct);
        var started = clock.GetTimestamp();
        for (var i = 0; i < claimed.Count; i++)
        {
            var row = claimed[i];
            if (clock.GetElapsedTime(started) > options.Lease / 2)
            {
                // Slow going: hand the rest back before the lease runs out and another dispatcher takes them.
                await ReleaseAsync(db, claimed.Skip(i), Now(), CancellationToken.None);
                break;
            }

            string delivery;
            senders.TryGetValue(row.Kind, out var sender);
            if (sender is not null && PausedUntil(row.Kind) is { } pause)
            {
                await PauseAsync(db, row, pause.Error, pause.Until, CancellationToken.None);
                continue;
            }
            try
            {
                if (sender is null)
                    throw new UndeliverableNotificationException($"unreadable notification: unknown notification kind '{row.Kind}'");
                delivery = await sender.SendAsync(row, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                await ReleaseAsync(db, claimed.Skip(i), Now(), CancellationToken.None);
                throw;
            }
            catch (OutboxSendException ex) when (ex is { IsTransient: true, RetryAfter: { } retryAfter })
            {
                // Rate limited: this row and the rest of the batch wait as long as the service asked.
                var retryAt = Now() + retryAfter;
                await RecordFailureAsync(db, row, ex.Message, permanent: false, retryAt, CancellationToken.None);
                await ReleaseAsync(db, claimed.Skip(i + 1), retryAt, CancellationToken.None);
                break;
            }
            catch (OutboxSendException ex) when (ex.Failure == OutboxFailure.SenderPaused)
            {
                // Nothing this sender sends can work until someone fixes it: no try is counted, the row stays pending,
                // and one row probes again after the base backoff.
                var until = Now() + TimeSpan.FromSeconds(options.BackoffBaseSeconds);
                lock (_pausedLock)
                    foreach (var kind in sender!.Kinds) _paused[kind] = (OutboxErrors.PausedPrefix + ex.Message, until);
                log.LogError("Delivery of {Kinds} paused until someone fixes it: {Error}", string.Join(", ", sender!.Kinds), ex.Message);
                await PauseAsync(db, row, OutboxErrors.PausedPrefix + ex.Message, until, CancellationToken.None);
                continue;
            }
            catch (OutboxSendException ex) when (ex.Failure == OutboxFailure.MayHaveBeenDelivered)
            {
                // Sending again could deliver twice; an operator who checked retries it (POST …/notifications/{id}/retry).
                await RecordFailureAsync(db, row, OutboxErrors.MayHaveBeenDeliveredPrefix + ex.Message, permanent: true, retryAt: null, CancellationToken.None);
                continue;
            }
            catch (OutboxSendException ex)
            {
                await RecordFailureAsync(db, row, ex.Message, permanent: !ex.IsTransient, retryAt: null, CancellationToken.None);
                continue;
            }
            catch (UndeliverableNotificationException ex)
            {
                await RecordFailureAsync(db, row, ex.Message, permanent: true, retryAt: null, CancellationToken.None);
                continue;
            }
            catch (Exception ex)
            {
                // The database or something unexpected: try again later rather than lose the row.
                await RecordFailureAsync(db, row, $"{ex.GetType().Name}: {ex.Message}", permanent: false, retryAt: null, CancellationToken.None);
                continue;
            }

            lock (_pausedLock)
                foreach (var kind in sender!.Kinds) _paused.Remove(kind);
            try
            {
                await MarkSentAsync(db, row, CancellationToken.None);
                metrics.Delivery(row.Kind, "sent");
                log.LogInformation("Outbox row {RowId} ({Kind}) delivered: {Delivery}", row.Id, row.Kind, delivery);
            }
            catch (Exception ex)
            {
                // Slack has it but the outbox does not know: it comes due again when the lease ends (at least once).
                log.LogError(ex, "Outbox row {RowId} was delivered ({Delivery}) but could not be marked sent", row.Id, delivery);
            }
        }
        return claimed.Count;
    }

    private DateTime Now() => Truncate(clock.GetUtcNow().UtcDateTime);

    /// <summary>The pause this instance is keeping for a kind, while it lasts (once it ends, one row probes again).</summary>
    private (string Error, DateTime Until)? PausedUntil(string kind)
    {
        lock (_pausedLock)
            return _paused.TryGetValue(kind, out var pause) && pause.Until > Now() ? pause : null;
    }

    /// <summary>PostgreSQL keeps microseconds; times the claim compares must survive the round trip unchanged.</summary>
    private static DateTime Truncate(DateTime utc) => new(utc.Ticks - utc.Ticks % 10, DateTimeKind.Utc);

    private async Task<List<NotificationOutboxRow>> ClaimAsync(RosterDb db, string[] kinds, string[] known, CancellationToken ct)
    {
        var kindsJson = System.Text.Json.JsonSerializer.Serialize(kinds);
        var knownJson = System.Text.Json.JsonSerializer.Serialize(known);
        // Not truncated: a row enqueued at this very tick is due (SQLite keeps all seven fractional digits).
        var now = clock.GetUtcNow().UtcDateTime;
        var leaseUntil = Truncate(now + options.Lease);
        var batch = options.BatchSize;
        var rows = storage.Provider == StorageProvider.Postgres
            ? await db.NotificationOutbox.FromSql($"""
                UPDATE notification_outbox AS o
                SET next_attempt_at = {leaseUntil}
                FROM (
                    SELECT id FROM notification_outbox
                    WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= {now} AND (kind = ANY({kinds}) OR NOT kind = ANY({known}))
                    ORDER BY next_attempt_at, id
                    LIMIT {batch}
                    FOR UPDATE SKIP LOCKED
                ) AS due
                WHERE o.id = due.id
                RETURNING o.id, o.kind, o.dedupe_key, o.payload, o.attempts, o.next_attempt_at, o.sent_at, o.failed_at, o.last_error, o.created_at
                """).AsNoTracking().ToListAsync(ct)
            // SQLite has one writer at a time, so selecting and moving the rows in one statement is the whole lock.
            : await db.NotificationOutbox.FromSql($"""
                UPDATE notification_outbox
                SET next_attempt_at = {leaseUntil}
                WHERE id IN (
                    SELECT id FROM notification_outbox
                    WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= {now}
                          AND (kind IN (SELECT value FROM json_each({kindsJson})) OR kind NOT IN (SELECT value FROM json_each({knownJson})))
                    ORDER BY next_attempt_at, id
                    LIMIT {batch}
                )
                RETURNING id, kind, dedupe_key, payload, attempts, next_attempt_at, sent_at, failed_at, last_error, created_at
                """).AsNoTracking().ToListAsync(ct);
        return rows.OrderBy(r => r.CreatedAt).ThenBy(r => r.Id).ToList();
    }

    private static IQueryable<NotificationOutboxRow> Claimed(RosterDb db, NotificationOutboxRow row) =>
        db.NotificationOutbox.Where(r => r.Id == row.Id && r.NextAttemptAt == row.NextAttemptAt && r.SentAt == null && r.FailedAt == null);

    private async Task MarkSentAsync(RosterDb db, NotificationOutboxRow row, CancellationToken ct)
    {
        var now = Now();
        // Slack has it: record that whatever happened to the lease, so nobody sends it again.
        // The last error of a sent row is history nobody needs to act on.
        var updated = await db.NotificationOutbox
            .Where(r => r.Id == row.Id && r.SentAt == null)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.SentAt, now)
                .SetProperty(r => r.LastError, (string?)null)
                .SetProperty(r => r.Attempts, r => r.Attempts + 1), ct);
        if (updated == 0) log.LogWarning("Notification {RowId} was already marked sent by someone else", row.Id);
    }

    private async Task RecordFailureAsync(RosterDb db, NotificationOutboxRow row, string error, bool permanent, DateTime? retryAt, CancellationToken ct)
    {
        var now = Now();
        var attempts = row.Attempts + 1;
        var giveUp = permanent || attempts >= options.MaxAttempts;
        metrics.Delivery(row.Kind, giveUp ? "failed" : "retry");
        var lastError = error.Length > MaxErrorLength ? error[..MaxErrorLength] : error;
        var next = Truncate(retryAt ?? now + Backoff(attempts));
        try
        {
            var updated = giveUp
                ? await Claimed(db, row).ExecuteUpdateAsync(s => s
                    .SetProperty(r => r.Attempts, attempts)
                    .SetProperty(r => r.LastError, lastError)
                    .SetProperty(r => r.FailedAt, now), ct)
                : await Claimed(db, row).ExecuteUpdateAsync(s => s
                    .SetProperty(r => r.Attempts, attempts)
                    .SetProperty(r => r.LastError, lastError)
                    .SetProperty(r => r.NextAttemptAt, next), ct);
            if (updated == 0)
                log.LogWarning("Notification {RowId}: lost its claim before its outcome was recorded ({Error})", row.Id, lastError);
            else if (giveUp)
                log.LogError("Notification {RowId} ({Kind}) failed after {Attempts} attempt(s): {Error}", row.Id, row.Kind, attempts, lastError);
            else
                log.LogWarning("Notification {RowId} ({Kind}) attempt {Attempts} failed, next try at {NextAttemptAt:o}: {Error}",
                    row.Id, row.Kind, attempts, next, lastError);
        }
        catch (Exception ex)
        {
            // The claim's lease runs out and the row comes due again: nothing is lost.
            log.LogError(ex, "Notification {RowId}: could not record the outcome of attempt {Attempts}", row.Id, attempts);
        }
    }

    /// <summary>Gives a claimed row back unsent and uncounted, due at <paramref name="until"/>, saying why it waits.</summary>
    private async Task PauseAsync(RosterDb db, NotificationOutboxRow row, string error, DateTime until, CancellationToken ct)
    {
        var lastError = error.Length > MaxErrorLength ? error[..MaxErrorLength] : error;
        try
        {
            await Claimed(db, row).ExecuteUpdateAsync(s => s
                .SetProperty(r => r.LastError, lastError)
                .SetProperty(r => r.NextAttemptAt, until), ct);
        }
        catch (Exception ex)
        {
            log.LogWarning(ex, "Notification {RowId}: could not hand back its claim; it comes due when the lease ends", row.Id);
        }
    }

    /// <summary>Gives claimed rows back unsent (no attempt counted), due again at <paramref name="dueAt"/>.</summary>
    private async Task ReleaseAsync(RosterDb db, IEnumerable<NotificationOutboxRow> rows, DateTime dueAt, CancellationToken ct)
    {
        foreach (var row in rows)
        {
            try
            {
                await Claimed(db, row).ExecuteUpdateAsync(s => s.SetProperty(r => r.NextAttemptAt, dueAt), ct);
            }
            catch (Exception ex)
            {
                log.LogWarning(ex, "Notification {RowId}: could not hand back its claim; it comes due when the lease ends", row.Id);
            }
        }
    }

    /// <summary>Exponential backoff with jitter: base × 2^(attempt−1), capped, then somewhere in its upper half.</summary>
    public TimeSpan Backoff(int attempt)
    {
        var exponent = Math.Min(Math.Max(attempt - 1, 0), 30);
        var seconds = Math.Min(options.BackoffBaseSeconds * Math.Pow(2, exponent), options.BackoffMaxSeconds);
        return TimeSpan.FromSeconds(seconds * (0.5 + Random.Shared.NextDouble() * 0.5));
    }
}
