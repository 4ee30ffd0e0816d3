using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;

namespace Roster.Features.WebhookIngest;

public sealed record WorkOsRole(
    string? Slug,
    string? Name,
    string? Description,
    IReadOnlyList<string>? Permissions,
    string? OrganizationId,
    DateTime? CreatedAt,
    DateTime? UpdatedAt);

/// <summary>
/// role.* (environment-wide) and organization_role.* (one organization): roles are keyed by slug, as the events
/// carry no role id. A delete leaves a tombstone; only a newer event brings the slug back (WorkOS re-created it).
/// </summary>
public static class RoleEvents
{
    public static async Task<EventOutcome> UpsertGlobalAsync(WebhookContext ctx, WorkOsEvent evt, CancellationToken ct)
    {
        var data = Validated(evt, organizationScoped: false);
        var eventTime = WebhookContext.EventTime(data.UpdatedAt, evt, ctx.Now);
        var role = await ctx.Db.GlobalRoles.FirstOrDefaultAsync(r => r.WorkosSlug == data.Slug, ct);
        if (role is not null && Freshness.IsStale(role.WorkosUpdatedAt, role.WorkosLastEventId, eventTime, evt.Id))
            return EventOutcome.Stale("A newer event for this role was already applied.");
        if (role is null)
        {
            role = new GlobalRole { Id = Guid.CreateVersion7(), WorkosSlug = data.Slug!, Name = data.Name ?? data.Slug!, CreatedAt = ctx.Now };
            ctx.Db.GlobalRoles.Add(role);
        }
        role.Name = data.Name ?? role.Name;
        role.Description = data.Description ?? role.Description;
        role.Permissions = JsonSerializer.Serialize(data.Permissions ?? []);
        role.DeletedAt = null;
        role.WorkosUpdatedAt = eventTime;
        role.WorkosLastEventId = evt.Id;
        role.UpdatedAt = ctx.Now;
        return EventOutcome.Applied();
    }

    public static async Task<EventOutcome> DeleteGlobalAsync(WebhookContext ctx, WorkOsEvent evt, CancellationToken ct)
    {
        var data = Validated(evt, organizationScoped: false);
        var eventTime = WebhookContext.EventTime(data.UpdatedAt, evt, ctx.Now);
        var role = await ctx.Db.GlobalRoles.FirstOrDefaultAsync(r => r.WorkosSlug == data.Slug, ct);
        if (role is not null && Freshness.IsStale(role.WorkosUpdatedAt, role.WorkosLastEventId, eventTime, evt.Id))
            return EventOutcome.Stale("A newer event for this role was already applied.");
        if (role is null)
        {
            role = new GlobalRole { Id = Guid.CreateVersion7(), WorkosSlug = data.Slug!, Name = data.Name ?? data.Slug!, CreatedAt = ctx.Now };
            ctx.Db.GlobalRoles.Add(role);
        }
        role.DeletedAt ??= ctx.Now;
        role.WorkosUpdatedAt = eventTime;
        role.WorkosLastEventId = evt.Id;
        role.UpdatedAt = ctx.Now;
        await ctx.Db.SaveChangesAsync(ct);
        await RoleAssignments.RemoveRoleAsync(ctx, RoleUrn.Global(role.Id), ct);
        return EventOutcome.Applied();
    }

    public static async Task<EventOutcome> UpsertOrganizationAsync(WebhookContext ctx, WorkOsEvent evt, CancellationToken ct)
    {
        var data = Validated(evt, organizationScoped: true);
        var eventTime = WebhookContext.EventTime(data.UpdatedAt, evt, ctx.Now);
        var organization = await ctx.EnsureOrganizationAsync(data.OrganizationId!, null, ct);
        var role = await ctx.Db.OrganizationRoles.FirstOrDefaultAsync(r => r.OrganizationId == organization.Id && r.WorkosSlug == data.Slug, ct);
        if (role is not null && Freshness.IsStale(role.WorkosUpdatedAt, role.WorkosLastEventId, eventTime, evt.Id))
            return EventOutcome.Stale("A newer event for this role was already applied.");
        if (role is null)
        {
            role = new OrganizationRole { Id = Guid.CreateVersion7(), OrganizationId = organization.Id, WorkosSlug = data.Slug!, Name = data.Name ?? data.Slug!, CreatedAt = ctx.Now };
            ctx.Db.OrganizationRoles.Add(role);
        }
        role.Name = data.Name ?? role.Name;
        role.Description = data.Description;
        role.Permissions = JsonSerializer.Serialize(data.Permissions ?? []);
        role.DeletedAt = null;
        role.WorkosUpdatedAt = eventTime;
        role.WorkosLastEventId = evt.Id;
        role.UpdatedAt = ctx.Now;
        return EventOutcome.Applied();
    }

    public static async Task<EventOutcome> DeleteOrganizationAsync(WebhookContext ctx, WorkOsEvent evt, CancellationToken ct)
    {
        var data = Validated(evt, organizationScoped: true);
        var eventTime = WebhookContext.EventTime(data.UpdatedAt, evt, ctx.Now);
        var organization = await ctx.EnsureOrganizationAsync(data.OrganizationId!, null, ct);
        var role = await ctx.Db.OrganizationRoles.FirstOrDefaultAsync(r => r.OrganizationId == organization.Id && r.WorkosSlug == data.Slug, ct);
        if (role is not null && Freshness.IsStale(role.WorkosUpdatedAt, role.WorkosLastEventId, eventTime, evt.Id))
            return EventOutcome.Stale("A newer event for this role was already applied.");
        if (role is null)
        {
            role = new OrganizationRole { Id = Guid.CreateVersion7(), OrganizationId = organization.Id, WorkosSlug = data.Slug!, Name = data.Name ?? data.Slug!, CreatedAt = ctx.Now };
            ctx.Db.OrganizationRoles.Add(role);
        }
        role.DeletedAt ??= ctx.Now;
        role.WorkosUpdatedAt = eventTime;
        role.WorkosLastEventId = evt.Id;
        role.UpdatedAt = ctx.Now;
        await ctx.Db.SaveChangesAsync(ct);
        await RoleAssignments.RemoveRoleAsync(ctx, RoleUrn.Organization(role.Id), ct);
        return EventOutcome.Applied();
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
