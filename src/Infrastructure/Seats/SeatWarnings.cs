using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Outbox;

namespace Roster.Infrastructure.Seats;

/// <summary>
/// Warns an organization's admins once each time its use of a seat type rises past 80% and past 100% of the plan;
/// a threshold re-arms when use falls below 60%. Call it under the organization's seat lock, after the change that
/// moved the count, inside the same transaction (the warning is an outbox row that commits with it).
/// </summary>
public sealed class SeatWarnings(RosterDb db, SeatLedger ledger, TimeProvider clock, Telemetry.RosterMetrics metrics)
{
    public const int WarnAt = 80;
    public const int FullAt = 100;
    public const int RearmBelow = 60;

    public async Task EvaluateAsync(Organization organization, string seatType, CancellationToken ct)
    {
        var usage = await ledger.UsageAsync(organization.Id, organization.Plan, seatType, ct);
        if (usage.IsUnlimited || usage.Limit <= 0) return;
        var state = await db.SeatWarningStates.FirstOrDefaultAsync(s => s.OrganizationId == organization.Id && s.SeatType == seatType, ct);
        if (Stage(organization, usage, state)) await db.SaveChangesAsync(ct);
    }

    /// <summary>
    /// The same decision for a caller that already knows the usage after its change and the warning state of that seat
    /// type (read under the seat lock; null when the organization has none): no statement of its own, the state and any
    /// warning are staged on the context for the caller's save.
    /// </summary>
    public void Evaluate(Organization organization, SeatUsage usage, SeatWarningState? state)
    {
        if (usage.IsUnlimited || usage.Limit <= 0) return;
        Stage(organization, usage, state);
    }

    /// <returns>Whether anything was staged.</returns>
    private bool Stage(Organization organization, SeatUsage usage, SeatWarningState? state)
    {
        var seatType = usage.SeatType;
        var percent = usage.Used * 100 / usage.Limit;
        var now = clock.GetUtcNow().UtcDateTime;
        var level = state?.Level ?? 0;
        var target = percent >= FullAt ? FullAt : percent >= WarnAt ? WarnAt : percent < RearmBelow ? 0 : Math.Min(level, WarnAt);
        if (target == level) return false;

        if (state is null)
        {
            state = new SeatWarningState { OrganizationId = organization.Id, SeatType = seatType, UpdatedAt = now };
            db.SeatWarningStates.Add(state);
        }
        if (target > level)
        {
            state.Crossings++;
            Outbox.Outbox.Enqueue(db, NotificationKinds.SeatWarning,
                $"{NotificationKinds.SeatWarning}:{organization.Id}:{seatType}:{state.Crossings}",
                new SeatWarningNotification(organization.Id, organization.WorkosOrganizationId, organization.Name, seatType, target, usage.Limit, usage.Used),
                now);
            // Counted when queued, inside the caller's transaction: a rollback after this point (rare: a failure) over-counts by one.
            metrics.SeatWarning(seatType, target);
        }
        state.Level = target;
        state.UpdatedAt = now;
        return true;
    }
}
