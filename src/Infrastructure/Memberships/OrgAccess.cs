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

/// <summary>
/// The organization a request addresses, and what the caller is in it. A handler takes it as a parameter (bound like
/// <see cref="Caller"/>) on a route that declares what it needs with <see cref="OrgAccessRoutes.RequireOrgAccess{TBuilder}(TBuilder, OrgRequirement)"/>:
/// the route's filter runs <see cref="CheckAsync"/> after the body is validated and before the handler, answers the
/// refusal itself, and hands the handler the checked access — so no handler checks access by hand.
/// </summary>
public sealed class OrgAccess
{
    private readonly Organization? _organization;
    private readonly Caller? _caller;

    public OrgAccess(Organization organization, Membership? callerMembership, Caller caller)
    {
        _organization = organization;
        CallerMembership = callerMembership;
        _caller = caller;
    }

    private OrgAccess() { }

    /// <summary>What binding hands the handler until the route's filter replaces it with the checked access.</summary>
    internal static readonly OrgAccess Unchecked = new();

    public Organization Organization => _organization ?? throw NotChecked();
    public Membership? CallerMembership { get; }
    public Caller Caller => _caller ?? throw NotChecked();

    public bool IsPlatformAdmin => Caller.IsPlatformAdmin;
    public bool IsOwner => IsPlatformAdmin || CallerMembership?.Role == Roles.Owner;
    public bool IsOwnerOrAdmin => IsPlatformAdmin || CallerMembership is { Role: Roles.Owner or Roles.Admin };
    public bool IsMember => IsPlatformAdmin || CallerMembership is not null;

    private static InvalidOperationException NotChecked() =>
        new("Organization access was not checked for this request: the route must declare RequireOrgAccess(...).");

    /// <summary>
    /// Binding only hands out <see cref="Unchecked"/> (the filter runs after binding); a route that takes an
    /// <see cref="OrgAccess"/> without declaring its requirement is a programming error, refused here.
    /// </summary>
    public static ValueTask<OrgAccess?> BindAsync(HttpContext http) =>
        http.GetEndpoint()?.Metadata.GetMetadata<OrgAccessRequirement>() is null
            ? throw new InvalidOperationException($"{http.GetEndpoint()?.DisplayName} takes OrgAccess but does not declare RequireOrgAccess(...).")
            : ValueTask.FromResult<OrgAccess?>(Unchecked);

    public const string NotVisible = "No such organization is visible to you.";

    /// <summary>
    /// Resolves {orgId} (Roster id or WorkOS org_ id) and checks the caller may do what <paramref name="requirement"/>
    /// says. Someone with no membership gets 404 (the org is not visible to them); a member without the right gets 403.
    /// </summary>
    public static async Task<(OrgAccess? Access, ProblemHttpResult? Problem)> CheckAsync(
        RosterDb db, string orgId, Caller caller, OrgRequirement requirement, CancellationToken ct)
    {
        // A WorkOS org_ id costs one more round trip (to the Roster id); the API's own links use the Roster id.
        var id = Guid.TryParse(orgId, out var parsed) ? parsed : (await FindOrganizationAsync(db, orgId, ct))?.Id;
        var found = id is null ? null : await WithCallerMembership.For(db)(db, id.Value, caller.UserId);
        if (found is null) return (null, Problems.NotFound(NotVisible));
        var (organization, membership) = (found.Organization, found.CallerMembership);

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
            return (null, Problems.NotFound(NotVisible));
        return (null, Problems.Forbidden(requirement switch
        {
            OrgRequirement.Owner => "Only an owner of this organization may do this.",
            OrgRequirement.OwnerOrAdmin => "Only an owner or admin of this organization may do this.",
            _ => "Only a platform admin may do this.",
        }));
    }

    public static Task<Organization?> FindOrganizationAsync(RosterDb db, string orgId, CancellationToken ct)
    {
        var live = db.Organizations.AsNoTracking().Where(o => o.DeletedAt == null);
        if (Guid.TryParse(orgId, out var id)) return live.FirstOrDefaultAsync(o => o.Id == id, ct);
        if (orgId.StartsWith("org_", StringComparison.Ordinal)) return live.FirstOrDefaultAsync(o => o.WorkosOrganizationId == orgId, ct);
        return Task.FromResult<Organization?>(null);
    }

    private sealed record Found(Organization Organization, Membership? CallerMembership);

    // One round trip for both: the live organization and the caller's active membership in it (at most one, by the
    // partial unique index). Compiled, because every organization-scoped request starts here.
    private static readonly PerModelQuery<Func<RosterDb, Guid, Guid, Task<Found?>>> WithCallerMembership = new(() =>
        EF.CompileAsyncQuery((RosterDb db, Guid id, Guid userId) =>
            (from o in db.Organizations.AsNoTracking()
             where o.Id == id && o.DeletedAt == null
             join m in db.Memberships.AsNoTracking().Where(m => m.UserId == userId && m.Status == MembershipStatus.Active && m.DeletedAt == null)
                 on o.Id equals m.OrganizationId into ms
             from m in ms.DefaultIfEmpty()
             select new Found(o, m)).FirstOrDefault()));
}
