using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Memberships;

namespace Roster.Infrastructure.Seats;

public sealed record SeatUsage(string SeatType, int Limit, int Active, int Reserved)
{
    public bool IsUnlimited => Limit == PlanCatalog.Unlimited;
    public int Used => Active + Reserved;
    public int Available => IsUnlimited ? PlanCatalog.Unlimited : Math.Max(0, Limit - Used);
    public bool HasRoom => IsUnlimited || Used < Limit;
    public bool IsOver => !IsUnlimited && Used > Limit;
}

/// <summary>
/// Counts seats the one way every gate counts them: active memberships, pending owner_add memberships whose invitation
/// has not expired (<see cref="SeatHolding"/>) and unexpired staged reservations, per seat type. Join requests hold nothing.
/// </summary>
public sealed class SeatLedger(RosterDb db, PlanCatalog plans, TimeProvider clock)
{
    /// <summary>
    /// Serializes seat decisions for one organization until the surrounding transaction ends: a write to the
    /// org row takes its row lock on PostgreSQL, and the database write lock on SQLite. The same statement returns the
    /// plan as it is under the lock (a plan read before the lock could be stale by the time seats are counted).
    /// Call it first in the transaction, before counting; <see cref="SeatGate"/> is the way features call it.
    /// </summary>
    /// <returns>The organization's plan under the lock, or null when the organization row does not exist.</returns>
    public async Task<LockedPlan?> LockAsync(Guid organizationId, CancellationToken ct)
    {
        if (db.Database.CurrentTransaction is null)
            throw new InvalidOperationException("The seat lock only means something inside a transaction.");
        // The same statement hands back the change-feed counter and audit chain head, so the changes this transaction
        // stages are numbered without another round trip (Features/Changes/ChangeLog).
        var rows = await db.Database
            .SqlQuery<LockedPlan>($"UPDATE organizations SET seat_lock_version = seat_lock_version + 1 WHERE id = {organizationId} RETURNING plan AS \"Plan\", change_sequence AS \"ChangeSequence\", audit_head AS \"AuditHead\"")
            .ToListAsync(ct);
        if (rows.Count == 0) return null;
        Roster.Infrastructure.Changes.ChangeLog.Locked(db, organizationId, rows[0].ChangeSequence, rows[0].AuditHead);
        return rows[0];
    }

    public sealed record LockedPlan(string? Plan, long ChangeSequence, string? AuditHead);

    /// <summary>
    /// The seat lock of a live organization found by its WorkOS id, returning its row as it is under the lock (plan
    /// included) — one statement, so a webhook neither reads the organization apart from locking it nor reads a plan a
    /// concurrent change has just replaced. On PostgreSQL the same statement then takes the mirror lock
    /// <paramref name="thenMirrorLock"/> (<see cref="MirrorLocks.Key"/>), in the order every event takes them
    /// (organization, then person); SQLite transactions already hold the database's write lock.
    /// </summary>
    /// <returns>The locked organization (tracked), or null when there is no live organization with that WorkOS id (nothing locked).</returns>
    public async Task<Organization?> LockLiveAsync(string workosOrganizationId, long? thenMirrorLock, CancellationToken ct)
    {
        if (db.Database.CurrentTransaction is null)
            throw new InvalidOperationException("The seat lock only means something inside a transaction.");
        var query = db.Database.IsNpgsql() && thenMirrorLock is { } key
            // RETURNING is evaluated once the row is updated, i.e. with its lock held; a statement after this one sees
            // whatever the holder of the mirror lock committed (READ COMMITTED takes a snapshot per statement).
            ? db.Organizations.FromSql($"UPDATE organizations SET seat_lock_version = seat_lock_version + 1 WHERE workos_organization_id = {workosOrganizationId} AND deleted_at IS NULL RETURNING *, pg_advisory_xact_lock({key})")
            : db.Organizations.FromSql($"UPDATE organizations SET seat_lock_version = seat_lock_version + 1 WHERE workos_organization_id = {workosOrganizationId} AND deleted_at IS NULL RETURNING *");
        var rows = await query.AsAsyncEnumerable().ToListAsync(ct);
        if (rows.Count == 0) return null;
        // As LockAsync: the change-feed counter and audit chain head under the lock, for the changes this transaction stages.
        Roster.Infrastructure.Changes.ChangeLog.Locked(db, rows[0].Id, rows[0].ChangeSequence, rows[0].AuditHead);
        return rows[0];
    }

    /// <summary>Usage of one seat type from counts read elsewhere under the seat lock (with <see cref="SeatHolding"/>'s rules).</summary>
    public SeatUsage Usage(string? plan, string seatType, int active, int pendingInvitations, int reservations) =>
        new(seatType, plans.LimitFor(plan, seatType), active, pendingInvitations + reservations);

    public async Task<SeatUsage> UsageAsync(Guid organizationId, string? plan, string seatType, CancellationToken ct)
    {
        var all = await UsageAsync(organizationId, plan, ct, seatType);
        return all.Single();
    }

    public async Task<IReadOnlyList<SeatUsage>> UsageAsync(Guid organizationId, string? plan, CancellationToken ct, string? onlySeatType = null)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var memberships = await HeldByMembers.For(db)(db, organizationId, now, onlySeatType).ToListAsync(ct);
        var reservations = await HeldByReservations.For(db)(db, organizationId, now, onlySeatType).ToListAsync(ct);

        var seatTypes = onlySeatType is not null
            ? [onlySeatType]
            : plans.SeatTypes.Concat(memberships.Select(m => m.SeatType)).Distinct(StringComparer.Ordinal).ToArray();
        return seatTypes.Select(seatType => new SeatUsage(
                seatType,
                plans.LimitFor(plan, seatType),
                memberships.Where(m => m.SeatType == seatType && m.Status == MembershipStatus.Active).Sum(m => m.Count),
                memberships.Where(m => m.SeatType == seatType && m.Status == MembershipStatus.Pending).Sum(m => m.Count)
                + reservations.Where(r => r.SeatType == seatType).Sum(r => r.Count)))
            .ToList();
    }

    private sealed record HeldCount(string SeatType, string Status, int Count);

    // Compiled: every seat gate and every webhook that adds a member counts, often twice (check, then warnings).
    // SeatHolding is the rule (an expired invitation holds nothing from the instant it expires).
    private static readonly PerModelQuery<Func<RosterDb, Guid, DateTime, string?, IAsyncEnumerable<HeldCount>>> HeldByMembers = new(() =>
        EF.CompileAsyncQuery(SeatHolding.Inline<Func<RosterDb, Guid, DateTime, string?, IQueryable<HeldCount>>>((db, organizationId, now, onlySeatType) =>
            db.Memberships
                .Where(m => m.OrganizationId == organizationId && SeatHolding.Holds(m, now))
                .Where(m => onlySeatType == null || m.SeatType == onlySeatType)
                .GroupBy(m => new { m.SeatType, m.Status })
                .Select(g => new HeldCount(g.Key.SeatType, g.Key.Status, g.Count())))));

    private static readonly PerModelQuery<Func<RosterDb, Guid, DateTime, string?, IAsyncEnumerable<HeldCount>>> HeldByReservations = new(() =>
        EF.CompileAsyncQuery(SeatHolding.Inline<Func<RosterDb, Guid, DateTime, string?, IQueryable<HeldCount>>>((db, organizationId, now, onlySeatType) =>
            db.SeatReservations
                .Where(r => r.OrganizationId == organizationId && SeatHolding.ReservationHolds(r, now))
                .Where(r => onlySeatType == null || r.SeatType == onlySeatType)
                .GroupBy(r => r.SeatType)
                .Select(g => new HeldCount(g.Key, "reserved", g.Count())))));
}

