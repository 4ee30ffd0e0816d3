using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Memberships;

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

        var existing = await ctx.Db.SeatReservations.FirstOrDefaultAsync(r => r.WorkosInvitationId == data.Id, ct);
        if (existing is not null)
        {
            if (existing.ExpiresAt <= ctx.Now) return EventOutcome.Stale("The invitation's reservation was already released.");
            existing.ExpiresAt = expiresAt; // resent: the invitation lives longer
            return EventOutcome.Applied("Extended the staged reservation.");
        }
        if (data.State is not (null or "pending")) return EventOutcome.Ignored($"The invitation is {data.State}.");
        if (expiresAt <= ctx.Now) return EventOutcome.Ignored("The invitation has expired.");

        var organization = await ctx.EnsureOrganizationAsync(data.OrganizationId, null, ct);
        if (organization.DeletedAt is not null) return EventOutcome.Ignored("The organization is deleted.");
        await ctx.Ledger.LockAsync(organization.Id, ct);
        var invitee = User.NormalizeEmail(data.Email!);
        var holdsSeat = await ctx.Db.Memberships.Where(SeatHolding.At(ctx.Now)).AnyAsync(m => m.OrganizationId == organization.Id
            && ctx.Db.Users.Any(u => u.Id == m.UserId && u.Email == invitee), ct);
        if (holdsSeat) return EventOutcome.Ignored("The invitee already holds a seat in this organization.");
        var seatType = ctx.Seats.WebhookSeatType;
        var usage = await ctx.Ledger.UsageAsync(organization.Id, organization.Plan, seatType, ct);
        if (!usage.HasRoom)
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
            CreatedAt = ctx.Now,
        });
        await ctx.Db.SaveChangesAsync(ct);
        await ctx.Warnings.EvaluateAsync(organization, seatType, ct);
        return EventOutcome.Applied("Staged a seat reservation.");
    }

    /// <summary>The accepted invitation names the WorkOS user, which is what the membership event carries.</summary>
    public static async Task<EventOutcome> AcceptedAsync(WebhookContext ctx, WorkOsEvent evt, CancellationToken ct)
    {
        var data = Validated(evt);
        var reservation = await ctx.Db.SeatReservations.FirstOrDefaultAsync(r => r.WorkosInvitationId == data.Id, ct);
        if (reservation is null || reservation.ExpiresAt <= ctx.Now) return EventOutcome.Ignored("No staged reservation for this invitation.");
        reservation.WorkosUserId ??= data.AcceptedUserId;
        return EventOutcome.Applied("The reservation now names the accepting user.");
    }

    public static async Task<EventOutcome> ReleaseAsync(WebhookContext ctx, WorkOsEvent evt, CancellationToken ct)
    {
        var data = Validated(evt);
        var reservation = await ctx.Db.SeatReservations.FirstOrDefaultAsync(r => r.WorkosInvitationId == data.Id, ct);
        if (reservation is null)
        {
            if (string.IsNullOrWhiteSpace(data.OrganizationId)) return EventOutcome.Ignored("No staged reservation for this invitation.");
            // Remember the release, so a created event arriving after it stages nothing.
            var organization = await ctx.EnsureOrganizationAsync(data.OrganizationId, null, ct);
            ctx.Db.SeatReservations.Add(new SeatReservation
            {
                Id = Guid.CreateVersion7(), OrganizationId = organization.Id, Email = User.NormalizeEmail(data.Email!),
                SeatType = ctx.Seats.WebhookSeatType, Source = SeatReservationSources.Invitation, WorkosInvitationId = data.Id,
                ExpiresAt = ctx.Now, CreatedAt = ctx.Now,
            });
            return EventOutcome.Applied("Recorded the release of an invitation Roster had not staged.");
        }
        if (reservation.ExpiresAt <= ctx.Now) return EventOutcome.Stale("The reservation was already released.");
        reservation.ExpiresAt = ctx.Now;
        return EventOutcome.Applied("Released the staged reservation.");
    }

    private static WorkOsInvitation Validated(WorkOsEvent evt)
    {
        var data = evt.DataAs<WorkOsInvitation>();
        if (string.IsNullOrWhiteSpace(data.Id) || string.IsNullOrWhiteSpace(data.Email) || !data.Email.Contains('@'))
            throw new MalformedEventException($"{evt.Event}: data needs id and email.");
        return data;
    }
}
