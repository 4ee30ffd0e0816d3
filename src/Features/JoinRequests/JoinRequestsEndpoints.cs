using System.ComponentModel;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
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
using static Roster.Infrastructure.Memberships.MembershipQueries;
using Roster.Infrastructure.WorkOs;

namespace Roster.Features.JoinRequests;

/// <summary>The optional body of an approval.</summary>
public sealed record ApproveRequest(
    [property: SeatTypeValue, Description("The seat type the new member gets; default the request's (Seats__DefaultSeatType).")] string? SeatType);

public sealed class ApproveRequestValidator : AbstractValidator<ApproveRequest>
{
    public ApproveRequestValidator(PlanCatalog plans)
    {
        RuleFor(r => r.SeatType).KnownSeatType(plans);
    }
}

/// <summary>
/// People asking to join, and owners/admins answering. Approval paths only ever see join requests (and legacy
/// pending rows with no source): an owner_add is the invitee's to accept, so here it is a 404.
/// </summary>
public static class JoinRequestsEndpoints
{
    public static IEndpointRouteBuilder MapJoinRequests(this IEndpointRouteBuilder app)
    {
        var org = app.MapGroup("/api/organizations/{orgId}/requests")
            .RequireAuthorization()
            .WithTags("Join requests")
            .Answers(StatusCodes.Status404NotFound, ErrorCodes.NotFound);

        org.MapPost("/", RequestToJoin)
            .Answers(StatusCodes.Status403Forbidden, "the caller's email is not verified", ErrorCodes.EmailNotVerified)
            .Answers(StatusCodes.Status409Conflict, "the caller is already a member, has a pending invitation here (accept it instead), or already has a pending join request (one at a time)",
                ErrorCodes.AlreadyMember, ErrorCodes.InvitationPending, ErrorCodes.JoinRequestPending)
            .WithName("RequestToJoin")
            .WithSummary("Ask to join an organization")
            .WithDescription("Any signed-in user whose email is verified. Creates a PENDING `join_request` that the organization's owners " +
                             "and admins approve or reject; it holds no seat until approved. One pending join request per user at a time.");
        org.MapGet("/", ListJoinRequests)
            .RequireOrgAccess(OrgRequirement.OwnerOrAdmin)
            .Answers(StatusCodes.Status403Forbidden, "the caller is a member but not an owner or admin", ErrorCodes.Forbidden)
            .WithName("ListJoinRequests")
            .WithSummary("List pending join requests")
            .WithDescription("Owners and admins of the organization (and platform admins). Pending join requests (source `join_request`, " +
                             "or no source: legacy rows). Pending `owner_add` invitations are not here: they are the invitee's to answer.");
        org.MapPut("/{membershipId:guid}/approve", Approve)
            .AddEndpointFilter<OptionalBodyValidation<ApproveRequest>>()
            .RequireOrgAccess(OrgRequirement.OwnerOrAdmin)
            .Answers(StatusCodes.Status403Forbidden, "the caller is a member but not an owner or admin", ErrorCodes.Forbidden)
            .Answers(StatusCodes.Status409Conflict, "the seat type is full", ErrorCodes.SeatLimitReached)
            .WithName("ApproveJoinRequest")
            .WithSummary("Approve a join request")
            .WithDescription("Owners and admins of the organization (and platform admins). Makes a pending join request ACTIVE, taking a " +
                             "seat (checked against the plan under the organization's seat lock). Anything that is not an owner-approvable " +
                             "pending row of this organization is 404 — an `owner_add` invitation included, which only its invitee can accept. " +
                             "The body is optional.")
            .WithRequestExample("seatType", "Approve onto a given seat type", """{"seatType":"contributor"}""")
            .WithRequestExample("empty", "Approve with the request's seat type", """{}""");
        org.MapPut("/{membershipId:guid}/reject", Reject)
            .RequireOrgAccess(OrgRequirement.OwnerOrAdmin)
            .Answers(StatusCodes.Status403Forbidden, "the caller is a member but not an owner or admin", ErrorCodes.Forbidden)
            .WithName("RejectJoinRequest")
            .WithSummary("Reject a join request")
            .WithDescription("Owners and admins of the organization (and platform admins). The pending join request is tombstoned and audited.");

        app.MapGroup("/api/membership-requests")
            .RequireAuthorization()
            .WithTags("Join requests")
            .MapGet("/mine", MyJoinRequests)
            .WithName("MyJoinRequests")
            .WithSummary("My pending join requests")
            .WithDescription("Any signed-in user. The caller's own pending join requests, with the organization's name.");
        return app;
    }

    public static async Task<Results<Created<MembershipView>, ProblemHttpResult>> RequestToJoin(
        string orgId, Caller caller, RosterDb db, SeatOptions seats, TimeProvider clock, CancellationToken ct)
    {
        var organization = await OrgAccess.FindOrganizationAsync(db, orgId, ct);
        if (organization is null) return Problems.NotFound("No such organization.");
        var now = clock.GetUtcNow().UtcDateTime;
        if (await JoinDecision.DecideAsync(db, organization.Id, caller, now, ct) is [var refused, ..]) return refused.ToProblem();

        var membership = new Membership
        {
            Id = Guid.CreateVersion7(),
            OrganizationId = organization.Id,
            UserId = caller.UserId,
            WorkosUserId = caller.WorkosUserId,
            Role = Roles.Member,
            Status = MembershipStatus.Pending,
            Source = MembershipSource.JoinRequest,
            SeatType = seats.DefaultSeatType,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Memberships.Add(membership);
        Audit.Record(db, now, AuditActions.Requested, membership, caller.UserId, newRole: Roles.Member, newStatus: MembershipStatus.Pending);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        if (!await db.TryCommitAsync(tx, async () =>
            {
                await InactiveMemberships.RetireAsync(db, organization.Id, caller.UserId, now, ct);
                await InvitationExpiry.EndExpiredAsync(db, now, AuditVia.Api, organization.Id, caller.UserId, ct);
            }, ct))
        {
            // A concurrent request won the race; the unique indexes are the backstop, this names what they saw.
            return await JoinDecision.ConflictAsync(db, organization.Id, caller.UserId, now, ct) is { } conflict
                ? conflict.ToProblem()
                : Problems.Conflict(ErrorCodes.JoinRequestPending, "You already have a pending join request.");
        }
        return TypedResults.Created($"/api/organizations/{organization.Id}/requests/{membership.Id}", await db.ViewAsync(membership.Id, ct));
    }

    public static async Task<Results<PagedOk<MembershipView>, ProblemHttpResult>> ListJoinRequests(
        string orgId, OrgAccess access, string? limit, string? after, RosterDb db, CancellationToken ct)
    {
        var (page, bad) = PageRequest.ByTimeAndId("requests", limit, after);
        if (bad is not null) return bad;
        var organizationId = access.Organization.Id;
        var rows = db.Memberships.AsNoTracking().Where(OwnerApprovable(organizationId));
        if (page!.HasAfter)
        {
            var (at, id) = (page.AfterTime(0), page.AfterId(1));
            rows = rows.Where(m => m.CreatedAt > at || (m.CreatedAt == at && m.Id > id));
        }
        var fetched = await db.Views(rows).Take(page.Fetch).ToListAsync(ct);
        return page.Page(fetched, m => PageRequest.Key(m.CreatedAt, m.Id));
    }

    /// <summary>A pending row an owner/admin may answer: a join request, or a legacy row that never recorded a source.</summary>
    private static System.Linq.Expressions.Expression<Func<Membership, bool>> OwnerApprovable(Guid organizationId) =>
        m => m.OrganizationId == organizationId && m.DeletedAt == null && m.Status == MembershipStatus.Pending
             && (m.Source == MembershipSource.JoinRequest || m.Source == null);

    public static async Task<Results<Ok<MembershipView>, ProblemHttpResult>> Approve(
        string orgId, OrgAccess access, Guid membershipId, [FromBody] ApproveRequest? request, Caller caller, RosterDb db, SeatGate gate,
        WorkOsOptions workos, TimeProvider clock, CancellationToken ct)
    {
        var organization = access.Organization;
        var now = clock.GetUtcNow().UtcDateTime;

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await gate.LockAsync(organization, ct);
        var pending = await db.Memberships.AsNoTracking().Where(OwnerApprovable(organization.Id))
            .FirstOrDefaultAsync(m => m.Id == membershipId, ct);
        if (pending is null) return Problems.NotFound("No such join request in this organization.");

        var seatType = request?.SeatType ?? pending.SeatType;
        var seat = await gate.TryTakeAsync(organization, seatType, SeatGates.Approve, ct);
        if (seat.Refused is { } noSeat) return noSeat;

        var approved = await db.Memberships.Where(OwnerApprovable(organization.Id)).Where(m => m.Id == membershipId)
            .ExecuteUpdateAsync(s => s
                .SetProperty(m => m.Status, MembershipStatus.Active)
                .SetProperty(m => m.Source, MembershipSource.JoinRequest)
                .SetProperty(m => m.SeatType, seatType)
                .SetProperty(m => m.UpdatedAt, now), ct);
        if (approved == 0) return Problems.NotFound("No such join request in this organization.");

        var requestedSeatType = pending.SeatType; // the change's "previous" is the request as it was
        pending.Source = MembershipSource.JoinRequest;
        pending.Status = MembershipStatus.Active;
        pending.SeatType = seatType;
        OutboundWrites.MembershipActivated(db, workos, organization, pending, now);
        Audit.Record(db, now, AuditActions.Approved, pending, caller.UserId,
            oldRole: pending.Role, newRole: pending.Role, oldStatus: MembershipStatus.Pending, newStatus: MembershipStatus.Active,
            oldSeatType: requestedSeatType);
        await seat.TakenAsync(ct);
        await tx.CommitAsync(ct);
        return TypedResults.Ok(await db.ViewAsync(membershipId, ct));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Reject(
        string orgId, OrgAccess access, Guid membershipId, Caller caller, RosterDb db, SeatGate gate, TimeProvider clock, CancellationToken ct)
    {
        var organization = access.Organization;
        var organizationId = organization.Id;
        var now = clock.GetUtcNow().UtcDateTime;

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await gate.LockAsync(organization, ct);
        var pending = await db.Memberships.AsNoTracking().Where(OwnerApprovable(organizationId))
            .FirstOrDefaultAsync(m => m.Id == membershipId, ct);
        if (pending is null) return Problems.NotFound("No such join request in this organization.");
        var rejected = await db.Memberships.Where(OwnerApprovable(organizationId)).Where(m => m.Id == membershipId)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.DeletedAt, now).SetProperty(m => m.UpdatedAt, now), ct);
        if (rejected == 0) return Problems.NotFound("No such join request in this organization.");

        Audit.Record(db, now, AuditActions.Rejected, pending, caller.UserId, oldRole: pending.Role, oldStatus: MembershipStatus.Pending);
        await db.SaveChangesAsync(ct);
        await gate.ChangedAsync(organization, ct, pending.SeatType);
        await tx.CommitAsync(ct);
        return TypedResults.NoContent();
    }

    public static async Task<Results<PagedOk<InvitationView>, ProblemHttpResult>> MyJoinRequests(
        string? limit, string? after, Caller caller, RosterDb db, TimeProvider clock, CancellationToken ct)
    {
        var (page, bad) = PageRequest.ByTimeAndId("mine", limit, after);
        if (bad is not null) return bad;
        var fetched = await db.PendingJoinRequestsAsync(MinePage.For(caller.UserId, clock.GetUtcNow().UtcDateTime, page!), ct);
        return page!.Page(fetched, m => PageRequest.Key(m.CreatedAt, m.Id));
    }
}

/// <summary>
/// The rules of asking to join, in one place: the request answers the first refusal; preflight runs the same code and
/// lists every one.
/// </summary>
public static class JoinDecision
{
    public static async Task<IReadOnlyList<Refusal>> DecideAsync(RosterDb db, Guid organizationId, Caller caller, DateTime now, CancellationToken ct)
    {
        var refusals = new List<Refusal>();
        if (!caller.EmailVerified)
            refusals.Add(new Refusal(StatusCodes.Status403Forbidden, ErrorCodes.EmailNotVerified,
                "Verify your email address before asking to join an organization."));
        if (await ConflictAsync(db, organizationId, caller.UserId, now, ct) is { } conflict) refusals.Add(conflict);
        return refusals;
    }

    /// <summary>What the caller already has here (or elsewhere: one pending join request per user); an expired invitation is nothing.</summary>
    public static async Task<Refusal?> ConflictAsync(RosterDb db, Guid organizationId, Guid userId, DateTime now, CancellationToken ct)
    {
        var here = await db.Memberships.AsNoTracking()
            .Where(m => m.OrganizationId == organizationId && m.UserId == userId && m.DeletedAt == null)
            .Where(SeatHolding.NotExpiredAt(now))
            .Select(m => new { m.Status, m.Source })
            .FirstOrDefaultAsync(ct);
        if (here is not null && here.Status != MembershipStatus.Inactive)
        {
            return here.Status == MembershipStatus.Active
                ? new Refusal(StatusCodes.Status409Conflict, ErrorCodes.AlreadyMember, "You are already a member of this organization.")
                : here.Source == MembershipSource.OwnerAdd
                    ? new Refusal(StatusCodes.Status409Conflict, ErrorCodes.InvitationPending,
                        "You have a pending invitation to this organization; accept it instead.")
                    : new Refusal(StatusCodes.Status409Conflict, ErrorCodes.JoinRequestPending, "You already asked to join this organization.");
        }

        var elsewhere = await db.Memberships.AnyAsync(m => m.UserId == userId && m.DeletedAt == null
                                                           && m.Status == MembershipStatus.Pending && m.Source == MembershipSource.JoinRequest, ct);
        return elsewhere
            ? new Refusal(StatusCodes.Status409Conflict, ErrorCodes.JoinRequestPending,
                "You already have a pending join request; withdraw it or wait for an answer first.")
            : null;
    }
}
