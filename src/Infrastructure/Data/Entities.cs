namespace Roster.Infrastructure.Data;

public static class MembershipStatus
{
    public const string Pending = "pending";
    public const string Active = "active";
    public const string Inactive = "inactive";
}

/// <summary>How a membership came to be. Only the first two may ever be PENDING.</summary>
public static class MembershipSource
{
    public const string JoinRequest = "join_request";
    public const string OwnerAdd = "owner_add";
    public const string Invitation = "invitation";
    public const string Webhook = "webhook";
    public const string Domain = "domain";
    public const string Legacy = "legacy";
    public const string Founder = "founder";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
    {
        JoinRequest, OwnerAdd, Invitation, Webhook, Domain, Legacy, Founder,
    };

    public static bool MayBePending(string? source) => source is JoinRequest or OwnerAdd;
}

public static class Roles
{
    public const string Owner = "owner";
    public const string Admin = "admin";
    public const string Member = "member";

    public static bool IsManager(string role) => role is Owner or Admin;
}

public sealed class Organization
{
    public Guid Id { get; set; }
    public string? WorkosOrganizationId { get; set; }
    public required string Name { get; set; }
    public string? Plan { get; set; }
    public long SeatLockVersion { get; set; }
    public DateTime? WorkosUpdatedAt { get; set; }
    public string? WorkosLastEventId { get; set; }
    public DateTime? DeletedAt { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }

    /// <summary>The last change-feed sequence number handed out in this organization (moved only under its row lock).</summary>
    public long ChangeSequence { get; set; }

    /// <summary>The hash of this organization's last audit row: where the next one chains on.</summary>
    public string? AuditHead { get; set; }
}

public sealed class User
{
    public Guid Id { get; set; }
    public string? WorkosUserId { get; set; }
    public required string Email { get; set; }
    public bool EmailVerified { get; set; }
    public string? Name { get; set; }
    public string? SlackUserId { get; set; }

    /// <summary>The email <see cref="SlackUserId"/> (or <see cref="SlackNotFoundAt"/>) was looked up with; another email is looked up again.</summary>
    public string? SlackLookupEmail { get; set; }

    /// <summary>When Slack last said nobody (usable) has <see cref="SlackLookupEmail"/>.</summary>
    public DateTime? SlackNotFoundAt { get; set; }

    public DateTime? WorkosUpdatedAt { get; set; }
    public string? WorkosLastEventId { get; set; }
    public DateTime? DeletedAt { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }

    public static string NormalizeEmail(string email) => email.Trim().ToLowerInvariant();
}

public sealed class Membership
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public Guid? UserId { get; set; }
    public string? WorkosUserId { get; set; }
    public string? WorkosMembershipId { get; set; }
    public required string Role { get; set; }
    public required string Status { get; set; }
    public string? Source { get; set; }
    public required string SeatType { get; set; }
    public Guid? AddedBy { get; set; }
    public DateTime? WorkosUpdatedAt { get; set; }
    public string? WorkosLastEventId { get; set; }
    public DateTime? DeletedAt { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }

    /// <summary>When a pending owner_add stops holding its seat (null for every other row).</summary>
    public DateTime? ExpiresAt { get; set; }

    /// <summary>The membership of the owner who offered this active member ownership (an open offer), else null.</summary>
    public Guid? OwnershipOfferedBy { get; set; }
    public DateTime? OwnershipOfferedAt { get; set; }
}

public static class SeatReservationSources
{
    /// <summary>Staged by a WorkOS invitation; holds a seat until the membership arrives or the invitation ends.</summary>
    public const string Invitation = "invitation";
    public const string OwnerAdd = "owner_add";

    /// <summary>Marks Roster's own create in WorkOS so its echo is recognised; the local row holds the seat, so this one counts for nothing.</summary>
    public const string Outbound = "outbound";
}

public sealed class SeatReservation
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public string? Email { get; set; }
    public string? WorkosUserId { get; set; }
    public required string SeatType { get; set; }
    public required string Source { get; set; }
    public string? WorkosInvitationId { get; set; }
    public DateTime ExpiresAt { get; set; }
    public DateTime CreatedAt { get; set; }
}

public sealed class AuditEvent
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public Guid? MembershipId { get; set; }
    public Guid? ActorUserId { get; set; }
    public Guid? SubjectUserId { get; set; }
    public required string Action { get; set; }
    public string? OldRole { get; set; }
    public string? NewRole { get; set; }
    public string? OldStatus { get; set; }
    public string? NewStatus { get; set; }
    public string? Source { get; set; }
    public DateTime At { get; set; }

    /// <summary>How the change arrived: <see cref="AuditVia"/>.</summary>
    public string Via { get; set; } = AuditVia.Api;

    /// <summary>The change-feed sequence of the change this row records: the audit chain's order (null before migration 0012).</summary>
    public long? Sequence { get; set; }

    /// <summary>The hash of the organization's audit row before this one ("" for the first); null before migration 0012.</summary>
    public string? PreviousHash { get; set; }

    /// <summary>SHA-256 (hex) over the row's canonical encoding and <see cref="PreviousHash"/> (Features/Changes/AuditChain).</summary>
    public string? Hash { get; set; }
}

public static class AuditVia
{
    /// <summary>A request to Roster's own API.</summary>
    public const string Api = "api";
    /// <summary>A WorkOS webhook.</summary>
    public const string Webhook = "webhook";
    /// <summary>Roster's background work: the Events API sync, the invitation expiry sweep.</summary>
    public const string Sync = "sync";
}

/// <summary>The first answer to a mutating request sent with an Idempotency-Key, per caller and key.</summary>
public sealed class IdempotencyRecord
{
    public Guid UserId { get; set; }
    public required string Key { get; set; }
    public required string Fingerprint { get; set; }
    public int? StatusCode { get; set; }
    public string? ContentType { get; set; }
    public string? Location { get; set; }
    public string? Body { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? CompletedAt { get; set; }
    public DateTime ExpiresAt { get; set; }
}

public sealed class NotificationOutboxRow
{
    public Guid Id { get; set; }
    public required string Kind { get; set; }
    public required string DedupeKey { get; set; }
    public required string Payload { get; set; }
    public int Attempts { get; set; }
    public DateTime NextAttemptAt { get; set; }
    public DateTime? SentAt { get; set; }
    public DateTime? FailedAt { get; set; }
    public string? LastError { get; set; }
    public DateTime CreatedAt { get; set; }
}

public static class WebhookOutcomes
{
    public const string Applied = "applied";
    public const string Refused = "refused";
    public const string Stale = "stale";
    public const string Ignored = "ignored";

    /// <summary>Answered for a repeat delivery; never stored.</summary>
    public const string Duplicate = "duplicate";
}

public sealed class WebhookEvent
{
    public required string EventId { get; set; }
    public required string Type { get; set; }
    public DateTime ReceivedAt { get; set; }
    public required string Outcome { get; set; }
    public string? Detail { get; set; }
    public required string Payload { get; set; }
}

public sealed class MembershipRefusal
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public string? WorkosOrganizationId { get; set; }
    public required string WorkosUserId { get; set; }
    public string? WorkosMembershipId { get; set; }
    public required string SeatType { get; set; }
    public required string Reason { get; set; }
    public required string EventId { get; set; }
    public DateTime At { get; set; }

    /// <summary><see cref="RefusalKinds.Webhook"/> (a WorkOS add not mirrored) or <see cref="RefusalKinds.SignIn"/> (denied at the door).</summary>
    public string Kind { get; set; } = RefusalKinds.Webhook;

    public string? Email { get; set; }
    public string? Name { get; set; }

    /// <summary>Seats of the type in use, and the plan's limit, when the refusal was made (null on rows older than migration 0009).</summary>
    public int? Used { get; set; }
    public int? SeatLimit { get; set; }

    /// <summary>Whether this refusal queued an admin notification (sign-in denials are throttled per person and organization).</summary>
    public bool Notified { get; set; } = true;
}

public static class RefusalKinds
{
    public const string Webhook = "webhook";
    public const string SignIn = "sign_in";
}

public sealed class SeatWarningState
{
    public Guid OrganizationId { get; set; }
    public required string SeatType { get; set; }
    public int Level { get; set; }
    public int Crossings { get; set; }
    public DateTime UpdatedAt { get; set; }
}

/// <summary>A role mirrored from WorkOS, keyed by slug; deleted ones are kept as tombstones.</summary>
public abstract class MirroredRole
{
    public Guid Id { get; set; }
    public required string WorkosSlug { get; set; }
    public required string Name { get; set; }
    public string? Description { get; set; }
    public string Permissions { get; set; } = "[]";
    public DateTime? WorkosUpdatedAt { get; set; }
    public string? WorkosLastEventId { get; set; }
    public DateTime? DeletedAt { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }

    public abstract string Urn { get; }
}

/// <summary>A WorkOS environment role (applies in every organization).</summary>
public sealed class GlobalRole : MirroredRole
{
    public override string Urn => RoleUrn.Global(Id);
}

/// <summary>A WorkOS custom role of one organization.</summary>
public sealed class OrganizationRole : MirroredRole
{
    public Guid OrganizationId { get; set; }

    public override string Urn => RoleUrn.Organization(Id);
}

public sealed class OrganizationRoleAssignment
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public required string WorkosUserId { get; set; }
    public Guid? UserId { get; set; }
    public required string RoleUrn { get; set; }
    public DateTime? WorkosUpdatedAt { get; set; }
    public string? WorkosLastEventId { get; set; }
    public DateTime? DeletedAt { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

public static class RoleUrn
{
    public static string Global(Guid id) => $"role:global:{id}";
    public static string Organization(Guid id) => $"role:organization:{id}";
}

public sealed class WorkosOrganizationSync
{
    /// <summary>The WorkOS organization id, or "" for environment-wide role events.</summary>
    public required string WorkosOrganizationId { get; set; }
    public string? Cursor { get; set; }
    public DateTime? LastSyncedAt { get; set; }
    public string? LastError { get; set; }
    public DateTime UpdatedAt { get; set; }
}

public sealed class WorkosUserSync
{
    public required string WorkosUserId { get; set; }
    public string? Cursor { get; set; }
    public DateTime? LastSyncedAt { get; set; }
    public string? LastError { get; set; }
    public DateTime UpdatedAt { get; set; }
}
