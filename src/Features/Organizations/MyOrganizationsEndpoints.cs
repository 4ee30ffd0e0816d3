using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Roster.Features.WorkOsSync;
using Roster.Features.WebhookIngest;
using Roster.Infrastructure.Auth;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Http;
using Roster.Infrastructure.Http.OpenApi;
using Roster.Infrastructure.Memberships;
using Roster.Infrastructure.Seats;
using Roster.Infrastructure.WorkOs;

namespace Roster.Features.Organizations;

/// <summary>An organization the caller is an active member of: the Organization representation plus their role and membership.</summary>
public sealed record MyOrganizationView(Guid Id, string Name, string? WorkosOrganizationId, string? Plan, DateTime CreatedAt, string Role,
    Guid MembershipId);

/// <summary>The Organization representation plus the caller's role in it (null for a platform admin who is not a member).</summary>
public sealed record OrganizationDetailView(Guid Id, string Name, string? WorkosOrganizationId, string? Plan, DateTime CreatedAt, string? Role);

public sealed record RenameOrganizationRequest(
    [property: RequiredInBody, System.ComponentModel.Description("The new name: 1–200 characters, not blank, no control characters.")] string? Name);

public sealed class RenameOrganizationValidator : AbstractValidator<RenameOrganizationRequest>
{
    public RenameOrganizationValidator()
    {
        RuleFor(r => r.Name).ValidOrganizationName();
    }
}

/// <summary>
/// One audit row as the organization's owners and admins read it. <c>via</c> says how the change arrived: <c>api</c> (a
/// request to Roster), <c>webhook</c> (a WorkOS webhook) or <c>sync</c> (Roster's background work: the Events API sync,
/// the invitation expiry sweep).
/// </summary>
public sealed record AuditEntryView(Guid Id, DateTime At, string Action, Guid? ActorUserId, string? ActorName, Guid? SubjectUserId,
    string? SubjectEmail, Guid? MembershipId, string? OldRole, string? NewRole, string? OldStatus, string? NewStatus, string? Source, string Via);

/// <summary>
/// The organizations a signed-in person works with: theirs (GET /api/organizations), one of them (GET …/{orgId}), renaming
/// and deleting one (owners), and its membership history (owners and admins).
/// </summary>
public static class MyOrganizationsEndpoints
{
    public static IEndpointRouteBuilder MapMyOrganizations(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/organizations")
            .RequireAuthorization()
            .WithTags("Organizations")
            .ProducesProblem(StatusCodes.Status401Unauthorized);

        group.MapGet("/", ListMine)
            .WithName("ListMyOrganizations")
            .WithSummary("List my organizations")
            .WithDescription("The organizations where the caller is an active member, each with the caller's role and membership id; paged (?limit, ?after, Link rel=\"next\").");
        group.MapGet("/{orgId}", Get)
            .RequireOrgAccess(OrgRequirement.ActiveMember)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("GetOrganization")
            .WithSummary("Read an organization")
            .WithDescription("The organization and the caller's role in it (null for a platform admin who is not a member). Active members and platform admins.");
        group.MapPatch("/{orgId}", Rename)
            .WithValidation<RenameOrganizationRequest>()
            .RequireOrgAccess(OrgRequirement.Owner)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithRequestExample("rename", "Rename to Acme Labs", """{"name":"Acme Labs"}""")
            .WithName("RenameOrganization")
            .WithSummary("Rename an organization")
            .WithDescription("Owner. For an organization linked to WorkOS the new name is also written to WorkOS, through the outbox.");
        group.MapDelete("/{orgId}", Delete)
            .RequireOrgAccess(OrgRequirement.Owner)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .Answers(StatusCodes.Status409Conflict, "the organization is linked to WorkOS: delete it there", ErrorCodes.ManagedByWorkOs)
            .WithName("DeleteOrganization")
            .WithSummary("Delete an organization")
            .WithDescription("Owner. Tombstones the organization and its memberships (audited). 409 managed_by_workos for an organization linked to WorkOS: delete it there and its webhook follows.");
        group.MapGet("/{orgId}/audit", ListAudit)
            .RequireOrgAccess(OrgRequirement.OwnerOrAdmin)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("ListAudit")
            .WithSummary("Read an organization's membership history")
            .WithDescription("Owner or admin. Newest first; ?membershipId= and ?userId= (the member the change was made to) filter; paged.");
        return app;
    }

    private sealed record Mine(Guid Id, string Name, string? WorkosOrganizationId, string? Plan, DateTime CreatedAt, string Role, Guid MembershipId);

    public static async Task<Results<PagedOk<MyOrganizationView>, ProblemHttpResult>> ListMine(
        string? limit, string? after, Caller caller, RosterDb db, CancellationToken ct)
    {
        var (page, bad) = PageRequest.ByTimeAndId("organizations", limit, after);
        if (bad is not null) return bad;
        var (at, id) = page!.HasAfter ? (page.AfterTime(0), page.AfterId(1)) : (PageRequest.Start, Guid.Empty);
        var fetched = await (
                from m in db.Memberships.AsNoTracking()
                where m.UserId == caller.UserId && m.Status == MembershipStatus.Active && m.DeletedAt == null
                join o in db.Organizations.AsNoTracking() on m.OrganizationId equals o.Id
                where o.DeletedAt == null && (o.CreatedAt > at || (o.CreatedAt == at && o.Id > id))
                orderby o.CreatedAt, o.Id
                select new MyOrganizationView(o.Id, o.Name, o.WorkosOrganizationId, o.Plan, o.CreatedAt, m.Role, m.Id))
            .Take(page.Fetch).ToListAsync(ct);
        return page.Page(fetched, o => PageRequest.Key(o.CreatedAt, o.Id));
    }

    public static Results<Ok<OrganizationDetailView>, ProblemHttpResult> Get(string orgId, OrgAccess access)
    {
        var o = access.Organization;
        return TypedResults.Ok(new OrganizationDetailView(o.Id, o.Name, o.WorkosOrganizationId, o.Plan, o.CreatedAt, access.CallerMembership?.Role));
    }

    public static async Task<Results<Ok<OrganizationDetailView>, ProblemHttpResult>> Rename(
        string orgId, OrgAccess access, RenameOrganizationRequest request, Caller caller, RosterDb db, WorkOsOptions workos, TimeProvider clock, CancellationToken ct)
    {
        var organization = access.Organization;
        var name = request.Name!.Trim();
        var now = clock.GetUtcNow().UtcDateTime;

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // A name set here is newer than any WorkOS organization event still in flight: stamping the row makes those
        // stale, and the echo of this very write (later than now) still applies.
        var workosUpdatedAt = organization.WorkosOrganizationId is null ? organization.WorkosUpdatedAt : now;
        var renamed = await db.Organizations.Where(o => o.Id == organization.Id && o.DeletedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(o => o.Name, name).SetProperty(o => o.WorkosUpdatedAt, workosUpdatedAt)
                .SetProperty(o => o.UpdatedAt, now), ct);
        if (renamed == 0) return Problems.NotFound(OrgAccess.NotVisible);
        Audit.RecordOrganization(db, now, AuditActions.OrganizationRenamed, organization.Id, caller.UserId);
        OrganizationWrites.Renamed(db, workos, organization, now);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return TypedResults.Ok(new OrganizationDetailView(organization.Id, name, organization.WorkosOrganizationId, organization.Plan,
            organization.CreatedAt, access.CallerMembership?.Role));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Delete(
        string orgId, OrgAccess access, Caller caller, RosterDb db, SeatGate gate, TimeProvider clock, CancellationToken ct)
    {
        var organization = access.Organization;
        if (organization.WorkosOrganizationId is not null)
            return Problems.Conflict(ErrorCodes.ManagedByWorkOs,
                "This organization is managed in WorkOS: delete it there, and its organization.deleted webhook deletes it here.");

        var now = clock.GetUtcNow().UtcDateTime;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await gate.LockAsync(organization.Id, ct);
        var deleted = await db.Organizations.Where(o => o.Id == organization.Id && o.DeletedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(o => o.DeletedAt, now).SetProperty(o => o.UpdatedAt, now), ct);
        if (deleted == 0) return Problems.NotFound(OrgAccess.NotVisible);

        // Every live membership is tombstoned with its own audit row, so each member's history says how it ended.
        var live = await db.Memberships.AsNoTracking().Where(m => m.OrganizationId == organization.Id && m.DeletedAt == null).ToListAsync(ct);
        await db.Memberships.Where(m => m.OrganizationId == organization.Id && m.DeletedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.DeletedAt, now).SetProperty(m => m.UpdatedAt, now), ct);
        Audit.RecordOrganization(db, now, AuditActions.OrganizationDeleted, organization.Id, caller.UserId);
        foreach (var membership in live)
            Audit.Record(db, now, AuditActions.Removed, membership, caller.UserId, oldRole: membership.Role, oldStatus: membership.Status);
        await db.SeatReservations.Where(r => r.OrganizationId == organization.Id && r.ExpiresAt > now)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.ExpiresAt, now), ct);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return TypedResults.NoContent();
    }

    public static async Task<Results<PagedOk<AuditEntryView>, ProblemHttpResult>> ListAudit(
        string orgId, OrgAccess access, string? membershipId, string? userId, string? limit, string? after, RosterDb db, CancellationToken ct)
    {
        var (page, bad) = PageRequest.ByTimeAndId("audit", limit, after);
        if (bad is not null) return bad;
        var errors = new Dictionary<string, string[]>();
        Guid membership = default, user = default;
        if (membershipId is not null && !Guid.TryParse(membershipId, out membership)) errors["membershipId"] = ["membershipId is a membership id."];
        if (userId is not null && !Guid.TryParse(userId, out user)) errors["userId"] = ["userId is a Roster user id."];
        if (errors.Count > 0) return Problems.Validation(errors);

        var organizationId = access.Organization.Id;

        var rows = db.AuditEvents.AsNoTracking().Where(a => a.OrganizationId == organizationId);
        if (membershipId is not null) rows = rows.Where(a => a.MembershipId == membership);
        if (userId is not null) rows = rows.Where(a => a.SubjectUserId == user);
        if (page!.HasAfter)
        {
            var (at, id) = (page.AfterTime(0), page.AfterId(1));
            rows = rows.Where(a => a.At < at || (a.At == at && a.Id < id));
        }
        var fetched = await (
                from a in rows
                join actor in db.Users on a.ActorUserId equals actor.Id into actors
                from actor in actors.DefaultIfEmpty()
                join subject in db.Users on a.SubjectUserId equals subject.Id into subjects
                from subject in subjects.DefaultIfEmpty()
                orderby a.At descending, a.Id descending
                select new AuditEntryView(a.Id, a.At, a.Action, a.ActorUserId, actor == null ? null : actor.Name ?? actor.Email, a.SubjectUserId,
                    subject == null ? null : subject.Email, a.MembershipId, a.OldRole, a.NewRole, a.OldStatus, a.NewStatus, a.Source, a.Via))
            .Take(page.Fetch).ToListAsync(ct);
        return page.Page(fetched, a => PageRequest.Key(a.At, a.Id));
    }
}
