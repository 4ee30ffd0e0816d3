using Microsoft.AspNetCore.Http.HttpResults;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Http;

namespace Roster.Infrastructure.Seats;

/// <summary>
/// The one way a seat is taken or given back, and the only place the seat rule is written. Every path that can change
/// how many seats an organization uses — an owner's add, an approval, a seat-type change, a founder, WorkOS's adds and
/// invitations, a sign-in at the door; a removal, a leave, a decline, a reject, a plan change — runs inside its
/// transaction:
/// <list type="number">
/// <item>the organization's lock, with its plan read in the same statement (<see cref="LockAsync(Organization, CancellationToken)"/>;
/// <see cref="TryTakeAsync"/> takes it when the transaction does not hold it yet), so a concurrent plan change is either
/// fully before the decision (and seen) or waits for it;</item>
/// <item>the count, with the one "holds a seat" definition (<see cref="SeatLedger"/>);</item>
/// <item>the decision (<see cref="SeatDecision"/>): room, or a refusal — <c>409 seat_limit_reached</c>, counted by the
/// metric <c>roster.seat.refusals</c> tagged with the gate it was asked at;</item>
/// <item>after the caller's write, <see cref="SeatDecision.TakenAsync"/> (or <see cref="ChangedAsync"/> for a seat given
/// back): the seat warnings re-evaluated for every seat type the change touched.</item>
/// </list>
/// A feature says only "take a seat of this type at this gate, then write"; it never counts or compares (the
/// architecture test <c>SeatRuleTests</c> fails on a feature that reads <see cref="SeatUsage.HasRoom"/> or calls the ledger).
/// </summary>
public sealed class SeatGate(RosterDb db, SeatLedger ledger, SeatWarnings warnings, Telemetry.RosterMetrics metrics)
{
    // The seat locks this scope holds, by transaction (a retried transaction holds none) and organization, with the plan
    // the locking statement returned: a decision in the same transaction needs no second lock and uses that plan.
    private readonly Dictionary<(Guid Transaction, Guid Organization), string?> _held = new();

    /// <summary>Locks the organization's seats until the transaction ends and refreshes <paramref name="organization"/>'s plan from the locked row.</summary>
    public async Task LockAsync(Organization organization, CancellationToken ct) =>
        organization.Plan = await LockAndReadPlanAsync(organization.Id, ct);

    /// <summary>Locks the seats of the organization with this id (no row of it wanted) until the transaction ends.</summary>
    public async Task LockAsync(Guid organizationId, CancellationToken ct) => _ = await LockAndReadPlanAsync(organizationId, ct);

    private async Task<string?> LockAndReadPlanAsync(Guid organizationId, CancellationToken ct)
    {
        // Organizations are tombstoned, never deleted, so a row the caller has loaded is there to lock.
        var locked = await ledger.LockAsync(organizationId, ct)
                     ?? throw new InvalidOperationException($"Organization {organizationId} has no row to lock.");
        _held[(TransactionId, organizationId)] = locked.Plan;
        return locked.Plan;
    }

    /// <summary>
    /// For WorkOS events, which name the organization by its WorkOS id: the seat lock of the live organization and its row
    /// as it is under the lock, in one statement, then (PostgreSQL) the mirror lock <paramref name="thenMirrorLock"/>
    /// (<see cref="SeatLedger.LockLiveAsync"/>). Null when no live organization has that id (nothing locked).
    /// </summary>
    public async Task<Organization?> LockLiveAsync(string workosOrganizationId, long? thenMirrorLock, CancellationToken ct)
    {
        var organization = await ledger.LockLiveAsync(workosOrganizationId, thenMirrorLock, ct);
        if (organization is not null) _held[(TransactionId, organization.Id)] = organization.Plan;
        return organization;
    }

    /// <summary>
    /// Asks for one new seat of <paramref name="seatType"/> for a write the caller makes next in this transaction: the
    /// lock (if not held yet) with the plan, the count, the decision. A refusal is counted at once, tagged
    /// <paramref name="at"/>: it writes nothing, so no rollback can take it back.
    /// </summary>
    /// <param name="at">One of <see cref="SeatGates"/>.</param>
    public async Task<SeatDecision> TryTakeAsync(Organization organization, string seatType, string at, CancellationToken ct)
    {
        var decision = await DecideAsync(organization, seatType, ct);
        if (!decision.Granted) CountRefusal(at, seatType);
        return decision;
    }

    /// <summary>
    /// <see cref="TryTakeAsync"/> for WorkOS's paths (a webhook, a sign-in at the door), whose refusal is a row they write
    /// (<see cref="SeatRefusals"/>) in a transaction that may roll back and be retried: the webhook counts it once its
    /// transaction commits (<see cref="CountRefusal"/>).
    /// </summary>
    public async Task<SeatDecision> DecideAsync(Organization organization, string seatType, CancellationToken ct)
    {
        if (_held.TryGetValue((TransactionId, organization.Id), out var plan)) organization.Plan = plan;
        else await LockAsync(organization, ct);
        var usage = await ledger.UsageAsync(organization.Id, organization.Plan, seatType, ct);
        return new SeatDecision(this, organization, usage, lean: false, warning: null);
    }

    /// <summary>
    /// <see cref="DecideAsync"/> from counts the caller read under the lock <see cref="LockLiveAsync"/> took (with
    /// <see cref="Memberships.SeatHolding"/>'s rules), and that seat type's warning state read with them (null when the
    /// organization has none): no statement of its own, and <see cref="SeatDecision.TakenAsync"/> stages the warnings for
    /// the caller's save — the webhook's round trips per event stay as they are.
    /// </summary>
    public SeatDecision Decide(Organization organization, string seatType, int active, int pendingInvitations, int reservations,
        SeatWarningState? warning)
    {
        if (!_held.ContainsKey((TransactionId, organization.Id)))
            throw new InvalidOperationException("Counts read without the seat lock decide nothing: take it first (LockLiveAsync).");
        return new SeatDecision(this, organization, ledger.Usage(organization.Plan, seatType, active, pendingInvitations, reservations),
            lean: true, warning: warning);
    }

    /// <summary>
    /// A seat staged beforehand (an invitation's reservation) taken by the membership it was staged for: checked when it was
    /// staged, so granted without a second check; its warnings are re-evaluated all the same.
    /// </summary>
    public SeatDecision TakeStaged(Organization organization, string seatType) =>
        new(this, organization, new SeatUsage(seatType, PlanCatalog.Unlimited, 0, 0), lean: false, warning: null);

    /// <summary>
    /// Whether a seat of <paramref name="seatType"/> would be granted now — for preflight and the registration gate, which
    /// answer a question and write nothing: no lock, nothing counted, so an answer, not a promise.
    /// </summary>
    public async Task<SeatDecision> CheckAsync(Organization organization, string seatType, CancellationToken ct) =>
        new(null, organization, await ledger.UsageAsync(organization.Id, organization.Plan, seatType, ct), lean: false, warning: null);

    /// <summary>Every seat type's usage, for showing it (GET …/seats): no decision is made from it.</summary>
    public Task<IReadOnlyList<SeatUsage>> UsageAsync(Organization organization, CancellationToken ct) =>
        ledger.UsageAsync(organization.Id, organization.Plan, ct);

    /// <summary>Counts a refusal (metric <c>roster.seat.refusals</c>) by where it was asked; see <see cref="DecideAsync"/>.</summary>
    /// <param name="at">One of <see cref="SeatGates"/>.</param>
    public void CountRefusal(string at, string seatType) => metrics.SeatRefused(at, seatType);

    /// <summary>After a seat is given back (and saved): warn past 80%/100% and re-arm below 60%, for each seat type it touched.</summary>
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

    /// <summary>The refusal every HTTP gate answers: 409 <c>seat_limit_reached</c>, naming the seat type and its counts.</summary>
    public static ProblemHttpResult LimitReached(SeatUsage usage) =>
        Problems.Conflict(ErrorCodes.SeatLimitReached,
            $"All {usage.Limit} '{usage.SeatType}' seats of this organization's plan are taken ({usage.Active} active, {usage.Reserved} reserved).");

    internal async Task TakenAsync(SeatDecision decision, string[] alsoFreed, CancellationToken ct)
    {
        if (!decision.Granted) throw new InvalidOperationException("A refused seat is not taken.");
        if (decision.Lean && alsoFreed.Length == 0)
        {
            // The gate knows the usage this write makes: no recount, the warning state is staged for the caller's save.
            warnings.Evaluate(decision.Organization, decision.Usage with { Active = decision.Usage.Active + 1 }, decision.Warning);
            return;
        }
        await db.SaveChangesAsync(ct);
        await ChangedAsync(decision.Organization, ct, [decision.Usage.SeatType, .. alsoFreed]);
    }

    private Guid TransactionId => db.Database.CurrentTransaction?.TransactionId
                                  ?? throw new InvalidOperationException("The seat lock only means something inside a transaction.");
}

/// <summary>
/// What <see cref="SeatGate"/> decided about one new seat: granted (write, then <see cref="TakenAsync"/>) or refused
/// (answer <see cref="Refused"/>, or record the refusal from <see cref="Usage"/> as WorkOS's paths do).
/// </summary>
public sealed class SeatDecision
{
    private readonly SeatGate? _gate;
    private readonly SeatWarningState? _warning;

    internal SeatDecision(SeatGate? gate, Organization organization, SeatUsage usage, bool lean, SeatWarningState? warning)
    {
        _gate = gate;
        Organization = organization;
        Usage = usage;
        Lean = lean;
        _warning = warning;
    }

    public Organization Organization { get; }

    /// <summary>The seat type's usage before the seat is taken (a staged seat is not counted: only its seat type is known).</summary>
    public SeatUsage Usage { get; }

    internal bool Lean { get; }

    internal SeatWarningState? Warning => _warning;

    public bool Granted => Usage.HasRoom;

    /// <summary>The 409 <c>seat_limit_reached</c> problem of a refusal; null when granted.</summary>
    public ProblemHttpResult? Refused => Granted ? null : SeatGate.LimitReached(Usage);

    /// <summary>
    /// After the caller has staged (or made) its write: saves it and re-evaluates the warnings of the seat type taken and of
    /// any seat type <paramref name="alsoFreed"/> gave back (a seat-type change). A lean decision stages them unsaved.
    /// </summary>
    public Task TakenAsync(CancellationToken ct, params string[] alsoFreed) =>
        _gate is null
            ? throw new InvalidOperationException("A seat only checked (CheckAsync) is not taken: ask TryTakeAsync under the lock.")
            : _gate.TakenAsync(this, alsoFreed, ct);
}

/// <summary>Where a new seat can be refused (the <c>roster.gate</c> tag of <c>roster.seat.refusals</c>).</summary>
public static class SeatGates
{
    public const string AddMember = "add_member";
    public const string Approve = "approve";
    public const string UpdateMember = "update_member";
    public const string Founder = "founder";
    public const string WorkOsEvent = "workos_event";
}
