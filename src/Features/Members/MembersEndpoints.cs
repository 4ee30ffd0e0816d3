using System.ComponentModel;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Roster.Features.WorkOsSync;
using Roster.Features.WebhookIngest;
using Roster.Features.AddMember;
using Roster.Infrastructure.Auth;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Http;
using Roster.Infrastructure.Http.OpenApi;
using Roster.Infrastructure.Memberships;
using Roster.Infrastructure.Seats;
using Roster.Infrastructure.WorkOs;

namespace Roster.Features.Members;

/// <summary>Give a role, a seat type, or both. There is no status: nothing here can activate a pending invitation.</summary>
[AtLeastOneOf("role", "seatType")]
public sealed record UpdateMemberRequest(
    [property: RoleValue, Description("The new role (owners only).")] string? Role,
    [property: SeatTypeValue, Description("The new seat type (owners and admins); checked against the plan's limit.")] string? SeatType);

public sealed record SearchHit(Guid UserId, [property: Description("Lowercased.")] string Email, string? Name);

public sealed class UpdateMemberValidator : AbstractValidator<UpdateMemberRequest>
{
    public UpdateMemberValidator(PlanCatalog plans)
    {
        RuleFor(r => r).Must(r => r.Role is not null || r.SeatType is not null)
            .WithName("body").WithMessage("Give a role, a seatType, or both.");
        RuleFor(r => r.Role).RoleOrSlug();
        RuleFor(r => r.SeatType).KnownSeatType(plans);
    }
}

/// <summary>
/// The members of an organization: list, exact-email search, role and seat-type changes, removal, leaving.
/// Every change that could touch the owner count runs under the organization's lock, so two owners demoting
/// each other at once cannot leave the org with none.
/// </summary>
public static class MembersEndpoints
{
    public const string SearchRateLimit = "member-search";

    public static IEndpointRouteBuilder MapMembers(this IEndpointRouteBuilder app)
    {
        var org = app.MapGroup("/api/organizations/{orgId}")
            .RequireAuthorization()
            .WithTags("Members")
            .Answers(StatusCodes.Status404NotFound, ErrorCodes.NotFound);

        org.MapGet("/members", ListMembers).WithName("ListMembers")
            .RequireOrgAccessWhenNothingListed(OrgRequirement.ActiveMember)
            .WithSummary("List members")
            .WithDescription("Active members of the organization (and platform admins). Active memberships and pending `owner_add` " +
                             "invitations, oldest first; join requests are listed separately. Anyone else gets 404, as for an organization " +
                             "that does not exist.");
        org.MapGet("/members/search", SearchByEmail)
            .RequireOrgAccess(OrgRequirement.OwnerOrAdmin)
            .RequireRateLimiting(SearchRateLimit)
            .WithParameterDoc("email", "The exact email address (trimmed and compared case-insensitively); no partial matches.",
                required: true, example: "bob@example.com")
            .Answers(StatusCodes.Status403Forbidden, "the caller is a member but not an owner or admin", ErrorCodes.Forbidden)
            .Answers(StatusCodes.Status404NotFound, "no such organization visible to the caller (not_found), or no user has exactly this email (user_not_found)",
                ErrorCodes.NotFound, ErrorCodes.UserNotFound)
            .WithName("SearchUserByEmail")
            .WithSummary("Find a user by exact email")
            .WithDescription("Owners and admins of the organization (and platform admins). Looks up one user by exact email, to add them; " +
                             "rate-limited per caller (RateLimits__MemberSearchPerMinute, default 30 a minute) so it cannot enumerate who " +
                             "uses the product.");
        org.MapPatch("/members/{membershipId:guid}", UpdateMember)
            .WithValidation<UpdateMemberRequest>()
            .RequireOrgAccess(OrgRequirement.OwnerOrAdmin)
            .Answers(StatusCodes.Status403Forbidden, "an admin changing a role (forbidden; role_escalation when the new role is admin or owner), or a plain member",
                ErrorCodes.Forbidden, ErrorCodes.RoleEscalation)
            .Answers(StatusCodes.Status409Conflict, "demoting the last active owner, or a seat type that is full",
                ErrorCodes.LastOwner, ErrorCodes.SeatLimitReached)
            .WithName("UpdateMember")
            .WithSummary("Change a member's role or seat type")
            .WithDescription("Owners change roles; owners and admins change seat types (platform admins both). Works on active members and " +
                             "pending invitations alike and never changes status, so it cannot activate an invitation. The last active " +
                             "owner cannot be demoted (409 last_owner). A new seat type is checked against the plan's limit.")
            .WithRequestExample("role", "Make them an admin", """{"role":"admin"}""")
            .WithRequestExample("seatType", "Move them to another seat type", """{"seatType":"community_only"}""");
        org.MapDelete("/members/{membershipId:guid}", RemoveMember)
            .RequireOrgAccess(OrgRequirement.OwnerOrAdmin)
            .Answers(StatusCodes.Status403Forbidden, "a plain member, or an admin removing an admin or owner", ErrorCodes.Forbidden)
            .Answers(StatusCodes.Status409Conflict, "removing the last active owner", ErrorCodes.LastOwner)
            .WithName("RemoveMember")
            .WithSummary("Remove a member or cancel an invitation")
            .WithDescription("Owners remove anyone; admins remove members only (platform admins anyone). The row is tombstoned and audited; " +
                             "cancelling a pending owner_add is allowed and frees its seat. The last active owner cannot be removed.");
        org.MapPost("/members/{membershipId:guid}/renew", RenewInvitation)
            .RequireOrgAccess(OrgRequirement.OwnerOrAdmin)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .WithName("RenewInvitation")
            .WithSummary("Renew a pending invitation")
            .WithDescription("Gives a pending owner_add that has not expired a new expiry (Invitations__ExpireAfterDays from now); its seat stays held. Owner or admin (an admin renews invitations to the member role only).");
        org.MapPost("/leave", Leave)
            .Answers(StatusCodes.Status409Conflict, "the caller is the last active owner", ErrorCodes.LastOwner)
            .WithName("LeaveOrganization")
            .WithSummary("Leave an organization")
            .WithDescription("Active members. Ends the caller's own membership (tombstoned, audited); the last active owner cannot leave " +
                             "(make someone else an owner first).");
        return app;
    }

    /// <summary>The members the list shows and the member routes act on: those holding a seat (<see cref="SeatHolding"/>).</summary>
    private static IQueryable<Membership> Listed(RosterDb db, Guid organizationId, DateTime now) =>
        db.Memberships.Where(SeatHolding.At(now)).Where(m => m.OrganizationId == organizationId);

    public static async Task<Results<PagedOk<MembershipView>, ProblemHttpResult>> ListMembers(
        string orgId, string? limit, string? after, string? status, string? role, string? seatType, Caller caller, RosterDb db,
        TimeProvider clock, CancellationToken ct)
    {
        var (page, bad) = PageRequest.ByTimeAndId("members", limit, after);
        if (bad is not null) return bad;
        var errors = new Dictionary<string, string[]>();
        if (status is not null && status is not (MembershipStatus.Active or MembershipStatus.Pending))
            errors["status"] = ["status is active or pending."];
        if (role is not null && !RoleSlug.IsValid(role)) errors["role"] = ["role is owner, admin, member or a role slug."];
        if (seatType is not null && !RoleSlug.IsValid(seatType)) errors["seatType"] = ["seatType is a seat type such as contributor."];
        if (errors.Count > 0) return Problems.Validation(errors);

        // The hottest read, so one round trip: the statement itself lists only for an active member (or a platform admin),
        // which is the route's OrgRequirement.ActiveMember. The route looks again only when the page is empty, to tell
        // "nothing here" from "not visible" (RequireOrgAccessWhenNothingListed): anyone who may not see the list gets the
        // same 404 as for an organization that does not exist.
        var organizationId = Guid.TryParse(orgId, out var id) ? id : (await OrgAccess.FindOrganizationAsync(db, orgId, ct))?.Id;
        var members = organizationId is null
            ? []
            : await db.ListedMembersAsync(new MembershipQueries.MembersPage(organizationId.Value, caller.UserId, caller.IsPlatformAdmin,
                clock.GetUtcNow().UtcDateTime, page!.HasAfter ? page.AfterTime(0) : PageRequest.Start, page.HasAfter ? page.AfterId(1) : Guid.Empty,
                status, role, seatType, page.Fetch), ct);
        return page!.Page(members, m => PageRequest.Key(m.CreatedAt, m.Id));
    }

    /// <summary>A pending owner_add that has not expired gets a new expiry; its seat stays held all along.</summary>
    public static async Task<Results<Ok<MembershipView>, ProblemHttpResult>> RenewInvitation(
        string orgId, OrgAccess access, Guid membershipId, Caller caller, RosterDb db, InvitationOptions invitations, TimeProvider clock, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var invitation = await db.Memberships.AsNoTracking().Where(SeatHolding.LiveInvitationAt(now))
            .FirstOrDefaultAsync(m => m.Id == membershipId && m.OrganizationId == access.Organization.Id, ct);
        if (invitation is null) return Problems.NotFound("No such pending invitation in this organization (an expired one cannot be renewed; add the person again).");
        if (!access.IsOwner && Roles.IsManager(invitation.Role))
            return Problems.Forbidden("An admin may renew invitations to the member role only; ask an owner.");

        var expiresAt = invitations.ExpiryFrom(now);
        var renewed = await db.Memberships.Where(m => m.Id == invitation.Id).Where(SeatHolding.LiveInvitationAt(now))
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.ExpiresAt, expiresAt).SetProperty(m => m.UpdatedAt, now), ct);
        if (renewed == 0) return Problems.NotFound("No such pending invitation in this organization.");
        invitation.ExpiresAt = expiresAt; // the change publishes the invitation as renewed (the row read is not tracked)
        Audit.Record(db, now, AuditActions.Renewed, invitation, caller.UserId,
            oldRole: invitation.Role, newRole: invitation.Role, oldStatus: invitation.Status, newStatus: invitation.Status);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return TypedResults.Ok(await db.ViewAsync(invitation.Id, ct));
    }

    public static async Task<Results<Ok<SearchHit>, ProblemHttpResult>> SearchByEmail(
        string orgId, OrgAccess access, string? email, RosterDb db, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(email) || email.Length > 320)
            return Problems.Validation("email", "Give the exact email address to look up.");

        var normalized = User.NormalizeEmail(email);
        var hit = await db.Users.AsNoTracking()
            .Where(u => u.Email == normalized && u.DeletedAt == null)
            .Select(u => new SearchHit(u.Id, u.Email, u.Name))
            .FirstOrDefaultAsync(ct);
        return hit is null
            ? Problems.Of(StatusCodes.Status404NotFound, ErrorCodes.UserNotFound, "Not found.", "No user has exactly this email address.")
            : TypedResults.Ok(hit);
    }

    public static async Task<Results<Ok<MembershipView>, ProblemHttpResult>> UpdateMember(
        string orgId, OrgAccess access, Guid membershipId, UpdateMemberRequest request, Caller caller, RosterDb db, SeatGate gate,
        WorkOsOptions workos, TimeProvider clock, CancellationToken ct)
    {
        if (request.Role is not null && !access.IsOwner)
        {
            return Roles.IsManager(request.Role)
                ? Problems.Of(StatusCodes.Status403Forbidden, ErrorCodes.RoleEscalation, "Forbidden.",
                    "Only an owner or a platform admin may grant the admin or owner role.")
                : Problems.Forbidden("Only an owner of this organization may change roles.");
        }
        var organization = access.Organization;
        var now = clock.GetUtcNow().UtcDateTime;

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await gate.LockAsync(organization, ct);
        var membership = await Listed(db, organization.Id, now).AsNoTracking().FirstOrDefaultAsync(m => m.Id == membershipId, ct);
        if (membership is null) return Problems.NotFound("No such member in this organization.");

        var role = request.Role ?? membership.Role;
        var seatType = request.SeatType ?? membership.SeatType;
        if (membership.Role == Roles.Owner && role != Roles.Owner && membership.Status == MembershipStatus.Active
            && await IsLastActiveOwnerAsync(db, organization.Id, ct))
            return LastOwner();

        // A new seat type is a new seat of it (the old one is given back); a role change alone takes none.
        SeatDecision? seat = null;
        if (seatType != membership.SeatType)
        {
            seat = await gate.TryTakeAsync(organization, seatType, SeatGates.UpdateMember, ct);
            if (seat.Refused is { } noSeat) return noSeat;
        }

        // Status is deliberately absent: no role or seat change can activate a pending invitation.
        // workos_updated_at is left alone: it holds WorkOS's clock, never this one. The role change reaches WorkOS through
        // the outbound write, and WorkOS's echo of it (newer than anything it sent before) confirms it here.
        await db.Memberships.Where(m => m.Id == membership.Id && m.DeletedAt == null)
            .ExecuteUpdateAsync(s => s
                .SetProperty(m => m.Role, role)
                .SetProperty(m => m.SeatType, seatType)
                .SetProperty(m => m.UpdatedAt, now), ct);
        if (role != membership.Role)
        {
            // One PATCH of role and seat type is two changes in this order: the role first (seat type as it was), then the
            // seat type from the new role — each change's "previous" is the membership of the change before it.
            Audit.Record(db, now, AuditActions.RoleChanged, membership, caller.UserId,
                oldRole: membership.Role, newRole: role, oldStatus: membership.Status, newStatus: membership.Status);
            OutboundWrites.RoleChanged(db, workos, organization, membership, now);
        }
        if (seatType != membership.SeatType)
            Audit.Record(db, now, AuditActions.SeatTypeChanged, membership, caller.UserId,
                oldRole: role, newRole: role, oldStatus: membership.Status, newStatus: membership.Status,
                oldSeatType: membership.SeatType, newSeatType: seatType);
        await db.SaveChangesAsync(ct);
        if (seat is not null) await seat.TakenAsync(ct, alsoFreed: membership.SeatType);
        await tx.CommitAsync(ct);
        return TypedResults.Ok(await db.ViewAsync(membership.Id, ct));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> RemoveMember(
        string orgId, OrgAccess access, Guid membershipId, Caller caller, RosterDb db, SeatGate gate, WorkOsOptions workos,
        TimeProvider clock, CancellationToken ct)
    {
        var organization = access.Organization;

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await gate.LockAsync(organization, ct);
        var membership = await Listed(db, organization.Id, clock.GetUtcNow().UtcDateTime).AsNoTracking().FirstOrDefaultAsync(m => m.Id == membershipId, ct);
        if (membership is null) return Problems.NotFound("No such member in this organization.");
        if (!access.IsOwner && Roles.IsManager(membership.Role))
            return Problems.Forbidden("An admin may remove members only; ask an owner to remove an admin or owner.");

        if (await TombstoneAsync(db, membership, caller, AuditActions.Removed, clock, ct) is { } refused) return refused;
        OutboundWrites.MembershipRemoved(db, workos, organization, membership, clock.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync(ct);
        await gate.ChangedAsync(organization, ct, membership.SeatType);
        await tx.CommitAsync(ct);
        return TypedResults.NoContent();
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Leave(
        string orgId, Caller caller, RosterDb db, SeatGate gate, WorkOsOptions workos, TimeProvider clock,
        CancellationToken ct)
    {
        var organization = await OrgAccess.FindOrganizationAsync(db, orgId, ct);
        if (organization is null) return Problems.NotFound("No such organization is visible to you.");

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await gate.LockAsync(organization, ct);
        var membership = await db.Memberships.AsNoTracking().FirstOrDefaultAsync(m =>
            m.OrganizationId == organization.Id && m.UserId == caller.UserId && m.DeletedAt == null
            && m.Status == MembershipStatus.Active, ct);
        if (membership is null) return Problems.NotFound("You are not a member of this organization.");

        if (await TombstoneAsync(db, membership, caller, AuditActions.Left, clock, ct) is { } refused) return refused;
        OutboundWrites.MembershipRemoved(db, workos, organization, membership, clock.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync(ct);
        await gate.ChangedAsync(organization, ct, membership.SeatType);
        await tx.CommitAsync(ct);
        return TypedResults.NoContent();
    }

    private static async Task<ProblemHttpResult?> TombstoneAsync(
        RosterDb db, Membership membership, Caller caller, string action, TimeProvider clock, CancellationToken ct)
    {
        if (membership.Role == Roles.Owner && membership.Status == MembershipStatus.Active
            && await IsLastActiveOwnerAsync(db, membership.OrganizationId, ct))
            return LastOwner();

        var now = clock.GetUtcNow().UtcDateTime;
        var removed = await db.Memberships.Where(m => m.Id == membership.Id && m.DeletedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.DeletedAt, now).SetProperty(m => m.UpdatedAt, now), ct);
        if (removed == 0) return Problems.NotFound("No such member in this organization.");
        Audit.Record(db, now, action, membership, caller.UserId, oldRole: membership.Role, oldStatus: membership.Status);
        await db.SaveChangesAsync(ct);
        return null;
    }

    private static async Task<bool> IsLastActiveOwnerAsync(RosterDb db, Guid organizationId, CancellationToken ct) =>
        await db.Memberships.CountAsync(m => m.OrganizationId == organizationId && m.DeletedAt == null
                                             && m.Status == MembershipStatus.Active && m.Role == Roles.Owner, ct) <= 1;

    private static ProblemHttpResult LastOwner() =>
        Problems.Conflict(ErrorCodes.LastOwner, "The organization's last active owner cannot be demoted, removed or leave; make someone else an owner first.");
}
