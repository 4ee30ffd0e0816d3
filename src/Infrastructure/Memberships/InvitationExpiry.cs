using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Configuration;
using Roster.Infrastructure.Data;

namespace Roster.Infrastructure.Memberships;

/// <summary>How long an owner_add waits for its invitee (<c>Invitations__ExpireAfterDays</c>, default 14).</summary>
public sealed class InvitationOptions : IValidatedSettings
{
    public int ExpireAfterDays { get; set; } = 14;

    /// <summary>How often the background sweep tombstones and audits expired invitations (and expired idempotency keys).</summary>
    public int SweepIntervalSeconds { get; set; } = 60;

    public bool SweepEnabled { get; set; } = true;

    public TimeSpan Lifetime => TimeSpan.FromDays(ExpireAfterDays);

    public DateTime ExpiryFrom(DateTime now) => now.Add(Lifetime);

    public IEnumerable<string> Problems()
    {
        if (ExpireAfterDays is < 1 or > 3650) yield return "Invitations:ExpireAfterDays must be a whole number of days from 1 to 3650.";
        if (SweepIntervalSeconds < 1) yield return "Invitations:SweepIntervalSeconds must be at least 1.";
    }
}

/// <summary>
/// Ends invitations whose time ran out. They stopped holding a seat the instant they expired (<see cref="SeatHolding"/>);
/// here they are tombstoned and audited (<c>expired</c>) — by the background sweep, or earlier by an add or join of the
/// same person that needs the (organization, user) place. Each row is ended by one conditional update, so two sweeps
/// (or a sweep and an add) racing on it audit it once.
/// </summary>
public static class InvitationExpiry
{
    public const int BatchSize = 200;

    /// <returns>How many invitations were ended.</returns>
    public static async Task<int> EndExpiredAsync(RosterDb db, DateTime now, string via, Guid? organizationId = null, Guid? userId = null,
        CancellationToken ct = default)
    {
        var expired = await db.Memberships.AsNoTracking()
            .Where(SeatHolding.ExpiredAt(now))
            .Where(m => (organizationId == null || m.OrganizationId == organizationId) && (userId == null || m.UserId == userId))
            .OrderBy(m => m.ExpiresAt)
            .Take(BatchSize)
            .ToListAsync(ct);
        var ended = 0;
        foreach (var membership in expired)
        {
            var changed = await db.Memberships.Where(m => m.Id == membership.Id).Where(SeatHolding.ExpiredAt(now))
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.DeletedAt, now).SetProperty(m => m.UpdatedAt, now), ct);
            if (changed == 0) continue;
            Audit.Record(db, now, AuditActions.Expired, membership, actor: null, oldRole: membership.Role, oldStatus: MembershipStatus.Pending, via: via);
            ended++;
        }
        if (ended > 0) await db.SaveChangesAsync(ct);
        return ended;
    }
}
