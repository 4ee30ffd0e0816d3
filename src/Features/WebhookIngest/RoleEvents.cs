using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.WorkOs;

namespace Roster.Features.WebhookIngest;

/// <summary>
/// role.* (environment-wide) and organization_role.* (one organization): roles are keyed by slug, as the events
/// carry no role id. A delete leaves a tombstone; only a newer event brings the slug back (WorkOS re-created it).
/// </summary>
public static class RoleEvents
{
    public static async Task<EventOutcome> UpsertGlobalAsync(WebhookContext ctx, WorkOsEvent evt, CancellationToken ct)
    {
        var data = Validated(evt, organizationScoped: false);
        await ctx.Db.LockAsync(MirrorLocks.Role, data.Slug!, ct);
        var role = await ctx.Db.GlobalRoles.FirstOrDefaultAsync(r => r.WorkosSlug == data.Slug, ct)
                   ?? Added(ctx, new GlobalRole { WorkosSlug = data.Slug!, Name = data.Slug! });
        return Apply(ctx, evt, data, role, deleted: false);
    }

    public static async Task<EventOutcome> DeleteGlobalAsync(WebhookContext ctx, WorkOsEvent evt, CancellationToken ct)
    {
        var data = Validated(evt, organizationScoped: false);
        await ctx.Db.LockAsync(MirrorLocks.Role, data.Slug!, ct);
        var role = await ctx.Db.GlobalRoles.FirstOrDefaultAsync(r => r.WorkosSlug == data.Slug, ct)
                   ?? Added(ctx, new GlobalRole { WorkosSlug = data.Slug!, Name = data.Slug! });
        return await DeleteAsync(ctx, evt, data, role, ct);
    }

    public static async Task<EventOutcome> UpsertOrganizationAsync(WebhookContext ctx, WorkOsEvent evt, CancellationToken ct)
    {
        var data = Validated(evt, organizationScoped: true);
        return Apply(ctx, evt, data, await OrganizationRoleAsync(ctx, data, ct), deleted: false);
    }

    public static async Task<EventOutcome> DeleteOrganizationAsync(WebhookContext ctx, WorkOsEvent evt, CancellationToken ct)
    {
        var data = Validated(evt, organizationScoped: true);
        return await DeleteAsync(ctx, evt, data, await OrganizationRoleAsync(ctx, data, ct), ct);
    }

    private static async Task<OrganizationRole> OrganizationRoleAsync(WebhookContext ctx, WorkOsRole data, CancellationToken ct)
    {
        var organization = await ctx.EnsureOrganizationAsync(data.OrganizationId!, null, ct);
        await ctx.Db.LockAsync(MirrorLocks.Role, $"{data.OrganizationId}:{data.Slug}", ct);
        return await ctx.Db.OrganizationRoles.FirstOrDefaultAsync(r => r.OrganizationId == organization.Id && r.WorkosSlug == data.Slug, ct)
               ?? Added(ctx, new OrganizationRole { OrganizationId = organization.Id, WorkosSlug = data.Slug!, Name = data.Slug! });
    }

    private static async Task<EventOutcome> DeleteAsync(WebhookContext ctx, WorkOsEvent evt, WorkOsRole data, MirroredRole role, CancellationToken ct)
    {
        var outcome = Apply(ctx, evt, data, role, deleted: true);
        if (outcome.Outcome != Infrastructure.Data.WebhookOutcomes.Applied) return outcome;
        await ctx.Db.SaveChangesAsync(ct);
        await RoleAssignments.RemoveRoleAsync(ctx, role.Urn, role.WorkosUpdatedAt!.Value, evt.Id, ct);
        return outcome;
    }

    /// <summary>Newer state wins; a delete tombstones, and only a newer event brings the slug back (WorkOS re-created it).</summary>
    private static EventOutcome Apply(WebhookContext ctx, WorkOsEvent evt, WorkOsRole data, MirroredRole role, bool deleted)
    {
        var eventTime = WebhookContext.EventTime(data.UpdatedAt, evt, ctx.Now);
        if (Freshness.IsStale(role.WorkosUpdatedAt, role.WorkosLastEventId, eventTime, evt.Id))
            return EventOutcome.Stale("A newer event for this role was already applied.");
        // A deletion carries the role's last state too: whichever of its events arrives first, the row ends the same.
        role.Name = data.Name ?? role.Name;
        role.Description = data.Description ?? role.Description;
        if (!deleted || data.Permissions is not null) role.Permissions = JsonSerializer.Serialize(data.Permissions ?? []);
        if (deleted) role.DeletedAt ??= ctx.Now;
        else role.DeletedAt = null;
        role.WorkosUpdatedAt = eventTime;
        role.WorkosLastEventId = evt.Id;
        role.UpdatedAt = ctx.Now;
        return EventOutcome.Applied();
    }

    private static T Added<T>(WebhookContext ctx, T role) where T : MirroredRole
    {
        role.Id = Guid.CreateVersion7();
        role.CreatedAt = ctx.Now;
        role.UpdatedAt = ctx.Now;
        ctx.Db.Add(role);
        return role;
    }

    private static WorkOsRole Validated(WorkOsEvent evt, bool organizationScoped)
    {
        var data = evt.DataAs<WorkOsRole>();
        // Environment role events carry no name (only slug, permissions and times); the slug stands in until one is known.
        if (string.IsNullOrWhiteSpace(data.Slug) || (organizationScoped && string.IsNullOrWhiteSpace(data.OrganizationId)))
            throw new MalformedEventException(organizationScoped
                ? $"{evt.Event}: data needs slug and organization_id."
                : $"{evt.Event}: data needs slug.");
        return data;
    }
}
