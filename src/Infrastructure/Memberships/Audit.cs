using Roster.Infrastructure.Changes;
using Roster.Infrastructure.Data;

namespace Roster.Infrastructure.Memberships;

public static class AuditActions
{
    public const string Founded = "founded";
    public const string Added = "added";
    public const string Accepted = "accepted";
    public const string Declined = "declined";
    public const string Requested = "requested";
    public const string Withdrawn = "withdrawn";
    public const string Approved = "approved";
    public const string Rejected = "rejected";
    public const string RoleChanged = "role_changed";
    public const string SeatTypeChanged = "seat_type_changed";
    public const string Removed = "removed";
    public const string Left = "left";
    public const string Expired = "expired";
    /// <summary>WorkOS made the membership active (an inactive mirror back, a join request overtaken by an add in WorkOS).</summary>
    public const string Activated = "activated";
    /// <summary>WorkOS marked the membership inactive.</summary>
    public const string Deactivated = "deactivated";
    public const string Renewed = "renewed";
    public const string OrganizationRenamed = "organization_renamed";
    public const string OrganizationDeleted = "organization_deleted";
    public const string OwnershipOffered = "ownership_offered";
    public const string OwnershipOfferWithdrawn = "ownership_offer_withdrawn";
    public const string OwnershipOfferDeclined = "ownership_offer_declined";
    public const string OwnershipTransferred = "ownership_transferred";
}

/// <summary>
/// Every membership change is recorded here, once: the audit row, and the change-feed row published for it (same unit of
/// work, so both commit with the change or neither does). The feed numbers the change and chains the audit row under the
/// organization's lock when the unit of work is saved (<see cref="ChangeLog"/>).
/// </summary>
public static class Audit
{
    /// <summary>Stages an audit row and its change on the context; they commit with the change they describe.</summary>
    /// <param name="membership">The membership as it was read for the change (its role, status and seat type before it, unless
    /// <paramref name="oldRole"/>/<paramref name="oldStatus"/>/<paramref name="oldSeatType"/> say otherwise); the change
    /// publishes it with <paramref name="newRole"/>, <paramref name="newStatus"/> and <paramref name="newSeatType"/> applied.</param>
    public static void Record(RosterDb db, DateTime at, string action, Membership membership, Guid? actor,
        string? oldRole = null, string? newRole = null, string? oldStatus = null, string? newStatus = null, string via = AuditVia.Api,
        string? oldSeatType = null, string? newSeatType = null)
    {
        var audit = new AuditEvent
        {
            Id = Guid.CreateVersion7(),
            OrganizationId = membership.OrganizationId,
            MembershipId = membership.Id,
            ActorUserId = actor,
            SubjectUserId = membership.UserId,
            Action = action,
            OldRole = oldRole,
            NewRole = newRole,
            OldStatus = oldStatus,
            NewStatus = newStatus,
            Source = membership.Source,
            At = at,
            Via = via,
        };
        db.AuditEvents.Add(audit);

        var type = ChangeTypes.ForAuditAction(action);
        // A row just made has no "before"; otherwise what the caller read before changing it.
        var isNew = action is AuditActions.Founded or AuditActions.Added or AuditActions.Requested
                    || (action == AuditActions.Activated && oldStatus is null && oldRole is null);
        var previous = isNew ? null : new PreviousState(oldRole ?? membership.Role, oldStatus ?? membership.Status, oldSeatType ?? membership.SeatType);
        var after = ChangeTypes.EndsMembership(type) ? null : ChangeLog.Snapshot(membership) with
        {
            Role = newRole ?? membership.Role,
            Status = newStatus ?? membership.Status,
            SeatType = newSeatType ?? membership.SeatType,
            UpdatedAt = at > membership.UpdatedAt ? at : membership.UpdatedAt,
        };
        ChangeLog.Stage(db, membership.OrganizationId, type, at, actor, via, after, previous, audit, membership.Id, membership.UserId);
    }

    /// <summary>Stages an audit row about the organization itself (renamed, deleted): no membership, no subject.</summary>
    public static void RecordOrganization(RosterDb db, DateTime at, string action, Guid organizationId, Guid? actor, string via = AuditVia.Api)
    {
        var audit = new AuditEvent
        {
            Id = Guid.CreateVersion7(),
            OrganizationId = organizationId,
            ActorUserId = actor,
            Action = action,
            At = at,
            Via = via,
        };
        db.AuditEvents.Add(audit);
        ChangeLog.Stage(db, organizationId, ChangeTypes.ForAuditAction(action), at, actor, via, audit: audit);
    }
}
