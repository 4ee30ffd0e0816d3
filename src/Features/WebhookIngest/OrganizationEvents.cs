using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Changes;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.WorkOs;

namespace Roster.Features.WebhookIngest;

/// <summary>organization.created|updated|deleted: mirror names and deletions; plans are Roster's own and never touched.</summary>
public static class OrganizationEvents
{
    public static async Task<EventOutcome> UpsertAsync(WebhookContext ctx, WorkOsEvent evt, CancellationToken ct)
    {
        var data = Validated(evt);
        var eventTime = WebhookContext.EventTime(data.UpdatedAt, evt, ctx.Now);
        // The freshness check and the write under one lock: a concurrent older update cannot overwrite a newer one.
        await ctx.Db.LockAsync(MirrorLocks.Organization, data.Id!, ct);
        var (organization, added) = await ctx.FindOrAddOrganizationAsync(data.Id!, data.Name, ct);
        if (added)
        {
            ChangeLog.Stage(ctx.Db, organization.Id, ChangeTypes.OrganizationCreated, ctx.Now, actor: null, ctx.Via);
        }
        else if (organization.DeletedAt is not null)
        {
            return EventOutcome.Stale("The organization was deleted; a deleted organization is not brought back.");
        }
        else if (Freshness.IsStale(organization.WorkosUpdatedAt, organization.WorkosLastEventId, eventTime, evt.Id))
        {
            return EventOutcome.Stale("A newer event for this organization was already applied.");
        }

        if (organization.Name != data.Name && !added)
            ChangeLog.Stage(ctx.Db, organization.Id, ChangeTypes.OrganizationRenamed, ctx.Now, actor: null, ctx.Via);
        organization.Name = data.Name!;
        organization.WorkosUpdatedAt = eventTime;
        organization.WorkosLastEventId = evt.Id;
        organization.UpdatedAt = ctx.Now;
        return EventOutcome.Applied();
    }

    public static async Task<EventOutcome> DeleteAsync(WebhookContext ctx, WorkOsEvent evt, CancellationToken ct)
    {
        var data = Validated(evt);
        var eventTime = WebhookContext.EventTime(data.UpdatedAt, evt, ctx.Now);
        await ctx.Db.LockAsync(MirrorLocks.Organization, data.Id!, ct);
        var (organization, added) = await ctx.FindOrAddOrganizationAsync(data.Id!, data.Name, ct);
        if (!added && organization.DeletedAt is not null)
        {
            return EventOutcome.Stale("The organization is already deleted.");
        }
        organization.DeletedAt = ctx.Now;
        organization.Name = data.Name!; // the deletion carries the organization's last state
        organization.WorkosUpdatedAt = eventTime;
        organization.WorkosLastEventId = evt.Id;
        organization.UpdatedAt = ctx.Now;
        // The feed publishes each membership that goes with it, then the organization's deletion.
        var live = added ? [] : await ctx.Db.Memberships.AsNoTracking()
            .Where(m => m.OrganizationId == organization.Id && m.DeletedAt == null).OrderBy(m => m.CreatedAt).ThenBy(m => m.Id).ToListAsync(ct);
        foreach (var membership in live)
            ChangeLog.Stage(ctx.Db, organization.Id, ChangeTypes.MembershipRemoved, ctx.Now, actor: null, ctx.Via,
                previous: new PreviousState(membership.Role, membership.Status, membership.SeatType), membershipId: membership.Id, subjectUserId: membership.UserId);
        ChangeLog.Stage(ctx.Db, organization.Id, ChangeTypes.OrganizationDeleted, ctx.Now, actor: null, ctx.Via);
        await ctx.Db.SaveChangesAsync(ct);

        // Its memberships, role assignments and staged seats go with it, whatever order their own events arrive in: a
        // membership event arriving after this one is ignored, so one that arrived before must not outlive it either.
        // (The organization row was just written, which holds its seat lock: no membership event is half-way through it.)
        var now = ctx.Now;
        await ctx.Db.Memberships.Where(m => m.OrganizationId == organization.Id && m.DeletedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.DeletedAt, now).SetProperty(m => m.UpdatedAt, now), ct);
        await ctx.Db.RoleAssignments.Where(a => a.OrganizationId == organization.Id && a.DeletedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.DeletedAt, now).SetProperty(a => a.UpdatedAt, now), ct);
        await ctx.Db.SeatReservations.Where(r => r.OrganizationId == organization.Id && r.ExpiresAt > now)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.ExpiresAt, now), ct);
        return EventOutcome.Applied();
    }

    private static WorkOsOrganization Validated(WorkOsEvent evt)
    {
        var data = evt.DataAs<WorkOsOrganization>();
        if (string.IsNullOrWhiteSpace(data.Id) || string.IsNullOrWhiteSpace(data.Name))
            throw new MalformedEventException($"{evt.Event}: data needs id and name.");
        return data;
    }
}
