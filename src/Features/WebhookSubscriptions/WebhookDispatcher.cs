using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Roster.Features.Changes;
using Roster.Infrastructure.Changes;
using Roster.Infrastructure.Outbox;
using Roster.Features.Notifications;
using Roster.Infrastructure.Data;

namespace Roster.Features.WebhookSubscriptions;

/// <summary>Counters of outgoing webhooks (meter "Roster"): every try by result, and deliveries given up (alert on it).</summary>
public sealed class WebhookMetrics
{
    private readonly Counter<long> _deliveries;
    private readonly Counter<long> _givenUp;
    private readonly Counter<long> _disabled;

    public WebhookMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(Infrastructure.Telemetry.RosterMetrics.MeterName);
        _deliveries = meter.CreateCounter<long>("roster.webhooks.deliveries", description: "Tries of outgoing webhook deliveries, by result (sent, retry, failed).");
        _givenUp = meter.CreateCounter<long>("roster.webhooks.given_up", description: "Deliveries given up after the retry budget: the receiver missed a change; alert on any.");
        _disabled = meter.CreateCounter<long>("roster.webhooks.subscriptions_disabled", description: "Subscriptions disabled after failing for Webhooks__DisableAfterHours.");
    }

    public void Tried(string result) => _deliveries.Add(1, new KeyValuePair<string, object?>("roster.result", result));
    public void GivenUp() => _givenUp.Add(1);
    public void Disabled() => _disabled.Add(1);
}

/// <summary>
/// Sends deliveries in order. Each (subscription, organization) is a line ordered by ordinal; a claim takes only the
/// first pending delivery of each line that is due, moving its next_attempt_at one lease ahead (PostgreSQL skips rows
/// another instance's claim holds; SQLite's single writer makes the claim one step). Delivery n+1 of a line is therefore
/// sent only after n succeeded or was given up; other lines go on meanwhile. A failure is retried with exponential
/// backoff and jitter (or at the receiver's Retry-After) up to Webhooks__MaxAttempts; a subscription failing for
/// Webhooks__DisableAfterHours with no success is disabled and an operator notification queued.
/// </summary>
public sealed class WebhookDispatcher(
    IServiceScopeFactory scopes,
    StorageOptions storage,
    WebhooksOptions options,
    IHttpClientFactory clients,
    WebhookMetrics metrics,
    TimeProvider clock,
    ILogger<WebhookDispatcher> log) : BackgroundService
{
    public const string ClientName = "roster-webhooks";
    public const string DisabledNotificationKind = "webhook_subscription_disabled";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private const int MaxErrorLength = 500;

    private TimeSpan Lease => TimeSpan.FromSeconds(options.TimeoutSeconds * 2 + 30);

    private DateTime Now() => ChangeLog.Micros(clock.GetUtcNow().UtcDateTime);

    /// <summary>Claims the heads of the due lines and sends them; returns how many it claimed.</summary>
    public async Task<int> DispatchDueAsync(CancellationToken ct)
    {
        List<WebhookDelivery> claimed;
        await using (var scope = scopes.CreateAsyncScope())
            claimed = await ClaimAsync(scope.ServiceProvider.GetRequiredService<RosterDb>(), ct);
        if (claimed.Count == 0) return 0;
        await Parallel.ForEachAsync(claimed, new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency, CancellationToken = ct },
            async (delivery, token) =>
            {
                try
                {
                    await SendAsync(delivery, token);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !token.IsCancellationRequested)
                {
                    // The database went away mid-way: the lease runs out and the delivery comes due again.
                    log.LogWarning(ex, "Webhook delivery {DeliveryId}: could not be sent or recorded", delivery.Id);
                }
            });
        return claimed.Count;
    }

    private async Task<List<WebhookDelivery>> ClaimAsync(RosterDb db, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var lease = ChangeLog.Micros(now + Lease);
        var batch = options.Concurrency * 4;
        const string due = """
            SELECT d.id FROM webhook_deliveries d
            JOIN webhook_subscriptions s ON s.id = d.subscription_id AND s.deleted_at IS NULL AND s.disabled_at IS NULL
            WHERE d.status = 'pending' AND d.next_attempt_at <= {0}
              AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e
                              WHERE e.subscription_id = d.subscription_id AND e.organization_id = d.organization_id
                                AND e.status = 'pending' AND e.ordinal < d.ordinal)
            ORDER BY d.ordinal
            LIMIT {1}
            """;
        if (storage.Provider == StorageProvider.Postgres)
            return await db.WebhookDeliveries.FromSqlRaw(
                "UPDATE webhook_deliveries AS w SET next_attempt_at = {2} FROM (" + due + " FOR UPDATE OF d SKIP LOCKED) AS due " +
                "WHERE w.id = due.id RETURNING w.*", now, batch, lease).AsNoTracking().ToListAsync(ct);
        // SQLite has one writer at a time, so selecting and moving the heads in one statement is the whole lock.
        return await db.WebhookDeliveries.FromSqlRaw(
            "UPDATE webhook_deliveries SET next_attempt_at = {2} WHERE id IN (" + due + ") RETURNING *", now, batch, lease)
            .AsNoTracking().ToListAsync(ct);
    }

    private async Task SendAsync(WebhookDelivery delivery, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RosterDb>();
        var subscription = await db.WebhookSubscriptions.AsNoTracking().FirstAsync(s => s.Id == delivery.SubscriptionId, ct);
        var change = await db.Changes.AsNoTracking().FirstOrDefaultAsync(c => c.Id == delivery.ChangeId, ct);
        if (change is null)
        {
            await RecordAsync(db, delivery, subscription, Outcome.GiveUp(null, null, "the change is no longer kept (Changes__RetentionDays)"), ct);
            return;
        }
        var body = JsonSerializer.Serialize((await ChangeViews.ViewAsync(db, [change], ct))[0], Json);
        var now = clock.GetUtcNow();
        var secrets = new List<string> { subscription.Secret };
        if (subscription.PreviousSecret is not null && subscription.PreviousSecretExpiresAt > now.UtcDateTime) secrets.Add(subscription.PreviousSecret);
        var timestamp = now.ToUnixTimeSeconds();
        var id = change.Id.ToString();

        using var request = new HttpRequestMessage(HttpMethod.Post, subscription.Url)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("webhook-id", id);
        request.Headers.Add("webhook-timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", StandardWebhookSignature.Header(secrets, id, timestamp, body));
        request.Headers.UserAgent.ParseAdd("Roster-Webhooks/1");

        var started = Stopwatch.GetTimestamp();
        Outcome outcome;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(options.TimeoutSeconds));
            using var response = await clients.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var latency = (int)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            // Retry-After counts from the answer: from the request's start, a slow answer would shorten the wait it asks for.
            var answeredAt = clock.GetUtcNow();
            var status = (int)response.StatusCode;
            if (status is >= 200 and < 300)
                outcome = Outcome.Sent(status, latency);
            else
            {
                var answer = await ReadCappedAsync(response, timeout.Token);
                var retryAfter = RetryAfter(response, answeredAt);
                outcome = Outcome.Failed(status, latency, $"answered {status}" + (answer.Length > 0 ? $": {answer}" : ""), retryAfter);
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException && !ct.IsCancellationRequested)
        {
            var latency = (int)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var reason = ex is TaskCanceledException ? $"no answer within {options.TimeoutSeconds} s"
                : ex.InnerException is BlockedAddressException blocked ? blocked.Message : ex.Message;
            outcome = Outcome.Failed(null, latency, reason, null);
        }
        await RecordAsync(db, delivery, subscription, outcome, CancellationToken.None);
    }

    private async Task<string> ReadCappedAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (options.MaxResponseBytes == 0) return "";
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        var buffer = new byte[options.MaxResponseBytes];
        var read = 0;
        int n;
        while (read < buffer.Length && (n = await stream.ReadAsync(buffer.AsMemory(read), ct)) > 0) read += n;
        var text = Encoding.UTF8.GetString(buffer, 0, read);
        return text.Length > 200 ? text[..200] : text;
    }

    private static DateTime? RetryAfter(HttpResponseMessage response, DateTimeOffset now)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta) return (now + delta).UtcDateTime;
        if (header?.Date is { } date) return date.UtcDateTime;
        return null;
    }

    private sealed record Outcome(bool Ok, bool Permanent, int? Status, int? LatencyMs, string? Error, DateTime? RetryAt)
    {
        public static Outcome Sent(int status, int latency) => new(true, false, status, latency, null, null);
        public static Outcome Failed(int? status, int latency, string error, DateTime? retryAt) => new(false, false, status, latency, error, retryAt);
        public static Outcome GiveUp(int? status, int? latency, string error) => new(false, true, status, latency, error, null);
    }

    private async Task RecordAsync(RosterDb db, WebhookDelivery delivery, WebhookSubscription subscription, Outcome outcome, CancellationToken ct)
    {
        var now = Now();
        var attempts = delivery.Attempts + 1;
        var error = outcome.Error is { Length: > MaxErrorLength } e ? e[..MaxErrorLength] : outcome.Error;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var mine = db.WebhookDeliveries.Where(d => d.Id == delivery.Id && d.Status == DeliveryStatus.Pending);
        if (outcome.Ok)
        {
            metrics.Tried("sent");
            await mine.ExecuteUpdateAsync(s => s
                .SetProperty(d => d.Status, DeliveryStatus.Sent).SetProperty(d => d.Attempts, attempts)
                .SetProperty(d => d.LastAttemptAt, now).SetProperty(d => d.CompletedAt, now)
                .SetProperty(d => d.ResponseCode, outcome.Status).SetProperty(d => d.LatencyMs, outcome.LatencyMs)
                .SetProperty(d => d.LastError, (string?)null), ct);
            await db.WebhookSubscriptions.Where(s => s.Id == subscription.Id && s.FailingSince != null)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.FailingSince, (DateTime?)null), ct);
        }
        else
        {
            var giveUp = outcome.Permanent || attempts >= options.MaxAttempts;
            if (giveUp)
            {
                metrics.Tried("failed");
                metrics.GivenUp();
                log.LogError("Webhook delivery {DeliveryId} of change {ChangeId} to subscription {SubscriptionId} given up after {Attempts} attempt(s): {Error}",
                    delivery.Id, delivery.ChangeId, subscription.Id, attempts, error);
                await mine.ExecuteUpdateAsync(s => s
                    .SetProperty(d => d.Status, DeliveryStatus.Failed).SetProperty(d => d.Attempts, attempts)
                    .SetProperty(d => d.LastAttemptAt, now).SetProperty(d => d.CompletedAt, now)
                    .SetProperty(d => d.ResponseCode, outcome.Status).SetProperty(d => d.LatencyMs, outcome.LatencyMs)
                    .SetProperty(d => d.LastError, error), ct);
            }
            else
            {
                metrics.Tried("retry");
                var next = ChangeLog.Micros(outcome.RetryAt is { } at && at > now ? Min(at, now.AddSeconds(options.BackoffMaxSeconds)) : now + Backoff(attempts));
                log.LogWarning("Webhook delivery {DeliveryId} to subscription {SubscriptionId}, attempt {Attempts} failed, next at {Next:o}: {Error}",
                    delivery.Id, subscription.Id, attempts, next, error);
                await mine.ExecuteUpdateAsync(s => s
                    .SetProperty(d => d.Attempts, attempts).SetProperty(d => d.NextAttemptAt, next).SetProperty(d => d.LastAttemptAt, now)
                    .SetProperty(d => d.ResponseCode, outcome.Status).SetProperty(d => d.LatencyMs, outcome.LatencyMs)
                    .SetProperty(d => d.LastError, error), ct);
            }
            await db.WebhookSubscriptions.Where(s => s.Id == subscription.Id && s.FailingSince == null)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.FailingSince, now), ct);
            var failingSince = await db.WebhookSubscriptions.Where(s => s.Id == subscription.Id).Select(s => s.FailingSince).SingleAsync(ct);
            var cutoff = now.AddHours(-options.DisableAfterHours);
            if (failingSince <= cutoff)
            {
                var reason = $"every delivery failed for {options.DisableAfterHours} hours (since {failingSince:o}); last error: {error}";
                var disabled = await db.WebhookSubscriptions.Where(s => s.Id == subscription.Id && s.DisabledAt == null)
                    .ExecuteUpdateAsync(s => s.SetProperty(x => x.DisabledAt, now).SetProperty(x => x.DisabledReason, reason).SetProperty(x => x.UpdatedAt, now), ct);
                if (disabled == 1)
                {
                    metrics.Disabled();
                    log.LogError("Webhook subscription {SubscriptionId} ({Url}) disabled: {Reason}", subscription.Id, subscription.Url, reason);
                    Outbox.Enqueue(db, DisabledNotificationKind, $"{DisabledNotificationKind}:{subscription.Id}:{now.Ticks}",
                        new WebhookSubscriptionDisabledNotification(subscription.Id, subscription.Url, failingSince!.Value, now, reason), now);
                    await db.SaveChangesAsync(ct);
                }
            }
        }
        await tx.CommitAsync(ct);
    }

    private static DateTime Min(DateTime a, DateTime b) => a < b ? a : b;

    /// <summary>Exponential backoff with jitter: base × 2^(attempt−1), capped, then somewhere in its upper half.</summary>
    public TimeSpan Backoff(int attempt)
    {
        var exponent = Math.Min(Math.Max(attempt - 1, 0), 30);
        var seconds = Math.Min(options.BackoffBaseSeconds * Math.Pow(2, exponent), options.BackoffMaxSeconds);
        return TimeSpan.FromSeconds(seconds * (0.5 + Random.Shared.NextDouble() * 0.5));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var poll = TimeSpan.FromMilliseconds(options.PollMilliseconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            var claimed = 0;
            try
            {
                claimed = await DispatchDueAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                log.LogWarning(ex, "The webhook dispatcher failed; trying again in {Poll}", poll);
            }
            if (claimed > 0) continue; // a line moved: its next delivery may be due now
            try
            {
                await Task.Delay(poll, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }
}

/// <summary>The operator notification queued when a subscription is disabled.</summary>
public sealed record WebhookSubscriptionDisabledNotification(Guid SubscriptionId, string Url, DateTime FailingSince, DateTime DisabledAt, string Reason);
