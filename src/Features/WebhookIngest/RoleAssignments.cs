using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;

namespace Roster.Features.WebhookIngest;

/// <summary>A user's role assignments in one organization, made to match exactly what the latest membership event says.</summary>
public static class RoleAssignments
{
    // Compiled: every membership event runs these (see WebhookProcessor).
    private static readonly PerModelQuery<Func<RosterDb, Guid, string, IAsyncEnumerable<OrganizationRoleAssignment>>> LiveAssignments = new(() =>
        EF.CompileAsyncQuery((RosterDb db, Guid organizationId, string workosUserId) =>
            db.RoleAssignments.Where(a => a.OrganizationId == organizationId && a.WorkosUserId == workosUserId && a.DeletedAt == null)));

    private static readonly PerModelQuery<Func<RosterDb, Guid, string, CancellationToken, Task<OrganizationRole?>>> LiveOrganizationRole = new(() =>
        EF.CompileAsyncQuery((RosterDb db, Guid organizationId, string slug, CancellationToken ct) =>
            db.OrganizationRoles.FirstOrDefault(r => r.OrganizationId == organizationId && r.WorkosSlug == slug && r.DeletedAt == null)));

    private static readonly PerModelQuery<Func<RosterDb, string, CancellationToken, Task<GlobalRole?>>> LiveGlobalRole = new(() =>
        EF.CompileAsyncQuery((RosterDb db, string slug, CancellationToken ct) =>
            db.GlobalRoles.FirstOrDefault(r => r.WorkosSlug == slug && r.DeletedAt == null)));

    /// <summary>
    /// Resolves each slug to the organization's own role first, then an environment role; a slug Roster has not
    /// seen yet gets a placeholder role (filled in when its role event arrives), so no assignment is lost to ordering.
    /// </summary>
    public static async Task MatchAsync(WebhookContext ctx, Organization organization, string workosUserId, Guid? userId,
        IReadOnlyCollection<string> slugs, DateTime eventTime, string? eventId, CancellationToken ct)
    {
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var slug in slugs.Distinct(StringComparer.Ordinal))
            wanted.Add(await ResolveAsync(ctx, organization, slug, ct));

        var current = await LiveAssignments.For(ctx.Db)(ctx.Db, organization.Id, workosUserId).ToListAsync(ct);
        foreach (var assignment in current)
        {
            if (wanted.Remove(assignment.RoleUrn))
            {
                assignment.UserId ??= userId;
                assignment.WorkosUpdatedAt = eventTime;
                assignment.WorkosLastEventId = eventId;
                assignment.UpdatedAt = ctx.Now;
            }
            else
            {
                assignment.DeletedAt = ctx.Now;
                assignment.UpdatedAt = ctx.Now;
            }
        }
        foreach (var urn in wanted) Assign(ctx, organization, workosUserId, userId, urn, eventTime, eventId);
        await ctx.Db.SaveChangesAsync(ct);
    }

    /// <summary>
    /// <see cref="MatchAsync"/> for the common case read under the lock with the membership (one slug, already resolved,
    /// and no live assignment of the person here): the assignment is staged with no statement of its own. False when the
    /// case is not that one; then call <see cref="MatchAsync"/>.
    /// </summary>
    public static bool TryAssignKnown(WebhookContext ctx, Organization organization, string workosUserId, Guid? userId,
        IReadOnlyCollection<string> slugs, OrganizationRole? organizationRole, GlobalRole? globalRole, int liveAssignments, DateTime eventTime, string? eventId)
    {
        if (slugs.Count != 1 || liveAssignments != 0) return false;
        // Resolved as ResolveAsync resolves: the organization's own role first, then the environment's.
        var urn = organizationRole is not null ? RoleUrn.Organization(organizationRole.Id)
            : globalRole is not null ? RoleUrn.Global(globalRole.Id)
            : null;
        if (urn is null) return false;
        Assign(ctx, organization, workosUserId, userId, urn, eventTime, eventId);
        return true;
    }

    private static void Assign(WebhookContext ctx, Organization organization, string workosUserId, Guid? userId, string urn, DateTime eventTime,
        string? eventId) =>
        ctx.Db.RoleAssignments.Add(new OrganizationRoleAssignment
        {
            Id = Guid.CreateVersion7(),
            OrganizationId = organization.Id,
            WorkosUserId = workosUserId,
            UserId = userId,
            RoleUrn = urn,
            WorkosUpdatedAt = eventTime,
            WorkosLastEventId = eventId,
            CreatedAt = ctx.Now,
            UpdatedAt = ctx.Now,
        });

    /// <summary>
    /// Clears the person's assignments in the organization that no newer event made: a removed membership's deletion
    /// arriving after the person's next membership (added again in WorkOS, a new om_ id) leaves that one's roles alone.
    /// </summary>
    public static async Task ClearAsync(WebhookContext ctx, Guid organizationId, string workosUserId, DateTime eventTime, string eventId,
        CancellationToken ct)
    {
        var now = ctx.Now;
        await ctx.Db.RoleAssignments
            .Where(a => a.OrganizationId == organizationId && a.WorkosUserId == workosUserId && a.DeletedAt == null)
            .Where(Freshness.AssignedNoLaterThan(eventTime, eventId))
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.DeletedAt, now).SetProperty(a => a.UpdatedAt, now), ct);
    }

    /// <summary>
    /// A deleted role leaves the assignments made before its deletion; one made by a newer membership event (the role was
    /// re-created in WorkOS and assigned again, and that arrived first) stays.
    /// </summary>
    public static async Task RemoveRoleAsync(WebhookContext ctx, string roleUrn, DateTime deletedAt, string eventId, CancellationToken ct)
    {
        var now = ctx.Now;
        await ctx.Db.RoleAssignments
            .Where(a => a.RoleUrn == roleUrn && a.DeletedAt == null)
            .Where(Freshness.AssignedNoLaterThan(deletedAt, eventId))
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.DeletedAt, now).SetProperty(a => a.UpdatedAt, now), ct);
    }

    private static async Task<string> ResolveAsync(WebhookContext ctx, Organization organization, string slug, CancellationToken ct)
    {
        var organizationRole = await LiveOrganizationRole.For(ctx.Db)(ctx.Db, organization.Id, slug, ct);
        if (organizationRole is not null) return RoleUrn.Organization(organizationRole.Id);
        var globalRole = await LiveGlobalRole.For(ctx.Db)(ctx.Db, slug, ct);
        if (globalRole is not null) return RoleUrn.Global(globalRole.Id);

        // Custom organization role slugs start "org-"; anything else is an environment role.
        if (slug.StartsWith("org-", StringComparison.Ordinal))
        {
            var placeholder = await ctx.Db.OrganizationRoles.FirstOrDefaultAsync(r => r.OrganizationId == organization.Id && r.WorkosSlug == slug, ct);
            if (placeholder is null)
            {
                placeholder = new OrganizationRole { Id = Guid.CreateVersion7(), OrganizationId = organization.Id, WorkosSlug = slug, Name = slug, CreatedAt = ctx.Now, UpdatedAt = ctx.Now };
                ctx.Db.OrganizationRoles.Add(placeholder);
            }
            return RoleUrn.Organization(placeholder.Id);
        }
        var global = await ctx.Db.GlobalRoles.FirstOrDefaultAsync(r => r.WorkosSlug == slug, ct);
        if (global is null)
        {
            global = new GlobalRole { Id = Guid.CreateVersion7(), WorkosSlug = slug, Name = slug, CreatedAt = ctx.Now, UpdatedAt = ctx.Now };
            ctx.Db.GlobalRoles.Add(global);
        }
        return RoleUrn.Global(global.Id);
    }
}
