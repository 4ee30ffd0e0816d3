using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Http;
using Roster.Infrastructure.WorkOs;

namespace Roster.Infrastructure.Seats;

/// <summary>
/// The one way a seat is taken or given back. Every path that can change how many seats an organization uses — an
/// owner's add, an approval, a seat-type change, a removal, a leave, a decline, a reject, a plan change, a founder,
/// and WorkOS's adds — runs the same sequence inside its transaction:
/// <list type="number">
/// <item><see cref="LockAsync"/>: take the organization's lock and read its plan in the same statement, so a concurrent
/// plan change is either fully before this decision (and seen) or waits for it;</item>
/// <item><see cref="UsageAsync"/>: count with the one "holds a seat" definition (<see cref="SeatLedger"/>);</item>
/// <item>refuse with <see cref="LimitReached"/> when the seat type has no room, or write;</item>
/// <item><see cref="ChangedAsync"/>: re-evaluate the seat warnings for every seat type the change touched.</item>
/// </list>
/// </summary>
public sealed class SeatGate(SeatLedger ledger, SeatWarnings warnings, Telemetry.RosterMetrics metrics)
{
    /// <summary>Refuses a seat the seat type has no room for, counted (metric roster.seat.refusals) by where it was asked.</summary>
    /// <param name="at">One of <see cref="SeatGates"/>.</param>
    public ProblemHttpResult Refused(SeatUsage usage, string at)
    {
        CountRefusal(at, usage.SeatType);
        return LimitReached(usage);
    }

    /// <summary>Counts a refusal decided elsewhere (the add's decision, shared with preflight).</summary>
    public void CountRefusal(string at, string seatType) => metrics.SeatRefused(at, seatType);

    /// <summary>Locks the organization's seats until the transaction ends and refreshes <paramref name="organization"/>'s plan from the locked row.</summary>
    public async Task LockAsync(Organization organization, CancellationToken ct)
    {
        // Organizations are tombstoned, never deleted, so a row the caller has loaded is there to lock.
        var locked = await ledger.LockAsync(organization.Id, ct)
                     ?? throw new InvalidOperationException($"Organization {organization.Id} has no row to lock.");
        organization.Plan = locked.Plan;
    }

    /// <summary>Locks the seats of the organization with this id (no row of it wanted) until the transaction ends.</summary>
    public async Task LockAsync(Guid organizationId, CancellationToken ct) => _ = await ledger.LockAsync(organizationId, ct);

    /// <summary>
    /// For WorkOS events, which name the organization by its WorkOS id: the seat lock of the live organization and its row
    /// as it is under the lock, in one statement, then (PostgreSQL) the mirror lock <paramref name="thenMirrorLock"/>
    /// (<see cref="SeatLedger.LockLiveAsync"/>). Null when no live organization has that id (nothing locked).
    /// </summary>
    public Task<Organization?> LockLiveAsync(string workosOrganizationId, long? thenMirrorLock, CancellationToken ct) =>
        ledger.LockLiveAsync(workosOrganizationId, thenMirrorLock, ct);

    /// <summary>Usage of one seat type under the plan read by <see cref="LockAsync"/>.</summary>
    public Task<SeatUsage> UsageAsync(Organization organization, string seatType, CancellationToken ct) =>
        ledger.UsageAsync(organization.Id, organization.Plan, seatType, ct);

    /// <summary>Usage of one seat type from counts the caller read under the lock taken by <see cref="SeatLedger.LockLiveAsync"/>.</summary>
    public SeatUsage Usage(Organization organization, string seatType, int active, int pendingInvitations, int reservations) =>
        ledger.Usage(organization.Plan, seatType, active, pendingInvitations, reservations);

    /// <summary>
    /// <see cref="ChangedAsync"/> when the gate already knows the usage the change leaves (<paramref name="after"/>) and the
    /// seat type's warning state (read under the lock): no recount; anything to write is staged for the caller's save.
    /// </summary>
    public void Changed(Organization organization, SeatUsage after, SeatWarningState? warning) => warnings.Evaluate(organization, after, warning);

    /// <summary>After the change is saved: warn past 80%/100% and re-arm below 60%, for each seat type it touched.</summary>
    public async Task ChangedAsync(Organization organization, CancellationToken ct, params string[] seatTypes)
    {
        foreach (var seatType in seatTypes.Distinct(StringComparer.Ordinal))
            await warnings.EvaluateAsync(organization, seatType, ct);
    }

    /// <summary>After a plan change every seat type's limit moved: re-evaluate them all.</summary>
    public async Task PlanChangedAsync(Organization organization, CancellationToken ct)
    {
        var usage = await ledger.UsageAsync(organization.Id, organization.Plan, ct);
        await ChangedAsync(organization, ct, usage.Select(u => u.SeatType).ToArray());
    }

    public static ProblemHttpResult LimitReached(SeatUsage usage) =>
        Problems.Conflict(ErrorCodes.SeatLimitReached,
            $"All {usage.Limit} '{usage.SeatType}' seats of this organization's plan are taken ({usage.Active} active, {usage.Reserved} reserved).");
}

/// <summary>Where a new seat can be refused.</summary>
public static class SeatGates
{
    public const string AddMember = "add_member";
    public const string Approve = "approve";
    public const string UpdateMember = "update_member";
    public const string Founder = "founder";
    public const string WorkOsEvent = "workos_event";
}
