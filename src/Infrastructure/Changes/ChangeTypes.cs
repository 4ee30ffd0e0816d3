using Roster.Infrastructure.Memberships;

namespace Roster.Infrastructure.Changes;

/// <summary>
/// The closed list of change types (README: "Change types"). Membership changes are named after the audit action that
/// records them (<c>membership.&lt;action&gt;</c>); organization changes and refusals have no membership row to audit.
/// </summary>
public static class ChangeTypes
{
    public const string OrganizationCreated = "organization.created";
    public const string OrganizationRenamed = "organization.renamed";
    public const string OrganizationDeleted = "organization.deleted";
    public const string OrganizationPlanChanged = "organization.plan_changed";

    public const string MembershipFounded = "membership.founded";
    public const string MembershipAdded = "membership.added";
    public const string MembershipAccepted = "membership.accepted";
    public const string MembershipDeclined = "membership.declined";
    public const string MembershipRequested = "membership.requested";
    public const string MembershipWithdrawn = "membership.withdrawn";
    public const string MembershipApproved = "membership.approved";
    public const string MembershipRejected = "membership.rejected";
    public const string MembershipRoleChanged = "membership.role_changed";
    public const string MembershipSeatTypeChanged = "membership.seat_type_changed";
    public const string MembershipRemoved = "membership.removed";
    public const string MembershipLeft = "membership.left";
    public const string MembershipExpired = "membership.expired";
    public const string MembershipRenewed = "membership.renewed";
    public const string MembershipActivated = "membership.activated";
    public const string MembershipDeactivated = "membership.deactivated";
    public const string MembershipRefused = "membership.refused";
    public const string MembershipOwnershipOffered = "membership.ownership_offered";
    public const string MembershipOwnershipOfferWithdrawn = "membership.ownership_offer_withdrawn";
    public const string MembershipOwnershipOfferDeclined = "membership.ownership_offer_declined";
    public const string MembershipOwnershipTransferred = "membership.ownership_transferred";

    public static readonly IReadOnlyList<string> All =
    [
        OrganizationCreated, OrganizationRenamed, OrganizationDeleted, OrganizationPlanChanged,
        MembershipFounded, MembershipAdded, MembershipAccepted, MembershipDeclined, MembershipRequested, MembershipWithdrawn,
        MembershipApproved, MembershipRejected, MembershipRoleChanged, MembershipSeatTypeChanged, MembershipRemoved,
        MembershipLeft, MembershipExpired, MembershipRenewed, MembershipActivated, MembershipDeactivated, MembershipRefused,
        MembershipOwnershipOffered, MembershipOwnershipOfferWithdrawn, MembershipOwnershipOfferDeclined,
        MembershipOwnershipTransferred,
    ];

    private static readonly HashSet<string> Known = new(All, StringComparer.Ordinal);

    public static bool IsKnown(string type) => Known.Contains(type);

    /// <summary>The change an audit action publishes (one rule: every audited action is a change).</summary>
    public static string ForAuditAction(string action) => action switch
    {
        AuditActions.OrganizationRenamed => OrganizationRenamed,
        AuditActions.OrganizationDeleted => OrganizationDeleted,
        _ => "membership." + action,
    };

    /// <summary>Actions after which the membership is gone (tombstoned) or never was: the change carries no membership.</summary>
    public static bool EndsMembership(string type) => type is MembershipDeclined or MembershipWithdrawn or MembershipRejected
        or MembershipRemoved or MembershipLeft or MembershipExpired or MembershipRefused;
}
