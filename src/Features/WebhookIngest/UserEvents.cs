using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Memberships;
using Roster.Infrastructure.WorkOs;

namespace Roster.Features.WebhookIngest;

/// <summary>user.created|updated|deleted: keep local users in step with WorkOS and link memberships that waited for them.</summary>
public static class UserEvents
{
    public static async Task<EventOutcome> UpsertAsync(WebhookContext ctx, WorkOsEvent evt, CancellationToken ct)
    {
        var data = evt.DataAs<WorkOsUser>();
        if (string.IsNullOrWhiteSpace(data.Id) || string.IsNullOrWhiteSpace(data.Email) || !data.Email.Contains('@'))
            throw new MalformedEventException($"{evt.Event}: data needs id and email.");
        var eventTime = WebhookContext.EventTime(data.UpdatedAt, evt, ctx.Now);
        var email = User.NormalizeEmail(data.Email);

        // The freshness check and the write below, and the linking of memberships that arrive at the same moment, under one lock.
        await ctx.Db.LockAsync(MirrorLocks.User, data.Id, ct);
        // And the email's: an invitation staged for it at this moment is matched by one of the two (see InvitationEvents).
        await ctx.Db.LockAsync(MirrorLocks.Email, email, ct);
        var user = await ctx.Db.Users.FirstOrDefaultAsync(u => u.WorkosUserId == data.Id, ct);
        if (user is not null)
        {
            if (user.DeletedAt is not null) return EventOutcome.Stale("The user was deleted; a deleted user is not brought back.");
            if (Freshness.IsStale(user.WorkosUpdatedAt, user.WorkosLastEventId, eventTime, evt.Id))
                return EventOutcome.Stale("A newer event for this user was already applied.");
        }
        else
        {
            // Someone known only by email so far (e.g. signed in before WorkOS told us about them) is linked, not duplicated.
            user = await ctx.Db.Users.FirstOrDefaultAsync(u => u.Email == email && u.DeletedAt == null, ct);
            if (user is { WorkosUserId: not null })
                return EventOutcome.Ignored("Another WorkOS user holds this email address locally.");
            if (user is null)
            {
                user = new User { Id = Guid.CreateVersion7(), Email = email, CreatedAt = ctx.Now };
                ctx.Db.Users.Add(user);
            }
            user.WorkosUserId = data.Id;
        }

        if (user.Email != email && await ctx.Db.Users.AnyAsync(u => u.Email == email && u.Id != user.Id && u.DeletedAt == null, ct))
            return EventOutcome.Ignored("Another user holds this email address locally.");
        user.Email = email;
        user.EmailVerified = data.EmailVerified;
        user.Name = data.FullName ?? user.Name;
        user.WorkosUpdatedAt = eventTime;
        user.WorkosLastEventId = evt.Id;
        user.UpdatedAt = ctx.Now;
        await ctx.Db.SaveChangesAsync(ct);
        await MembershipLinking.LinkAsync(ctx.Db, user, ct);
        await StagedSeats.SettleAsync(ctx, null, data.Id, email, ct);
        return EventOutcome.Applied();
    }

    public static async Task<EventOutcome> DeleteAsync(WebhookContext ctx, WorkOsEvent evt, CancellationToken ct)
    {
        var data = evt.DataAs<WorkOsUser>();
        if (string.IsNullOrWhiteSpace(data.Id)) throw new MalformedEventException($"{evt.Event}: data needs id.");
        var eventTime = WebhookContext.EventTime(data.UpdatedAt, evt, ctx.Now);

        // The seats the user's memberships give back are re-evaluated as a membership deletion re-evaluates them, and each
        // membership that goes is a change in its organization's feed, numbered under that organization's row lock: so the
        // locks of every organization the user is in (seat or not: a join request holds none) come first, by id, in the
        // order every event takes them (organizations, then the person) — two deletions, or a deletion and a membership
        // event, never wait on each other in a circle.
        var seated = await SeatedAsync(ctx, data.Id, ct);
        var seatedById = seated.Select(s => s.Organization).DistinctBy(o => o.Id).ToDictionary(o => o.Id);
        foreach (var organizationId in (await MemberOfAsync(ctx, data.Id, ct)).Union(seatedById.Keys).Order())
        {
            if (seatedById.TryGetValue(organizationId, out var organization)) await ctx.Gate.LockAsync(organization, ct);
            else await ctx.Gate.LockAsync(organizationId, ct);
        }
        await ctx.Db.LockAsync(MirrorLocks.User, data.Id, ct);
        var user = await ctx.Db.Users.FirstOrDefaultAsync(u => u.WorkosUserId == data.Id, ct);
        // And the email's, as user.created takes it: the deletion ties the person's memberships to their email (below),
        // and an invitation staged for that email at this moment must see that, or be seen by it (StagedSeats).
        var email = string.IsNullOrWhiteSpace(data.Email) ? user?.Email : User.NormalizeEmail(data.Email);
        if (email is not null) await ctx.Db.LockAsync(MirrorLocks.Email, email, ct);
        if (user is null)
        {
            // A tombstone, so a replayed user.created cannot bring the user back.
            if (string.IsNullOrWhiteSpace(data.Email)) return EventOutcome.Ignored("Roster never knew this user.");
            var tombstone = new User
            {
                Id = Guid.CreateVersion7(), WorkosUserId = data.Id, Email = User.NormalizeEmail(data.Email), Name = data.FullName,
                EmailVerified = data.EmailVerified, WorkosUpdatedAt = eventTime, WorkosLastEventId = evt.Id,
                DeletedAt = ctx.Now, CreatedAt = ctx.Now, UpdatedAt = ctx.Now,
            };
            ctx.Db.Users.Add(tombstone);
            await ctx.Db.SaveChangesAsync(ct);
            // Memberships mirrored before the user was known go with them.
            await ForgetAsync(ctx, tombstone.Id, data.Id, tombstone.Email, ct);
            await SeatsGivenBackAsync(ctx, seated, ct);
            return EventOutcome.Applied("Recorded the deletion of a user Roster had not seen.");
        }
        if (user.DeletedAt is not null) return EventOutcome.Stale("The user is already deleted.");

        user.DeletedAt = ctx.Now;
        user.Name = data.FullName ?? user.Name; // the deletion carries the user's last state
        user.WorkosUpdatedAt = eventTime;
        user.WorkosLastEventId = evt.Id;
        user.UpdatedAt = ctx.Now;
        await ForgetAsync(ctx, user.Id, data.Id, email ?? user.Email, ct);
        await SeatsGivenBackAsync(ctx, seated, ct);
        return EventOutcome.Applied();
    }

    /// <summary>Each organization (tracked) and seat type in which the user's live memberships hold a seat.</summary>
    private static async Task<List<(Organization Organization, string SeatType)>> SeatedAsync(WebhookContext ctx, string workosUserId, CancellationToken ct)
    {
        var now = ctx.Now;
        var held = await ctx.Db.Memberships.Where(SeatHolding.At(now))
            .Where(m => m.WorkosUserId == workosUserId || ctx.Db.Users.Any(u => u.Id == m.UserId && u.WorkosUserId == workosUserId))
            .Select(m => new { m.OrganizationId, m.SeatType }).Distinct().ToListAsync(ct);
        if (held.Count == 0) return [];
        var ids = held.Select(h => h.OrganizationId).Distinct().ToList();
        var organizations = await ctx.Db.Organizations.Where(o => ids.Contains(o.Id)).ToDictionaryAsync(o => o.Id, ct);
        return held.Select(h => (organizations[h.OrganizationId], h.SeatType)).ToList();
    }

    /// <summary>The organizations in which the user has a live membership of any status (those <see cref="ForgetAsync"/> ends).</summary>
    private static Task<List<Guid>> MemberOfAsync(WebhookContext ctx, string workosUserId, CancellationToken ct) =>
        ctx.Db.Memberships.Where(m => m.DeletedAt == null)
            .Where(m => m.WorkosUserId == workosUserId || ctx.Db.Users.Any(u => u.Id == m.UserId && u.WorkosUserId == workosUserId))
            .Select(m => m.OrganizationId).Distinct().ToListAsync(ct);

    /// <summary>After the user's memberships are gone: warnings re-armed where usage fell (as a membership deletion does).</summary>
    private static async Task SeatsGivenBackAsync(WebhookContext ctx, List<(Organization Organization, string SeatType)> seated, CancellationToken ct)
    {
        if (seated.Count == 0) return;
        await ctx.Db.SaveChangesAsync(ct);
        foreach (var group in seated.GroupBy(s => s.Organization.Id))
            await ctx.Gate.ChangedAsync(group.First().Organization, ct, group.Select(s => s.SeatType).ToArray());
    }

    /// <summary>
    /// WorkOS removes a deleted user's memberships; so does Roster (their membership.deleted events may never come): the
    /// user's rows — linked, or mirrored before the user was known — are tombstoned, their role assignments cleared and the
    /// invitation seats staged for them (by their WorkOS id) released. Then the staged-seat rule runs with their email too:
    /// their membership may have arrived before they (or the invitation's acceptance) were known, and this is the first
    /// event that ties the two together (their user.created, later in WorkOS's order, arrives stale after this).
    /// </summary>
    private static async Task ForgetAsync(WebhookContext ctx, Guid? userId, string workosUserId, string email, CancellationToken ct)
    {
        var now = ctx.Now;
        // Each one ends as a membership.deleted would end it: audited, and a membership.removed change in its organization's
        // feed (via webhook or sync, actor WorkOS), committed with the tombstone. Its organization's lock is held (DeleteAsync).
        // (A membership of theirs committed between DeleteAsync's look and its locks is numbered under a lock the save takes
        // then, after the person's: PostgreSQL would end a deadlock that made by failing this event, and WorkOS sends it again.)
        var live = await ctx.Db.Memberships.Where(m => m.DeletedAt == null && ((userId != null && m.UserId == userId) || m.WorkosUserId == workosUserId))
            .OrderBy(m => m.OrganizationId).ThenBy(m => m.CreatedAt).ThenBy(m => m.Id).ToListAsync(ct);
        foreach (var membership in live)
        {
            Audit.Record(ctx.Db, now, AuditActions.Removed, membership, actor: null, oldRole: membership.Role, oldStatus: membership.Status, via: ctx.Via);
            membership.DeletedAt = now;
            membership.UpdatedAt = now;
        }
        await ctx.Db.SaveChangesAsync(ct);
        // Their tombstoned rows keep the person (so an invitation of theirs arriving later is matched by email, StagedSeats).
        if (userId is not null)
            await ctx.Db.Memberships.Where(m => m.UserId == null && m.WorkosUserId == workosUserId)
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.UserId, userId), ct);
        await ctx.Db.RoleAssignments.Where(a => a.DeletedAt == null && (a.WorkosUserId == workosUserId || (userId != null && a.UserId == userId)))
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.DeletedAt, now).SetProperty(a => a.UpdatedAt, now), ct);
        await ctx.Db.SeatReservations.Where(r => r.ExpiresAt > now && r.WorkosUserId == workosUserId)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.ExpiresAt, now), ct);
        await StagedSeats.SettleAsync(ctx, null, workosUserId, email, ct);
    }
}
