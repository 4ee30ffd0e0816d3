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

public static class Audit
{
    /// <summary>Stages an audit row on the context; it commits with the change it describes.</summary>
    public static void Record(RosterDb db, DateTime at, string action, Membership membership, Guid? actor,
        string? oldRole = null, string? newRole = null, string? oldStatus = null, string? newStatus = null, string via = AuditVia.Api)
    {
        db.AuditEvents.Add(new AuditEvent
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
        });
    }

    /// <summary>Stages an audit row about the organization itself (renamed, deleted): no membership, no subject.</summary>
    public static void RecordOrganization(RosterDb db, DateTime at, string action, Guid organizationId, Guid? actor, string via = AuditVia.Api) =>
        db.AuditEvents.Add(new AuditEvent
        {
            Id = Guid.CreateVersion7(),
            OrganizationId = organizationId,
            ActorUserId = actor,
            Action = action,
            At = at,
            Via = via,
        });
}
