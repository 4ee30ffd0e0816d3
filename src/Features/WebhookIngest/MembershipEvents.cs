using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Memberships;
using Roster.Infrastructure.Seats;
using Roster.Infrastructure.WorkOs;

namespace Roster.Features.WebhookIngest;

/// <summary>
/// organization_membership.created|updated|deleted: mirror memberships made in WorkOS, but never past the paid seat
/// limit unless the seat was staged beforehand, and never activate an owner_add the invitee has not accepted.
/// </summary>
public static class MembershipEvents
{
    public static async Task<EventOutcome> UpsertAsync(WebhookContext ctx, WorkOsEvent evt, CancellationToken ct)
    {
        var data = Validated(evt);
        var eventTime = WebhookContext.EventTime(data.UpdatedAt, evt, ctx.Now);
        // The seat lock, taken only while the organization is live (an organization.deleted committed meanwhile wins), with
        // the organization's row and then the user's lock — their user.created (which links their memberships) and this
        // event cannot miss each other — in one statement.
        var userLock = MirrorLocks.Key(MirrorLocks.User, data.UserId!);
        var organization = await ctx.Gate.LockLiveAsync(data.OrganizationId!, userLock, ct);
        if (organization is null)
        {
            // Not mirrored yet (a placeholder is made) or deleted.
            await ctx.EnsureOrganizationAsync(data.OrganizationId!, data.OrganizationName, ct);
            organization = await ctx.Gate.LockLiveAsync(data.OrganizationId!, userLock, ct);
            if (organization is null) return EventOutcome.Ignored("The organization is deleted.");
        }

        var known = await PersonInOrganization.ReadAsync(ctx, organization, data, ct);
        var user = known.User;
        if (user is { DeletedAt: not null })
        {
            // Nothing live comes back, but the membership existed in WorkOS: remembered as a tombstone (of the deleted
            // user), so the invitation seat it took is seen as used whichever of their events arrives later.
            if (known.ByWorkosId is null)
            {
                var tombstone = NewRow(organization, data, user, MembershipStatus.Inactive, ctx.Seats.WebhookSeatType, MembershipSource.Webhook, ctx.Now);
                tombstone.DeletedAt = ctx.Now;
                Stamp(tombstone, data, evt, eventTime, ctx.Now);
                ctx.Db.Memberships.Add(tombstone);
                await SettleAsync(ctx, known, organization.Id, data.UserId, user.Email, ct);
            }
            return EventOutcome.Stale("The user was deleted; a deleted user's memberships are not brought back.");
        }
        var row = known.ByWorkosId ?? known.LocalRow;
        if (row is not null)
        {
            if (row.DeletedAt is not null) return EventOutcome.Stale("The membership was deleted; a deleted membership is not brought back.");
            if (Freshness.IsStale(row.WorkosUpdatedAt, row.WorkosLastEventId, eventTime, evt.Id))
                return EventOutcome.Stale("A newer event for this membership was already applied.");
            if (row.UserId is null && user is not null)
            {
                // Mirrored before the user was known, and somehow not linked since: link it now (idempotent).
                await MembershipLinking.LinkAsync(ctx.Db, user, ct);
                await ctx.Db.Entry(row).ReloadAsync(ct);
            }
        }
        else if (known.EarlierWorkosRow is not null)
        {
            if (Supersede(ctx, known.EarlierWorkosRow, eventTime, evt.Id) is { } outcome) return outcome;
            // The seat the replaced row held is free now: counted again below rather than adjusted here.
            await ctx.Db.SaveChangesAsync(ct);
            return data.Status == MembershipStatus.Active
                ? await ActivateAsync(ctx, evt, data, organization, user, row, eventTime, null, ct)
                : await DeactivateAsync(ctx, evt, data, organization, user, row, eventTime, ct);
        }

        return data.Status == MembershipStatus.Active
            ? await ActivateAsync(ctx, evt, data, organization, user, row, eventTime, known, ct)
            : await DeactivateAsync(ctx, evt, data, organization, user, row, eventTime, ct);
    }

    /// <summary>
    /// What the membership rules and the seat gate need to know about one person in one organization, read in one
    /// statement under the seat lock: the user (tombstone included), the rows that may be this membership, the person's
    /// live staged seats, the organization's usage and warning state of the webhook seat type, and the role the event
    /// names. A handler that has it reads nothing more on the way to taking (or refusing) a seat.
    /// </summary>
    public sealed class PersonInOrganization
    {
        public User? User { get; private init; }
        /// <summary>The row of this WorkOS membership (its om_ id), tombstones included.</summary>
        public Membership? ByWorkosId { get; private init; }
        /// <summary>The person's live local row here that no WorkOS membership claims.</summary>
        public Membership? LocalRow { get; private init; }
        /// <summary>A live row of the person here under another WorkOS membership.</summary>
        public Membership? EarlierWorkosRow { get; private init; }
        /// <summary>The person's live staged seats here (invitations, Roster's own; not outbound markers), oldest first.</summary>
        public List<SeatReservation> Reservations { get; private init; } = [];
        public int Active { get; private init; }
        public int Pending { get; private init; }
        public int Reserved { get; private init; }
        public SeatWarningState? Warning { get; private init; }
        public OrganizationRole? OrganizationRole { get; private init; }
        public GlobalRole? GlobalRole { get; private init; }
        public int LiveAssignments { get; private init; }

        /// <summary>The seat staged for this person by an invitation made no later than the membership (<see cref="StagedSeats"/>).</summary>
        public SeatReservation? StagedFor(DateTime membershipCreatedAt) => Reservations.FirstOrDefault(r => r.CreatedAt <= membershipCreatedAt);

        /// <summary>Whether any live invitation seat of the person is left for <see cref="StagedSeats.SettleAsync"/> to end here.</summary>
        public bool HasInvitationSeat => Reservations.Any(r => r.Source == SeatReservationSources.Invitation);

        public static async Task<PersonInOrganization> ReadAsync(WebhookContext ctx, Organization organization, WorkOsMembership data, CancellationToken ct)
        {
            var rows = await Query.For(ctx.Db)(ctx.Db, organization.Id, data.UserId!, data.Id!, ctx.PrefetchedEmail(data.UserId!), ctx.Now,
                ctx.Seats.WebhookSeatType, data.RoleSlugs.First()).ToListAsync(ct);
            var first = rows[0];
            return new PersonInOrganization
            {
                User = first.User,
                ByWorkosId = first.ByWorkosId,
                LocalRow = first.LocalRow,
                EarlierWorkosRow = first.EarlierWorkosRow,
                Reservations = rows.Select(r => r.Reservation).OfType<SeatReservation>().DistinctBy(r => r.Id).OrderBy(r => r.CreatedAt).ToList(),
                Active = first.Active,
                Pending = first.Pending,
                Reserved = first.Reserved,
                Warning = first.Warning,
                OrganizationRole = first.OrganizationRole,
                GlobalRole = first.GlobalRole,
                LiveAssignments = first.LiveAssignments,
            };
        }

        /// <summary>One row of the read; a person with several staged seats gives one row per seat (the rest repeats).</summary>
        private sealed class Row
        {
            public User? User { get; init; }
            public Membership? ByWorkosId { get; init; }
            public Membership? LocalRow { get; init; }
            public Membership? EarlierWorkosRow { get; init; }
            public SeatReservation? Reservation { get; init; }
            public SeatWarningState? Warning { get; init; }
            public OrganizationRole? OrganizationRole { get; init; }
            public GlobalRole? GlobalRole { get; init; }
            public int Active { get; init; }
            public int Pending { get; init; }
            public int Reserved { get; init; }
            public int LiveAssignments { get; init; }
        }

        // Outer joins from the locked organization, one per "at most one" row (SQLite has no APPLY, so no FirstOrDefault of an
        // entity in a projection), and scalar subqueries for the counts: one statement on both providers.
        private static readonly PerModelQuery<Func<RosterDb, Guid, string, string, string?, DateTime, string, string, IAsyncEnumerable<Row>>> Query = new(() =>
            EF.CompileAsyncQuery(SeatHolding.Inline<Func<RosterDb, Guid, string, string, string?, DateTime, string, string, IQueryable<Row>>>(
                (db, organizationId, workosUserId, workosMembershipId, email, now, seatType, slug) =>
                from o in db.Organizations.Where(o => o.Id == organizationId)
                from u in db.Users.Where(u => u.WorkosUserId == workosUserId).DefaultIfEmpty()
                from byId in db.Memberships.Where(m => m.WorkosMembershipId == workosMembershipId).DefaultIfEmpty()
                // The person is their WorkOS id, or the local user of it: an uncorrelated scalar subquery, evaluated once, so the
                // lookups stay plain equalities on indexed columns (a join to u would need APPLY, which SQLite lacks). The
                // "not null" matters: EF compares nullables with C#'s rules, so a missing user would match every unlinked row.
                from local in db.Memberships.Where(m => m.OrganizationId == o.Id && m.DeletedAt == null && m.WorkosMembershipId == null
                    && (m.WorkosUserId == workosUserId || (m.UserId != null && m.UserId == db.Users.Where(x => x.WorkosUserId == workosUserId).Select(x => (Guid?)x.Id).FirstOrDefault()))).DefaultIfEmpty()
                from earlier in db.Memberships.Where(m => m.OrganizationId == o.Id && m.DeletedAt == null
                    && m.WorkosMembershipId != null && m.WorkosMembershipId != workosMembershipId
                    && (m.WorkosUserId == workosUserId || (m.UserId != null && m.UserId == db.Users.Where(x => x.WorkosUserId == workosUserId).Select(x => (Guid?)x.Id).FirstOrDefault()))).DefaultIfEmpty()
                from r in db.SeatReservations.Where(r => r.OrganizationId == o.Id && SeatHolding.ReservationHolds(r, now)
                    && (r.WorkosUserId == workosUserId || (r.Email != null && (r.Email == email || r.Email == db.Users.Where(x => x.WorkosUserId == workosUserId).Select(x => x.Email).FirstOrDefault())))).DefaultIfEmpty()
                from w in db.SeatWarningStates.Where(w => w.OrganizationId == o.Id && w.SeatType == seatType).DefaultIfEmpty()
                from orgRole in db.OrganizationRoles.Where(x => x.OrganizationId == o.Id && x.WorkosSlug == slug && x.DeletedAt == null).DefaultIfEmpty()
                from globalRole in db.GlobalRoles.Where(x => x.WorkosSlug == slug && x.DeletedAt == null).DefaultIfEmpty()
                select new Row
                {
                    User = u,
                    ByWorkosId = byId,
                    LocalRow = local,
                    EarlierWorkosRow = earlier,
                    Reservation = r,
                    Warning = w,
                    OrganizationRole = orgRole,
                    GlobalRole = globalRole,
                    Active = db.Memberships.Count(m => m.OrganizationId == organizationId && m.SeatType == seatType
                        && SeatHolding.Holds(m, now) && m.Status == MembershipStatus.Active),
                    Pending = db.Memberships.Count(m => m.OrganizationId == organizationId && m.SeatType == seatType
                        && SeatHolding.Holds(m, now) && m.Status == MembershipStatus.Pending),
                    Reserved = db.SeatReservations.Count(x => x.OrganizationId == organizationId && x.SeatType == seatType && SeatHolding.ReservationHolds(x, now)),
                    LiveAssignments = db.RoleAssignments.Count(a => a.OrganizationId == organizationId && a.WorkosUserId == workosUserId && a.DeletedAt == null),
                })));
    }

    /// <summary>StagedSeats' rule, skipped when the read under the lock found no invitation seat of the person to end.</summary>
    private static async Task SettleAsync(WebhookContext ctx, PersonInOrganization? known, Guid organizationId, string? workosUserId, string? email,
        CancellationToken ct)
    {
        if (known is { HasInvitationSeat: false }) return;
        // The rule runs in the database: it must see this event's rows.
        await ctx.Db.SaveChangesAsync(ct);
        await StagedSeats.SettleAsync(ctx, organizationId, workosUserId, email, ct);
    }

    public static async Task<EventOutcome> DeleteAsync(WebhookContext ctx, WorkOsEvent evt, CancellationToken ct)
    {
        var data = Validated(evt);
        var eventTime = WebhookContext.EventTime(data.UpdatedAt, evt, ctx.Now);
        var organization = await ctx.EnsureOrganizationAsync(data.OrganizationId!, data.OrganizationName, ct);
        await ctx.Gate.LockAsync(organization, ct);
        await ctx.Db.LockAsync(MirrorLocks.User, data.UserId!, ct);
        var user = await ctx.UserAsync(data.UserId!, ct);
        var row = await FindAsync(ctx.Db, organization.Id, data, user, ct);

        if (row is null)
        {
            // Remember the deletion, so a created event replayed later cannot bring the membership back. The tombstone
            // keeps its person even when they are deleted too: an invitation staged later by email finds this membership.
            row = NewRow(organization, data, user, MembershipStatus.Inactive, ctx.Seats.WebhookSeatType,
                MembershipSource.Webhook, ctx.Now);
            row.DeletedAt = ctx.Now;
            Stamp(row, data, evt, eventTime, ctx.Now);
            ctx.Db.Memberships.Add(row);
            await ctx.Db.SaveChangesAsync(ct);
            await RoleAssignments.ClearAsync(ctx, organization.Id, data.UserId!, eventTime, evt.Id, ct);
            // In WorkOS's order this membership existed, and took the seat staged for its person.
            await StagedSeats.SettleAsync(ctx, organization.Id, data.UserId, user?.Email, ct);
            return EventOutcome.Applied("Recorded the deletion of a membership Roster had not mirrored.");
        }
        if (Freshness.IsStale(row.WorkosUpdatedAt, row.WorkosLastEventId, eventTime, evt.Id))
            return EventOutcome.Stale(row.DeletedAt is null
                ? "A newer event for this membership was already applied; this deletion is older than it."
                : "The membership was already deleted by a newer event.");
        if (row.Status == MembershipStatus.Pending && row.WorkosMembershipId is null)
            return EventOutcome.Ignored("The local pending membership is not the one WorkOS deleted.");

        var wasHoldingSeat = row.DeletedAt is null && row.Status == MembershipStatus.Active;
        if (row.DeletedAt is null)
            Audit.Record(ctx.Db, ctx.Now, AuditActions.Removed, row, actor: null, oldRole: row.Role, oldStatus: row.Status, via: ctx.Via);
        row.DeletedAt ??= ctx.Now;
        Stamp(row, data, evt, eventTime, ctx.Now);
        await ctx.Db.SaveChangesAsync(ct);
        await RoleAssignments.ClearAsync(ctx, organization.Id, data.UserId!, eventTime, evt.Id, ct);
        await StagedSeats.SettleAsync(ctx, organization.Id, data.UserId, user?.Email, ct);
        if (wasHoldingSeat) await ctx.Gate.ChangedAsync(organization, ct, row.SeatType);
        return EventOutcome.Applied();
    }

    private static async Task<EventOutcome> ActivateAsync(WebhookContext ctx, WorkOsEvent evt, WorkOsMembership data,
        Organization organization, User? user, Membership? row, DateTime eventTime, PersonInOrganization? known, CancellationToken ct)
    {
        if (row is { Status: MembershipStatus.Active })
        {
            if (row.Role != data.RoleSlug)
                Audit.Record(ctx.Db, ctx.Now, AuditActions.RoleChanged, row, actor: null, oldRole: row.Role, newRole: data.RoleSlug,
                    oldStatus: row.Status, newStatus: row.Status, via: ctx.Via);
            row.Role = data.RoleSlug;
            Stamp(row, data, evt, eventTime, ctx.Now);
            await ConsumeOutboundMarkersAsync(ctx, organization.Id, data.UserId!, user?.Email, ct);
            await RoleAssignments.MatchAsync(ctx, organization, data.UserId!, row.UserId, data.RoleSlugs, eventTime, evt.Id, ct);
            await StagedSeats.SettleAsync(ctx, organization.Id, data.UserId, user?.Email, ct);
            return EventOutcome.Applied();
        }
        if (row is { Status: MembershipStatus.Pending, Source: MembershipSource.OwnerAdd })
        {
            // The owner_add already holds this person's seat; a staged one for them would count it twice.
            await ConsumeReservationsAsync(ctx, organization.Id, data.UserId!, user?.Email, ct);
            return EventOutcome.Ignored("A pending owner_add becomes active only when the invitee accepts it in Roster.");
        }

        // Asked of WorkOS before the transaction began (WebhookContext.PrepareAsync), never under the seat lock.
        var email = user?.Email ?? ctx.PrefetchedEmail(data.UserId!);
        var taken = await TakeSeatAsync(ctx, data, organization, user, row, email, eventTime, evt.Id, ct, known);
        if (taken.Refused is { } usage) return Refuse(ctx, evt, data, organization, user, usage);
        return EventOutcome.Applied(taken.Staged ? "Took the seat staged for this person." : null);
    }

    /// <summary>What <see cref="TakeSeatAsync"/> did: mirrored the membership (on a staged seat or a free one), or found no room.</summary>
    public sealed record SeatTaken(Membership? Row, bool Staged, SeatUsage? Refused);

    /// <summary>
    /// The one way an active WorkOS membership takes a seat in Roster, for the webhook and for the sign-in gate
    /// (Features/Actions) alike: the seat staged for the person (an invitation) without a second check, else a
    /// <c>Seats:WebhookSeatType</c> seat if the plan has one free, else nothing (<see cref="SeatTaken.Refused"/>).
    /// When a seat is taken the membership is mirrored exactly as the webhook mirrors it (row, source, WorkOS stamps,
    /// seat warnings, role assignments). Call it under the organization's seat lock, inside the caller's transaction.
    /// </summary>
    /// <param name="row">The person's inactive mirror or pending join request in the organization, made active; null makes a new row.</param>
    /// <param name="eventId">The WorkOS event applied, or null when the state comes from elsewhere (a sign-in's context).</param>
    /// <param name="known">What was read under the lock (<see cref="PersonInOrganization"/>); null reads it here (the sign-in gate).</param>
    public static async Task<SeatTaken> TakeSeatAsync(WebhookContext ctx, WorkOsMembership data, Organization organization, User? user,
        Membership? row, string? email, DateTime eventTime, string? eventId, CancellationToken ct, PersonInOrganization? known = null)
    {
        // A new seat is taken here: either one staged beforehand, or one that must fit the plan now.
        var reservation = known is not null
            ? known.StagedFor(CreatedAt(data, ctx.Now))
            : await MatchReservationAsync(ctx, organization.Id, data.UserId!, email, CreatedAt(data, ctx.Now), ct);
        string seatType, source;
        SeatDecision seat;
        if (reservation is not null)
        {
            reservation.ExpiresAt = ctx.Now; // consumed: it counts for nothing from now on
            seatType = reservation.SeatType;
            source = reservation.Source == SeatReservationSources.Invitation ? MembershipSource.Invitation : MembershipSource.Webhook;
            seat = ctx.Gate.TakeStaged(organization, seatType);
        }
        else
        {
            seatType = ctx.Seats.WebhookSeatType;
            // With the counts read under the lock the gate decides without a statement of its own.
            seat = known is not null
                ? ctx.Gate.Decide(organization, seatType, known.Active, known.Pending, known.Reserved, known.Warning)
                : await ctx.Gate.DecideAsync(organization, seatType, ct);
            if (!seat.Granted) return new SeatTaken(null, false, seat.Usage);
            source = MembershipSource.Webhook;
        }

        var (oldRole, oldStatus, oldSeatType) = (row?.Role, row?.Status, row?.SeatType);
        if (row is null)
        {
            row = NewRow(organization, data, user, MembershipStatus.Active, seatType, source, ctx.Now);
            ctx.Db.Memberships.Add(row);
        }
        else
        {
            // An inactive mirror coming back, or a pending join request overtaken by an add made in WorkOS.
            row.Status = MembershipStatus.Active;
            row.SeatType = seatType;
            row.Source ??= source; // where it came from is kept (DESIGN §4)
            // Its seat was not counted as held before (inactive, or a join request): taking it adds one all the same.
        }
        row.Role = data.RoleSlug;
        Stamp(row, data, eventId, eventTime, ctx.Now);
        Audit.Record(ctx.Db, ctx.Now, oldStatus is null ? AuditActions.Added : AuditActions.Activated, row, actor: null, oldRole: oldRole,
            newRole: row.Role, oldStatus: oldStatus, newStatus: MembershipStatus.Active, via: ctx.Via, oldSeatType: oldSeatType);
        if (known is not null && RoleAssignments.TryAssignKnown(ctx, organization, data.UserId!, row.UserId, data.RoleSlugs, known.OrganizationRole,
                known.GlobalRole, known.LiveAssignments, eventTime, eventId))
        {
            // Nothing more to read: the rows are saved with the event record.
        }
        else
        {
            await ctx.Db.SaveChangesAsync(ct);
            await RoleAssignments.MatchAsync(ctx, organization, data.UserId!, row.UserId, data.RoleSlugs, eventTime, eventId, ct);
        }
        await SettleAsync(ctx, known, organization.Id, data.UserId, email, ct);
        await seat.TakenAsync(ct);
        if (known is null) await ctx.Db.SaveChangesAsync(ct);
        return new SeatTaken(row, reservation is not null, null);
    }

    private static async Task<EventOutcome> DeactivateAsync(WebhookContext ctx, WorkOsEvent evt, WorkOsMembership data,
        Organization organization, User? user, Membership? row, DateTime eventTime, CancellationToken ct)
    {
        if (row is { Status: MembershipStatus.Pending })
            return EventOutcome.Ignored("A local pending membership waits for its own answer.");
        if (row is null)
        {
            if (data.Status != MembershipStatus.Inactive)
                return EventOutcome.Ignored($"A {data.Status} WorkOS membership is tracked through invitation events.");
            // Kept (holding no seat) so an older 'active' event arriving later is recognised as stale.
            row = NewRow(organization, data, user, MembershipStatus.Inactive, ctx.Seats.WebhookSeatType, MembershipSource.Webhook, ctx.Now);
            ctx.Db.Memberships.Add(row);
            Stamp(row, data, evt, eventTime, ctx.Now);
            await ctx.Db.SaveChangesAsync(ct);
            await StagedSeats.SettleAsync(ctx, organization.Id, data.UserId, user?.Email, ct);
            return EventOutcome.Applied("Recorded an inactive membership.");
        }

        var wasActive = row.Status == MembershipStatus.Active;
        if (wasActive)
            Audit.Record(ctx.Db, ctx.Now, AuditActions.Deactivated, row, actor: null, oldRole: row.Role, newRole: data.RoleSlug,
                oldStatus: row.Status, newStatus: MembershipStatus.Inactive, via: ctx.Via);
        row.Status = MembershipStatus.Inactive;
        row.Role = data.RoleSlug;
        Stamp(row, data, evt, eventTime, ctx.Now);
        await ctx.Db.SaveChangesAsync(ct);
        await RoleAssignments.ClearAsync(ctx, organization.Id, data.UserId!, eventTime, evt.Id, ct);
        await StagedSeats.SettleAsync(ctx, organization.Id, data.UserId, user?.Email, ct);
        if (wasActive) await ctx.Gate.ChangedAsync(organization, ct, row.SeatType);
        return EventOutcome.Applied(wasActive ? "The membership is no longer active." : null);
    }

    private static EventOutcome Refuse(WebhookContext ctx, WorkOsEvent evt, WorkOsMembership data, Organization organization, User? user, SeatUsage usage)
    {
        SeatRefusals.Record(ctx.Db, new SeatRefusals.Refused(organization, RefusalKinds.Webhook, data.UserId!, data.Id, user?.Email, user?.Name,
            usage, evt.Id), ctx.Now);
        ctx.Logger.LogWarning(
            "Refused WorkOS membership {WorkosMembershipId} of user {WorkosUserId} in organization {OrganizationId} ({WorkosOrganizationId}): " +
            "{SeatType} seats full ({Used}/{Limit}); reason {Reason}",
            data.Id, data.UserId, organization.Id, organization.WorkosOrganizationId, usage.SeatType, usage.Used, usage.Limit, "seat_limit_reached");
        return EventOutcome.Refused($"seat_limit_reached: {usage.SeatType} {usage.Used}/{usage.Limit}", usage.SeatType);
    }

    /// <summary>
    /// The person was removed in WorkOS and added again (a new om_ id) but the old membership's deletion has not arrived:
    /// the newer membership replaces the old row (tombstoned now) rather than colliding with it. An older one is stale.
    /// </summary>
    /// <param name="eventId">The event applied (ties on time go to the larger id); null for a state from elsewhere (a sign-in's context), which a tie does not let through.</param>
    internal static async Task<EventOutcome?> SupersededAsync(WebhookContext ctx, Guid organizationId, WorkOsMembership data, User? user,
        DateTime eventTime, CancellationToken ct, string? eventId = null)
    {
        var previous = await EarlierWorkosRowOfPerson.For(ctx.Db)(ctx.Db, organizationId, data.Id!, user?.Id, data.UserId!, ct);
        var outcome = Supersede(ctx, previous, eventTime, eventId);
        await ctx.Db.SaveChangesAsync(ct);
        return outcome;
    }

    /// <summary><see cref="SupersededAsync"/> on a row already read (tracked); the change is saved with the caller's.</summary>
    private static EventOutcome? Supersede(WebhookContext ctx, Membership? previous, DateTime eventTime, string? eventId)
    {
        if (previous is null) return null;
        if (Freshness.IsStale(previous.WorkosUpdatedAt, previous.WorkosLastEventId, eventTime, eventId ?? ""))
            return EventOutcome.Stale("A newer WorkOS membership of this person was already applied.");
        previous.DeletedAt = ctx.Now;
        previous.UpdatedAt = ctx.Now;
        return null;
    }

    /// <summary>
    /// The row this WorkOS membership is: by its om_ id (tombstones included), else the live row of the same person
    /// that no other WorkOS membership claims. Shared with the sign-in gate (Features/Actions), whose context may carry no om_ id.
    /// </summary>
    internal static async Task<Membership?> FindAsync(RosterDb db, Guid organizationId, WorkOsMembership data, User? user, CancellationToken ct)
    {
        var byId = data.Id is null ? null : await MembershipByWorkosId.For(db)(db, data.Id, ct);
        if (byId is not null) return byId;
        return await LocalRowOfPerson.For(db)(db, organizationId, user?.Id, data.UserId!, ct);
    }

    private static readonly PerModelQuery<Func<RosterDb, Guid, string, Guid?, string, CancellationToken, Task<Membership?>>> EarlierWorkosRowOfPerson = new(() =>
        EF.CompileAsyncQuery((RosterDb db, Guid organizationId, string workosMembershipId, Guid? userId, string workosUserId, CancellationToken ct) =>
            db.Memberships.FirstOrDefault(m => m.OrganizationId == organizationId && m.DeletedAt == null
                && m.WorkosMembershipId != null && m.WorkosMembershipId != workosMembershipId
                && ((userId != null && m.UserId == userId) || m.WorkosUserId == workosUserId))));

    private static readonly PerModelQuery<Func<RosterDb, string, CancellationToken, Task<Membership?>>> MembershipByWorkosId = new(() =>
        EF.CompileAsyncQuery((RosterDb db, string workosMembershipId, CancellationToken ct) =>
            db.Memberships.FirstOrDefault(m => m.WorkosMembershipId == workosMembershipId)));

    private static readonly PerModelQuery<Func<RosterDb, Guid, Guid?, string, CancellationToken, Task<Membership?>>> LocalRowOfPerson = new(() =>
        EF.CompileAsyncQuery((RosterDb db, Guid organizationId, Guid? userId, string workosUserId, CancellationToken ct) =>
            db.Memberships.FirstOrDefault(m => m.OrganizationId == organizationId && m.DeletedAt == null && m.WorkosMembershipId == null
                && ((userId != null && m.UserId == userId) || m.WorkosUserId == workosUserId))));

    /// <summary>The echo of Roster's own outbound create: its marker reservation is used up.</summary>
    private static async Task ConsumeOutboundMarkersAsync(WebhookContext ctx, Guid organizationId, string workosUserId, string? email, CancellationToken ct)
    {
        var now = ctx.Now;
        await ctx.Db.SeatReservations
            .Where(r => r.OrganizationId == organizationId && r.ExpiresAt > now && r.Source == SeatReservationSources.Outbound
                        && (r.WorkosUserId == workosUserId || (email != null && r.Email == email)))
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.ExpiresAt, now), ct);
    }

    /// <summary>
    /// The person already holds a seat through a pending owner_add, so any reservation staged for them — the outbound
    /// echo marker, an invitation — is used up rather than counted twice.
    /// </summary>
    private static async Task ConsumeReservationsAsync(WebhookContext ctx, Guid organizationId, string workosUserId, string? email, CancellationToken ct)
    {
        var now = ctx.Now;
        await ctx.Db.SeatReservations
            .Where(r => r.OrganizationId == organizationId && r.ExpiresAt > now
                        && (r.WorkosUserId == workosUserId || (email != null && r.Email == email)))
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.ExpiresAt, now), ct);
    }

    /// <summary>A seat staged for this person by an invitation made no later than the membership (see <see cref="StagedSeats"/>).</summary>
    private static async Task<SeatReservation?> MatchReservationAsync(WebhookContext ctx, Guid organizationId, string workosUserId, string? email,
        DateTime membershipCreatedAt, CancellationToken ct)
    {
        return await StagedReservation.For(ctx.Db)(ctx.Db, organizationId, ctx.Now, workosUserId, email, membershipCreatedAt, ct);
    }

    private static readonly PerModelQuery<Func<RosterDb, Guid, DateTime, string, string?, DateTime, CancellationToken, Task<SeatReservation?>>> StagedReservation = new(() =>
        EF.CompileAsyncQuery((RosterDb db, Guid organizationId, DateTime now, string workosUserId, string? email, DateTime membershipCreatedAt, CancellationToken ct) =>
            db.SeatReservations
                .Where(r => r.OrganizationId == organizationId && r.ExpiresAt > now && r.Source != SeatReservationSources.Outbound
                            && r.CreatedAt <= membershipCreatedAt
                            && (r.WorkosUserId == workosUserId || (email != null && r.Email == email)))
                .OrderBy(r => r.CreatedAt)
                .FirstOrDefault()));

    private static Membership NewRow(Organization organization, WorkOsMembership data, User? user, string status, string seatType, string source, DateTime now) => new()
    {
        Id = Guid.CreateVersion7(),
        OrganizationId = organization.Id,
        UserId = user?.Id,
        WorkosUserId = data.UserId,
        WorkosMembershipId = data.Id,
        Role = data.RoleSlug,
        Status = status,
        Source = source,
        SeatType = seatType,
        CreatedAt = CreatedAt(data, now),
        UpdatedAt = now,
    };

    /// <summary>A mirrored membership is as old as WorkOS says: staged seats are matched to it by that time (<see cref="StagedSeats"/>).</summary>
    private static DateTime CreatedAt(WorkOsMembership data, DateTime now) => (data.CreatedAt ?? now).ToUniversalTime();

    private static void Stamp(Membership row, WorkOsMembership data, WorkOsEvent evt, DateTime eventTime, DateTime now) =>
        Stamp(row, data, evt.Id, eventTime, now);

    private static void Stamp(Membership row, WorkOsMembership data, string? eventId, DateTime eventTime, DateTime now)
    {
        row.WorkosMembershipId ??= data.Id;
        row.WorkosUserId ??= data.UserId;
        row.WorkosUpdatedAt = eventTime;
        row.WorkosLastEventId = eventId;
        row.UpdatedAt = now;
    }

    private static WorkOsMembership Validated(WorkOsEvent evt)
    {
        var data = evt.DataAs<WorkOsMembership>();
        if (string.IsNullOrWhiteSpace(data.Id) || string.IsNullOrWhiteSpace(data.UserId) || string.IsNullOrWhiteSpace(data.OrganizationId)
            || string.IsNullOrWhiteSpace(data.Status))
            throw new MalformedEventException($"{evt.Event}: data needs id, user_id, organization_id and status.");
        return data;
    }
}
