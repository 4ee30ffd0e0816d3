using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Memberships;

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
        return EventOutcome.Applied();
    }

    public static async Task<EventOutcome> DeleteAsync(WebhookContext ctx, WorkOsEvent evt, CancellationToken ct)
    {
        var data = evt.DataAs<WorkOsUser>();
        if (string.IsNullOrWhiteSpace(data.Id)) throw new MalformedEventException($"{evt.Event}: data needs id.");
        var eventTime = WebhookContext.EventTime(data.UpdatedAt, evt, ctx.Now);

        var user = await ctx.Db.Users.FirstOrDefaultAsync(u => u.WorkosUserId == data.Id, ct);
        if (user is null)
        {
            // A tombstone, so a replayed user.created cannot bring the user back.
            if (string.IsNullOrWhiteSpace(data.Email)) return EventOutcome.Ignored("Roster never knew this user.");
            ctx.Db.Users.Add(new User
            {
                Id = Guid.CreateVersion7(), WorkosUserId = data.Id, Email = User.NormalizeEmail(data.Email), Name = data.FullName,
                EmailVerified = data.EmailVerified, WorkosUpdatedAt = eventTime, WorkosLastEventId = evt.Id,
                DeletedAt = ctx.Now, CreatedAt = ctx.Now, UpdatedAt = ctx.Now,
            });
            return EventOutcome.Applied("Recorded the deletion of a user Roster had not seen.");
        }
        if (user.DeletedAt is not null) return EventOutcome.Stale("The user is already deleted.");

        user.DeletedAt = ctx.Now;
        user.WorkosUpdatedAt = eventTime;
        user.WorkosLastEventId = evt.Id;
        user.UpdatedAt = ctx.Now;
        // WorkOS removes a deleted user's memberships; so does Roster (their membership.deleted events may never come).
        var now = ctx.Now;
        await ctx.Db.Memberships.Where(m => m.UserId == user.Id && m.DeletedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.DeletedAt, now).SetProperty(m => m.UpdatedAt, now), ct);
        return EventOutcome.Applied();
    }
}
