using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;

namespace Roster.Infrastructure.Memberships;

public static class InactiveMemberships
{
    /// <summary>
    /// A membership WorkOS marked inactive is not a member; when the person is added or asks to join again, the inactive
    /// row is retired (tombstoned) in the same transaction, so the new row can take the (org, user) place. The feed saw
    /// that membership (deactivated), so its end is a change too: <c>membership.removed</c> by Roster (no actor), audited,
    /// staged here and saved (numbered under the organization's lock) with the caller's unit of work.
    /// </summary>
    public static async Task<int> RetireAsync(RosterDb db, Guid organizationId, Guid userId, DateTime now, CancellationToken ct)
    {
        var live = db.Memberships
            .Where(m => m.OrganizationId == organizationId && m.UserId == userId && m.DeletedAt == null && m.Status == MembershipStatus.Inactive);
        var inactive = await live.AsNoTracking().ToListAsync(ct);
        if (inactive.Count == 0) return 0;
        // Tombstoned now, before the caller's save inserts the new row into the same (organization, user) place.
        var retired = await live.ExecuteUpdateAsync(s => s.SetProperty(m => m.DeletedAt, now).SetProperty(m => m.UpdatedAt, now), ct);
        foreach (var membership in inactive)
            Audit.Record(db, now, AuditActions.Removed, membership, actor: null, oldRole: membership.Role, oldStatus: membership.Status);
        return retired;
    }
}
