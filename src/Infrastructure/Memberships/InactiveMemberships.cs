using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;

namespace Roster.Infrastructure.Memberships;

public static class InactiveMemberships
{
    /// <summary>
    /// A membership WorkOS marked inactive is not a member; when the person is added or asks to join again, the inactive
    /// row is retired (tombstoned) in the same transaction, so the new row can take the (org, user) place.
    /// </summary>
    public static Task<int> RetireAsync(RosterDb db, Guid organizationId, Guid userId, DateTime now, CancellationToken ct) =>
        db.Memberships
            .Where(m => m.OrganizationId == organizationId && m.UserId == userId && m.DeletedAt == null && m.Status == MembershipStatus.Inactive)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.DeletedAt, now).SetProperty(m => m.UpdatedAt, now), ct);
}
