using System.Text.Json;
using Roster.Infrastructure.Data;

namespace Roster.Features.Notifications;

public static class NotificationKinds
{
    public const string MembershipRefused = "membership_refused";
    public const string SeatWarning = "seat_warning";
}

/// <summary>Delivers the outbox rows of some kinds (Slack notifications, WorkOS writes).</summary>
public interface IOutboxSender
{
    IReadOnlyCollection<string> Kinds { get; }

    /// <summary>False when what this sender talks to is not configured; its rows then wait, pending.</summary>
    bool IsConfigured { get; }

    /// <returns>Where the row went, for the log.</returns>
    Task<string> SendAsync(NotificationOutboxRow row, CancellationToken ct);
}

/// <summary>A delivery that did not happen: transient ones are retried (at <see cref="RetryAfter"/> when given), permanent ones fail the row.</summary>
public class OutboxSendException(string message, bool isTransient, TimeSpan? retryAfter = null, Exception? inner = null)
    : Exception(message, inner)
{
    public bool IsTransient { get; } = isTransient;
    public TimeSpan? RetryAfter { get; } = retryAfter;
}

/// <summary>Someone WorkOS added to an organization whose seats of that type were all taken.</summary>
public sealed record MembershipRefusedNotification(
    Guid OrganizationId,
    string? WorkosOrganizationId,
    string OrganizationName,
    string WorkosUserId,
    string? Email,
    string? Name,
    string SeatType,
    int Limit,
    int Used,
    string EventId);

/// <summary>An organization's use of a seat type rose past a threshold (80 or 100 percent).</summary>
public sealed record SeatWarningNotification(
    Guid OrganizationId,
    string? WorkosOrganizationId,
    string OrganizationName,
    string SeatType,
    int ThresholdPercent,
    int Limit,
    int Used);

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
