using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Auth;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Http;

namespace Roster.Infrastructure.Memberships;

public enum OrgRequirement
{
    /// <summary>Any signed-in user may act on the org (e.g. ask to join it).</summary>
    AnyUser,
    ActiveMember,
    OwnerOrAdmin,
    Owner,
    PlatformAdmin,
}

/// <summary>The organization a request addresses, and what the caller is in it.</summary>
public sealed record OrgAccess(Organization Organization, Membership? CallerMembership, Caller Caller)
{
    public bool IsPlatformAdmin => Caller.IsPlatformAdmin;
    public bool IsOwner => IsPlatformAdmin || CallerMembership?.Role == Roles.Owner;
    public bool IsOwnerOrAdmin => IsPlatformAdmin || CallerMembership is { Role: Roles.Owner or Roles.Admin };
    public bool IsMember => IsPlatformAdmin || CallerMembership is not null;

    /// <summary>
    /// Resolves {orgId} (Roster id or WorkOS org_ id) and checks the caller may do what <paramref name="requirement"/>
    /// says. Someone with no membership gets 404 (the org is not visible to them); a member without the right gets 403.
    /// </summary>
    public static async Task<(OrgAccess? Access, ProblemHttpResult? Problem)> CheckAsync(
        RosterDb db, string orgId, Caller caller, OrgRequirement requirement, CancellationToken ct)
    {
        var organization = await FindOrganizationAsync(db, orgId, ct);
        if (organization is null) return (null, Problems.NotFound("No such organization is visible to you."));

        var membership = await db.Memberships.AsNoTracking().FirstOrDefaultAsync(m =>
            m.OrganizationId == organization.Id && m.UserId == caller.UserId &&
            m.Status == MembershipStatus.Active && m.DeletedAt == null, ct);
        var access = new OrgAccess(organization, membership, caller);

        var allowed = requirement switch
        {
            OrgRequirement.AnyUser => true,
            OrgRequirement.ActiveMember => access.IsMember,
            OrgRequirement.OwnerOrAdmin => access.IsOwnerOrAdmin,
            OrgRequirement.Owner => access.IsOwner,
            OrgRequirement.PlatformAdmin => access.IsPlatformAdmin,
            _ => false,
        };
        if (allowed) return (access, null);
        if (!access.IsMember && requirement != OrgRequirement.PlatformAdmin)
            return (null, Problems.NotFound("No such organization is visible to you."));
        return (null, Problems.Forbidden(requirement switch
        {
            OrgRequirement.Owner => "Only an owner of this organization may do this.",
            OrgRequirement.OwnerOrAdmin => "Only an owner or admin of this organization may do this.",
            _ => "Only a platform admin may do this.",
        }));
    }

    public static Task<Organization?> FindOrganizationAsync(RosterDb db, string orgId, CancellationToken ct)
    {
        if (Guid.TryParse(orgId, out var id))
            return db.Organizations.AsNoTracking().FirstOrDefaultAsync(o => o.Id == id && o.DeletedAt == null, ct);
        if (orgId.StartsWith("org_", StringComparison.Ordinal))
            return db.Organizations.AsNoTracking().FirstOrDefaultAsync(o => o.WorkosOrganizationId == orgId && o.DeletedAt == null, ct);
        return Task.FromResult<Organization?>(null);
    }
}
