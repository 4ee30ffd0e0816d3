using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;

namespace Roster.Features.WebhookIngest;

/// <summary>
/// A seat staged for an invitation is used up once its person's membership exists, whichever of the membership, the
/// invitation and the user arrives first. The one rule, run wherever two of them can meet (invitation staged or
/// accepted, user created, membership created, updated or deleted): a live invitation reservation of the person ends when
/// <list type="bullet">
/// <item>a WorkOS membership of theirs in that organization was made at or after the invitation (any status, deleted
/// ones included: in WorkOS's order that membership took the staged seat, whatever happened to it since); or</item>
/// <item>they hold a seat there through a local row (a pending owner_add, a membership made in Roster).</item>
/// </list>
/// Comparing WorkOS's created_at of both (kept in each row's created_at) rather than asking "is there a membership now"
/// is what makes the answer independent of delivery order: a membership removed before a re-invitation does not use up
/// the new invitation's seat even when its deletion arrives last.
/// </summary>
public static class StagedSeats
{
    /// <param name="organizationId">Only this organization's reservations; null for all of the person's.</param>
    /// <param name="workosUserId">The person's WorkOS id, when known.</param>
    /// <param name="email">The person's (normalized) email, when known.</param>
    public static async Task SettleAsync(WebhookContext ctx, Guid? organizationId, string? workosUserId, string? email, CancellationToken ct)
    {
        if (workosUserId is null && email is null) return;
        var now = ctx.Now;
        var db = ctx.Db;
        await db.SeatReservations
            .Where(r => r.ExpiresAt > now && r.Source == SeatReservationSources.Invitation
                        && (organizationId == null || r.OrganizationId == organizationId)
                        && ((workosUserId != null && r.WorkosUserId == workosUserId) || (email != null && r.Email == email)))
            .Where(r => db.Memberships.Any(m => m.OrganizationId == r.OrganizationId
                && ((r.WorkosUserId != null && m.WorkosUserId == r.WorkosUserId)
                    || (workosUserId != null && m.WorkosUserId == workosUserId)
                    || (r.Email != null && db.Users.Any(u => u.Id == m.UserId && u.Email == r.Email)))
                && ((m.WorkosMembershipId != null && m.CreatedAt >= r.CreatedAt)
                    || (m.WorkosMembershipId == null && m.DeletedAt == null
                        && (m.Status == MembershipStatus.Active || (m.Status == MembershipStatus.Pending && m.Source == MembershipSource.OwnerAdd))))))
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.ExpiresAt, now), ct);
    }
}
