using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Memberships;
using Roster.Infrastructure.Seats;
using Roster.Infrastructure.WorkOs;

namespace Roster.Features.WebhookIngest;

/// <summary>
/// invitation.*: an invitation made in WorkOS stages a seat reservation, so the membership that follows its acceptance
/// is mirrored without a second check. Revoked or expired invitations release it. A released reservation is kept
/// (expired) so a replayed invitation.created cannot stage it again.
/// </summary>
public static class InvitationEvents
{
    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromDays(7);

    public static async Task<EventOutcome> StageAsync(WebhookContext ctx, WorkOsEvent evt, CancellationToken ct)
    {
        var data = Validated(evt);
        if (string.IsNullOrWhiteSpace(data.OrganizationId))
            return EventOutcome.Ignored("The invitation is not to an organization.");
        var expiresAt = (data.ExpiresAt ?? ctx.Now.Add(DefaultLifetime)).ToUniversalTime();
        var invitee = User.NormalizeEmail(data.Email!);

        // Locks in the order every event takes them (organization, then person): the seat lock, then the invitee's email,
        // which user.created takes too — the invitation and the user it matches cannot each miss the other.
        // The organization's row comes from the locking statement: the plan the seat is checked against is the one under the lock.
        var emailLock = MirrorLocks.Key(MirrorLocks.Email, invitee);
        var organization = await ctx.Gate.LockLiveAsync(data.OrganizationId, emailLock, ct);
        if (organization is null)
        {
            await ctx.EnsureOrganizationAsync(data.OrganizationId, null, ct);
            organization = await ctx.Gate.LockLiveAsync(data.OrganizationId, emailLock, ct);
            if (organization is null) return EventOutcome.Ignored("The organization is deleted.");
        }

        var existing = await ctx.Db.SeatReservations.FirstOrDefaultAsync(r => r.WorkosInvitationId == data.Id, ct);
        if (existing is not null)
        {
            // Resent: the invitation lives longer — if it is still staged (one guarded statement: zero rows, nothing put back).
            var now = ctx.Now;
            var extended = await ctx.Db.SeatReservations.Where(r => r.Id == existing.Id && r.ExpiresAt > now)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.ExpiresAt, expiresAt), ct);
            return extended == 0
                ? EventOutcome.Stale("The invitation's reservation was already released.")
                : EventOutcome.Applied("Extended the staged reservation.");
        }
        if (data.State is not (null or "pending")) return EventOutcome.Ignored($"The invitation is {data.State}.");
        if (expiresAt <= ctx.Now) return EventOutcome.Ignored("The invitation has expired.");

        var seatType = ctx.Seats.WebhookSeatType;
        // A staged seat is taken now: the membership that follows is not checked again.
        var seat = await ctx.Gate.DecideAsync(organization, seatType, ct);
        if (!seat.Granted)
            return EventOutcome.Ignored($"No free {seatType} seat to stage; the membership is checked when it arrives.");

        ctx.Db.SeatReservations.Add(new SeatReservation
        {
            Id = Guid.CreateVersion7(),
            OrganizationId = organization.Id,
            Email = User.NormalizeEmail(data.Email!),
            WorkosUserId = data.AcceptedUserId,
            SeatType = seatType,
            Source = SeatReservationSources.Invitation,
            WorkosInvitationId = data.Id,
            ExpiresAt = expiresAt,
            // WorkOS's time of the invitation: memberships made at or after it take this seat (StagedSeats).
            CreatedAt = (data.CreatedAt ?? ctx.Now).ToUniversalTime(),
        });
        await ctx.Db.SaveChangesAsync(ct);
        // The invitee's membership may have arrived first (or they hold a seat here already): then nothing stays staged.
        await StagedSeats.SettleAsync(ctx, organization.Id, data.AcceptedUserId, invitee, ct);
        await seat.TakenAsync(ct);
        return EventOutcome.Applied("Staged a seat reservation.");
    }

    /// <summary>The accepted invitation names the WorkOS user, which is what the membership event carries.</summary>
    public static async Task<EventOutcome> AcceptedAsync(WebhookContext ctx, WorkOsEvent evt, CancellationToken ct)
    {
        var data = Validated(evt);
        var reservation = await ctx.Db.SeatReservations.FirstOrDefaultAsync(r => r.WorkosInvitationId == data.Id, ct);
        if (reservation is null || reservation.ExpiresAt <= ctx.Now) return EventOutcome.Ignored("No staged reservation for this invitation.");
        await ctx.Gate.LockAsync(reservation.OrganizationId, ct);
        reservation.WorkosUserId ??= data.AcceptedUserId;
        await ctx.Db.SaveChangesAsync(ct);
        // The accepting user's membership may have arrived first: it took this seat.
        await StagedSeats.SettleAsync(ctx, reservation.OrganizationId, data.AcceptedUserId, reservation.Email, ct);
        return EventOutcome.Applied("The reservation now names the accepting user.");
    }

    public static async Task<EventOutcome> ReleaseAsync(WebhookContext ctx, WorkOsEvent evt, CancellationToken ct)
    {
        var data = Validated(evt);
        var organizationId = string.IsNullOrWhiteSpace(data.OrganizationId)
            ? await ctx.Db.SeatReservations.Where(r => r.WorkosInvitationId == data.Id).Select(r => (Guid?)r.OrganizationId).FirstOrDefaultAsync(ct)
            : (await ctx.EnsureOrganizationAsync(data.OrganizationId, null, ct)).Id;
        if (organizationId is not { } orgId) return EventOutcome.Ignored("No staged reservation for this invitation.");
        // The locks the staging takes, in its order: a created or resent event of this invitation in flight either
        // commits before this release (and is released by it) or reads it released (and stages nothing).
        await ctx.Gate.LockAsync(orgId, ct);
        await ctx.Db.LockAsync(MirrorLocks.Email, User.NormalizeEmail(data.Email!), ct);

        var reservation = await ctx.Db.SeatReservations.AsNoTracking().FirstOrDefaultAsync(r => r.WorkosInvitationId == data.Id, ct);
        if (reservation is null)
        {
            // Remember the release, so a created event arriving after it stages nothing.
            ctx.Db.SeatReservations.Add(new SeatReservation
            {
                Id = Guid.CreateVersion7(), OrganizationId = orgId, Email = User.NormalizeEmail(data.Email!),
                SeatType = ctx.Seats.WebhookSeatType, Source = SeatReservationSources.Invitation, WorkosInvitationId = data.Id,
                ExpiresAt = ctx.Now, CreatedAt = ctx.Now,
            });
            return EventOutcome.Applied("Recorded the release of an invitation Roster had not staged.");
        }
        // Guarded, like the extension: only a live reservation is released.
        var releasedAt = ctx.Now;
        var released = await ctx.Db.SeatReservations.Where(r => r.Id == reservation.Id && r.ExpiresAt > releasedAt)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.ExpiresAt, releasedAt), ct);
        return released == 0
            ? EventOutcome.Stale("The reservation was already released.")
            : EventOutcome.Applied("Released the staged reservation.");
    }

    private static WorkOsInvitation Validated(WorkOsEvent evt)
    {
        var data = evt.DataAs<WorkOsInvitation>();
        if (string.IsNullOrWhiteSpace(data.Id) || string.IsNullOrWhiteSpace(data.Email) || !data.Email.Contains('@'))
            throw new MalformedEventException($"{evt.Event}: data needs id and email.");
        return data;
    }
}
