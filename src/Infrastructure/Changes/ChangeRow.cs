using Roster.Infrastructure.Data;

namespace Roster.Infrastructure.Changes;

/// <summary>
/// One committed membership change, as the feed and outgoing webhooks publish it. Appended in the transaction of the
/// change itself; <see cref="Sequence"/> is allocated under the organization's row lock (gapless, never backwards),
/// <see cref="Position"/> by the <see cref="ChangeSequencer"/> once the row is committed (null until then).
/// </summary>
public sealed class ChangeRow
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public long Sequence { get; set; }
    public long? Position { get; set; }
    public DateTime At { get; set; }
    public required string Type { get; set; }
    public Guid? MembershipId { get; set; }

    /// <summary>The person the change is about (the membership's user), when Roster knows them.</summary>
    public Guid? SubjectUserId { get; set; }

    /// <summary>The membership after the change (JSON of <see cref="MembershipSnapshot"/>), null when it is gone or never was.</summary>
    public string? Membership { get; set; }

    /// <summary>Role, status and seat type before the change (JSON of <see cref="PreviousState"/>), null when there was no membership.</summary>
    public string? Previous { get; set; }

    public Guid? ActorUserId { get; set; }
    public string Via { get; set; } = AuditVia.Api;

    /// <summary>In-memory only: the order rows were staged in one unit of work (sequence numbers follow it).</summary>
    internal long StagedOrder;

    /// <summary>In-memory only: the audit row staged with this change, chained when the sequence is known.</summary>
    internal AuditEvent? AuditRow;

    /// <summary>In-memory only: the membership after the change, completed with its person's email and name when saved.</summary>
    internal MembershipSnapshot? Snapshot;
}

/// <summary>A named counter of the feed (<see cref="FeedCounters"/>).</summary>
public sealed class ChangeFeedCounter
{
    public required string Name { get; set; }
    public long Value { get; set; }
}

public static class FeedCounters
{
    /// <summary>The last global position handed out.</summary>
    public const string Position = "position";

    /// <summary>Every position up to this one was removed by retention.</summary>
    public const string PrunedPosition = "pruned_position";

    /// <summary>The last delivery ordinal handed out (the order of each subscription's delivery lines).</summary>
    public const string Delivery = "delivery";
}

/// <summary>
/// The membership as it is after the change (the Membership representation), with its person's email and name as they
/// were when the change committed (<see cref="ChangeLog.StampAsync"/>): a later rename or deletion of the person does not
/// rewrite what the change said. Rows written before the email was kept have none; the feed then reads it.
/// </summary>
public sealed record MembershipSnapshot(
    Guid Id, Guid OrganizationId, Guid? UserId, string Role, string Status, string? Source, string SeatType, Guid? AddedBy,
    DateTime CreatedAt, DateTime UpdatedAt, DateTime? ExpiresAt, string? Email = null, string? Name = null);

/// <summary>What the membership was before the change.</summary>
public sealed record PreviousState(string? Role, string? Status, string? SeatType);
