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
}

public static class Audit
{
    /// <summary>Stages an audit row on the context; it commits with the change it describes.</summary>
    public static void Record(RosterDb db, DateTime at, string action, Membership membership, Guid? actor,
        string? oldRole = null, string? newRole = null, string? oldStatus = null, string? newStatus = null)
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
        });
    }
}
