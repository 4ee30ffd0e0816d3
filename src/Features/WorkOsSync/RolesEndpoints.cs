using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Auth;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Http;
using Roster.Infrastructure.Http.OpenApi;
using Roster.Infrastructure.Memberships;

namespace Roster.Features.WorkOsSync;

/// <param name="Type">"environment" for a WorkOS environment role, "organization" for the organization's custom role.</param>
public sealed record RoleView(string Urn, Guid Id, string Slug, string Name, string? Description, IReadOnlyList<string> Permissions,
    [property: OneOf(typeof(RoleTypes))] string Type);

/// <summary>Where a role comes from.</summary>
public static class RoleTypes
{
    public const string Environment = "environment";
    public const string Organization = "organization";
}

/// <summary>The roles mirrored from WorkOS, as the members of an organization see them.</summary>
public static class RolesEndpoints
{
    public static IEndpointRouteBuilder MapRoles(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/organizations/{orgId}")
            .RequireAuthorization()
            .WithTags("Roles")
            .RequireOrgAccess(OrgRequirement.ActiveMember)
            .Answers(StatusCodes.Status404NotFound, "no such organization (or member), or the caller is not an active member of it", ErrorCodes.NotFound);
        group.MapGet("/roles", ListRoles).WithName("ListRoles")
            .WithSummary("Roles of the organization")
            .WithDescription("Active members of the organization (and platform admins). The WorkOS environment roles and the " +
                             "organization's own roles, as mirrored from role.* and organization_role.* events.");
        group.MapGet("/members/{membershipId:guid}/roles", MemberRoles).WithName("MemberRoles")
            .WithSummary("Roles WorkOS assigns a member")
            .WithDescription("Active members of the organization (and platform admins). The roles WorkOS assigns the member in this " +
                             "organization (from their membership events).");
        return app;
    }

    /// <summary>
    /// Environment roles (by slug), then this organization's own roles (by slug), deleted ones left out; paged on
    /// (kind, slug), both covered by the slug indexes.
    /// </summary>
    public static async Task<Results<PagedOk<RoleView>, ProblemHttpResult>> ListRoles(
        string orgId, OrgAccess access, string? limit, string? after, RosterDb db, CancellationToken ct)
    {
        var (page, bad) = PageRequest.Parse("roles", limit, after, 2);
        if (bad is not null) return bad;
        if (page!.HasAfter && page.AfterText(0) is not ("environment" or "organization"))
            return Problems.Validation("after", "after is a cursor from this list's Link header (rel=\"next\"); this one is not.");
        var organizationId = access.Organization.Id;

        var afterOwn = page.HasAfter && page.AfterText(0) == "organization";
        var slug = page.HasAfter ? page.AfterText(1) : "";
        var roles = new List<RoleView>();
        if (!afterOwn)
        {
            var global = db.GlobalRoles.AsNoTracking().Where(r => r.DeletedAt == null);
            if (page.HasAfter) global = global.Where(r => string.Compare(r.WorkosSlug, slug) > 0);
            roles.AddRange((await global.OrderBy(r => r.WorkosSlug).Take(page.Fetch).ToListAsync(ct)).Select(View));
        }
        if (roles.Count < page.Fetch)
        {
            var own = db.OrganizationRoles.AsNoTracking().Where(r => r.OrganizationId == organizationId && r.DeletedAt == null);
            if (afterOwn) own = own.Where(r => string.Compare(r.WorkosSlug, slug) > 0);
            roles.AddRange((await own.OrderBy(r => r.WorkosSlug).Take(page.Fetch - roles.Count).ToListAsync(ct)).Select(View));
        }
        return page.Page(roles, r => PageRequest.Key(r.Type, r.Slug));
    }

    /// <summary>The roles WorkOS assigns the member in this organization.</summary>
    public static async Task<Results<Ok<List<RoleView>>, ProblemHttpResult>> MemberRoles(
        string orgId, OrgAccess access, Guid membershipId, RosterDb db, CancellationToken ct)
    {
        var organizationId = access.Organization.Id;
        var membership = await db.Memberships.AsNoTracking()
            .FirstOrDefaultAsync(m => m.Id == membershipId && m.OrganizationId == organizationId && m.DeletedAt == null, ct);
        if (membership is null) return Problems.NotFound("No such member in this organization.");

        var urns = await db.RoleAssignments.AsNoTracking()
            .Where(a => a.OrganizationId == organizationId && a.DeletedAt == null
                        && ((membership.WorkosUserId != null && a.WorkosUserId == membership.WorkosUserId)
                            || (membership.UserId != null && a.UserId == membership.UserId)))
            .Select(a => a.RoleUrn).Distinct().ToListAsync(ct);
        var ids = urns.Select(u => Guid.TryParse(u[(u.LastIndexOf(':') + 1)..], out var id) ? id : Guid.Empty).ToList();
        var global = await db.GlobalRoles.AsNoTracking().Where(r => ids.Contains(r.Id)).ToListAsync(ct);
        var own = await db.OrganizationRoles.AsNoTracking().Where(r => ids.Contains(r.Id)).ToListAsync(ct);
        return TypedResults.Ok(global.Select(View).Concat(own.Select(View)).OrderBy(r => r.Slug, StringComparer.Ordinal).ToList());
    }

    private static RoleView View(MirroredRole r) =>
        new(r.Urn, r.Id, r.WorkosSlug, r.Name, r.Description, Permissions(r.Permissions), r is GlobalRole ? RoleTypes.Environment : RoleTypes.Organization);

    private static IReadOnlyList<string> Permissions(string json) => JsonSerializer.Deserialize<List<string>>(json) ?? [];
}
