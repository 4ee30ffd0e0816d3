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

namespace Roster.Features.AcceptMembership;

/// <summary>
/// The invitee's side of an owner_add: only the invited user can turn it ACTIVE (consent), or decline it.
/// Every miss is a 404, so nobody learns whether someone else's invitation exists.
/// </summary>
public static class AcceptMembershipEndpoints
{
    public static IEndpointRouteBuilder MapAcceptMembership(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/membership-requests")
            .RequireAuthorization()
            .WithTags("Invitations");

        group.MapGet("/mine/pending", MyPendingInvitations).WithName("MyPendingInvitations")
            .WithSummary("My pending invitations")
            .WithDescription("Any signed-in user. The caller's own pending `owner_add` invitations, with the organization's name and who " +
                             "added them. Nobody can list anyone else's.");
        group.MapPut("/{membershipId:guid}/accept", Accept)
            .Answers(StatusCodes.Status404NotFound, "not a pending owner_add of the caller (someone else's invitation looks exactly like none)",
                ErrorCodes.NotFound)
            .WithName("AcceptInvitation")
            .WithSummary("Accept an invitation")
            .WithDescription("The invited user only. Turns the caller's pending `owner_add` membership ACTIVE — the only way one becomes " +
                             "active (consent). The seat was taken when they were added, so nothing is re-checked. Anyone else, the " +
                             "organization's owners included, gets 404.");
        group.MapDelete("/{membershipId:guid}", Decline)
            .Answers(StatusCodes.Status404NotFound, "not a pending invitation or join request of the caller", ErrorCodes.NotFound)
            .WithName("DeclineMembershipRequest")
            .WithSummary("Decline an invitation or withdraw a join request")
            .WithDescription("The invited user (or the requester) only. Declines the caller's pending `owner_add` invitation, or withdraws " +
                             "their own pending join request; the row is tombstoned and audited and its seat freed.");
        return app;
    }

    /// <summary>The caller's invitations still waiting for them (an expired one is gone from here at once).</summary>
    public static async Task<Results<PagedOk<InvitationView>, ProblemHttpResult>> MyPendingInvitations(
        string? limit, string? after, Caller caller, RosterDb db, TimeProvider clock, CancellationToken ct)
    {
        var (page, bad) = PageRequest.ByTimeAndId("mine-pending", limit, after);
        if (bad is not null) return bad;
        var fetched = await db.PendingInvitationsAsync(MembershipQueries.MinePage.For(caller.UserId, clock.GetUtcNow().UtcDateTime, page!), ct);
        return page!.Page(fetched, m => PageRequest.Key(m.CreatedAt, m.Id));
    }

    public static async Task<Results<Ok<MembershipView>, ProblemHttpResult>> Accept(
        Guid membershipId, Caller caller, RosterDb db, WorkOsOptions workos, TimeProvider clock, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // The seat was taken when the owner added them, so accepting re-checks nothing; the Where is the whole rule (an
        // expired invitation holds no seat any more, so it cannot be accepted: 404 like any other).
        var accepted = await db.Memberships
            .Where(m => m.Id == membershipId && m.UserId == caller.UserId
                        && db.Organizations.Any(o => o.Id == m.OrganizationId && o.DeletedAt == null))
            .Where(SeatHolding.LiveInvitationAt(now))
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.Status, MembershipStatus.Active).SetProperty(m => m.ExpiresAt, (DateTime?)null)
                .SetProperty(m => m.UpdatedAt, now), ct);
        if (accepted == 0) return Problems.NotFound("No such invitation is waiting for you.");

        var membership = await db.Memberships.AsNoTracking().SingleAsync(m => m.Id == membershipId, ct);
        Audit.Record(db, now, AuditActions.Accepted, membership, caller.UserId,
            oldRole: membership.Role, newRole: membership.Role, oldStatus: MembershipStatus.Pending, newStatus: MembershipStatus.Active);
        var organization = await db.Organizations.AsNoTracking().SingleAsync(o => o.Id == membership.OrganizationId, ct);
        OutboundWrites.MembershipActivated(db, workos, organization, membership, now);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return TypedResults.Ok(await db.ViewAsync(membershipId, ct));
    }

    /// <summary>Declines an invitation, or withdraws the caller's own join request; the row is tombstoned.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> Decline(
        Guid membershipId, Caller caller, RosterDb db, SeatGate gate, TimeProvider clock, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // A declined owner_add gives its seat back, so this goes through the seat gate like every seat change.
        var organization = await db.Memberships.Where(m => m.Id == membershipId && m.UserId == caller.UserId)
            .Join(db.Organizations, m => m.OrganizationId, o => o.Id, (m, o) => o).FirstOrDefaultAsync(ct);
        if (organization is null) return Problems.NotFound("No such pending membership of yours.");
        await gate.LockAsync(organization, ct);
        var removed = await db.Memberships
            .Where(m => m.Id == membershipId && m.UserId == caller.UserId && m.DeletedAt == null
                        && m.Status == MembershipStatus.Pending
                        && (m.Source == MembershipSource.OwnerAdd || m.Source == MembershipSource.JoinRequest))
            .Where(SeatHolding.NotExpiredAt(now))
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.DeletedAt, now).SetProperty(m => m.UpdatedAt, now), ct);
        if (removed == 0) return Problems.NotFound("No such pending membership of yours.");

        var membership = await db.Memberships.AsNoTracking().SingleAsync(m => m.Id == membershipId, ct);
        Audit.Record(db, now, membership.Source == MembershipSource.OwnerAdd ? AuditActions.Declined : AuditActions.Withdrawn,
            membership, caller.UserId, oldRole: membership.Role, oldStatus: MembershipStatus.Pending);
        await db.SaveChangesAsync(ct);
        await gate.ChangedAsync(organization, ct, membership.SeatType);
        await tx.CommitAsync(ct);
        return TypedResults.NoContent();
    }
}
