using System.Text.Json;
using Roster.Infrastructure.Data;

namespace Roster.Infrastructure.Outbox;

/// <summary>Delivers the outbox rows of some kinds (Slack notifications, WorkOS writes).</summary>
public interface IOutboxSender
{
    IReadOnlyCollection<string> Kinds { get; }

    /// <summary>False when what this sender talks to is not configured; its rows then wait, pending.</summary>
    bool IsConfigured { get; }

    /// <summary>The setting that configures this sender (e.g. <c>Slack:BotToken</c>), for the log when none is.</summary>
    string ConfiguredBy { get; }

    /// <returns>Where the row went, for the log.</returns>
    Task<string> SendAsync(NotificationOutboxRow row, CancellationToken ct);
}

/// <summary>What a failed delivery means for its outbox row.</summary>
public enum OutboxFailure
{
    /// <summary>Nothing was delivered; trying again later can help (backoff, or <see cref="OutboxSendException.RetryAfter"/>).</summary>
    Transient,

    /// <summary>Nothing was delivered and trying again cannot help: the row fails.</summary>
    Permanent,

    /// <summary>
    /// The other side may have acted without saying so (a timeout, a broken answer, Slack's internal_error): sending
    /// again could deliver twice, so the row fails and only an operator's retry sends it again.
    /// </summary>
    MayHaveBeenDelivered,

    /// <summary>
    /// The sender cannot deliver anything at all (a revoked token, a missing scope): nothing is counted against the
    /// row, which stays pending; the sender's rows are tried again one at a time until it works.
    /// </summary>
    SenderPaused,
}

/// <summary>A delivery that did not happen, and what that means for the row (<see cref="OutboxFailure"/>).</summary>
public class OutboxSendException(string message, OutboxFailure failure, TimeSpan? retryAfter = null, Exception? inner = null)
    : Exception(message, inner)
{
    public OutboxSendException(string message, bool isTransient, TimeSpan? retryAfter = null, Exception? inner = null)
        : this(message, isTransient ? OutboxFailure.Transient : OutboxFailure.Permanent, retryAfter, inner) { }

    public OutboxFailure Failure { get; } = failure;
    public bool IsTransient => Failure == OutboxFailure.Transient;
    public TimeSpan? RetryAfter { get; } = retryAfter;
}

/// <summary>A notification that can never be sent as it stands (unknown kind, unreadable payload, nowhere to post).</summary>
public sealed class UndeliverableNotificationException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>How <c>last_error</c> marks the rows that are neither plainly pending nor plainly failed (one rule, one place).</summary>
public static class OutboxErrors
{
    /// <summary>A pending row waiting because its sender is paused (e.g. Slack said invalid_auth).</summary>
    public const string PausedPrefix = "paused: ";

    /// <summary>A failed row whose message may have arrived; only a retry of that one row sends it again.</summary>
    public const string MayHaveBeenDeliveredPrefix = "may have been delivered: ";
}

/// <summary>
/// The durable outbox: a notification is a row written in the same transaction as the change that caused it,
/// so it is sent at least once if and only if that change committed. The dedupe key makes a repeat harmless.
/// </summary>
public static class Outbox
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static NotificationOutboxRow Enqueue<T>(RosterDb db, string kind, string dedupeKey, T payload, DateTime now)
    {
        var row = new NotificationOutboxRow
        {
            Id = Guid.CreateVersion7(),
            Kind = kind,
            DedupeKey = dedupeKey,
            Payload = JsonSerializer.Serialize(payload, Json),
            Attempts = 0,
            NextAttemptAt = now,
            CreatedAt = now,
        };
        db.NotificationOutbox.Add(row);
        return row;
    }

    public static T Read<T>(NotificationOutboxRow row) =>
        JsonSerializer.Deserialize<T>(row.Payload, Json) ?? throw new InvalidOperationException($"Outbox row {row.Id} has an empty payload.");
}
