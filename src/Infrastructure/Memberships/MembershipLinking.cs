using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;

namespace Roster.Infrastructure.Memberships;

public static class MembershipLinking
{
    /// <summary>
    /// Memberships and role assignments mirrored from WorkOS before the user was known locally get the user, when they
    /// first sign in or their user.created arrives (a membership only where that would not give them two live rows in one org).
    /// </summary>
    public static async Task LinkAsync(RosterDb db, User user, CancellationToken ct)
    {
        await db.Memberships
            .Where(m => m.WorkosUserId == user.WorkosUserId && m.UserId == null)
            .Where(m => m.DeletedAt != null || !db.Memberships.Any(o => o.OrganizationId == m.OrganizationId && o.UserId == user.Id && o.DeletedAt == null))
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.UserId, user.Id), ct);
        await db.RoleAssignments
            .Where(a => a.WorkosUserId == user.WorkosUserId && a.UserId == null)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.UserId, user.Id), ct);
    }
}
