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

namespace Roster.Features.Ownership;

/// <summary>An open offer of ownership, as the offered member (and the offering owner) see it.</summary>
public sealed record OwnershipOfferView(Guid MembershipId, Guid OrganizationId, string OrganizationName, Guid? UserId,
    Guid OfferedByMembershipId, Guid? OfferedByUserId, string? OfferedByName, DateTime OfferedAt, DateTime CreatedAt);

/// <summary>
/// Ownership changes hands only with the new owner's consent, like an invitation: an owner offers ownership to an active
/// member and nothing changes until that member accepts — then they become an owner and the offering owner an admin,
/// in one transaction, audited. The offering owner (or any owner) may withdraw the offer; the member may decline it.
/// An offer whose owner is no longer an active owner when it is accepted is void (404).
/// </summary>
public static class OwnershipTransferEndpoints
{
    public static IEndpointRouteBuilder MapOwnershipTransfer(this IEndpointRouteBuilder app)
    {
        var org = app.MapGroup("/api/organizations/{orgId}/members/{membershipId:guid}/ownership-offer")
            .RequireAuthorization()
            .WithTags("Ownership")
            .RequireOrgAccess(OrgRequirement.Owner)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);
        org.MapPost("/", Offer)
            .Answers(StatusCodes.Status409Conflict, "the member is already an owner", ErrorCodes.AlreadyOwner)
            .WithName("OfferOwnership")
            .WithSummary("Offer ownership to a member")
            .WithDescription("An owner offers ownership to an active member; nothing changes until they accept. 409 already_owner for an owner.");
        org.MapDelete("/", Withdraw)
            .WithName("WithdrawOwnershipOffer")
            .WithSummary("Withdraw an ownership offer")
            .WithDescription("Any owner withdraws the open offer made to this member.");

        var mine = app.MapGroup("/api/membership-requests")
            .RequireAuthorization()
            .WithTags("Ownership")
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        mine.MapGet("/mine/ownership-offers", MyOffers)
            .ProducesValidationProblem()
            .WithName("MyOwnershipOffers")
            .WithSummary("List the ownership offers made to me")
            .WithDescription("Open offers of ownership to the caller, with the organization and the offering owner; paged.");
        mine.MapPut("/{membershipId:guid}/ownership-offer/accept", Accept)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("AcceptOwnershipOffer")
            .WithSummary("Accept an ownership offer")
            .WithDescription("The offered member (membershipId is their membership) becomes an owner; the offering owner becomes an admin.");
        mine.MapDelete("/{membershipId:guid}/ownership-offer", Decline)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("DeclineOwnershipOffer")
            .WithSummary("Decline an ownership offer")
            .WithDescription("The offered member declines; nothing else changes.");
        return app;
    }

    public static async Task<Results<Ok<OwnershipOfferView>, ProblemHttpResult>> Offer(
        string orgId, OrgAccess access, Guid membershipId, Caller caller, RosterDb db, SeatGate gate, TimeProvider clock, CancellationToken ct)
    {
        // Ownership passes from one owner to another: the offer needs an owner who can step down to admin.
        if (access.CallerMembership is not { Role: Roles.Owner } offerer)
            return Problems.Forbidden("Only an owner of this organization (a member, not a platform admin) may offer ownership.");
        var organization = access.Organization;
        var now = clock.GetUtcNow().UtcDateTime;

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await gate.LockAsync(organization.Id, ct);
        var target = await ActiveMember(db, organization.Id, membershipId).AsNoTracking().FirstOrDefaultAsync(ct);
        if (target is null) return Problems.NotFound("No such active member in this organization.");
        if (target.Role == Roles.Owner) return Problems.Conflict(ErrorCodes.AlreadyOwner, "This member is already an owner.");

        await db.Memberships.Where(m => m.Id == target.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.OwnershipOfferedBy, offerer.Id).SetProperty(m => m.OwnershipOfferedAt, now)
                .SetProperty(m => m.UpdatedAt, now), ct);
        Audit.Record(db, now, AuditActions.OwnershipOffered, target, caller.UserId, oldRole: target.Role, newRole: target.Role,
            oldStatus: target.Status, newStatus: target.Status);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return TypedResults.Ok(new OwnershipOfferView(target.Id, organization.Id, organization.Name, target.UserId, offerer.Id, caller.UserId,
            caller.Name ?? caller.Email, now, target.CreatedAt));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Withdraw(
        string orgId, OrgAccess access, Guid membershipId, Caller caller, RosterDb db, TimeProvider clock, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var target = await ActiveMember(db, access.Organization.Id, membershipId).AsNoTracking()
            .FirstOrDefaultAsync(m => m.OwnershipOfferedBy != null, ct);
        if (target is null) return Problems.NotFound("No open ownership offer to this member.");
        if (await ClearOfferAsync(db, target.Id, now, ct) == 0) return Problems.NotFound("No open ownership offer to this member.");
        Audit.Record(db, now, AuditActions.OwnershipOfferWithdrawn, target, caller.UserId, oldRole: target.Role, newRole: target.Role,
            oldStatus: target.Status, newStatus: target.Status);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return TypedResults.NoContent();
    }

    public static async Task<Results<PagedOk<OwnershipOfferView>, ProblemHttpResult>> MyOffers(
        string? limit, string? after, Caller caller, RosterDb db, CancellationToken ct)
    {
        var (page, bad) = PageRequest.ByTimeAndId("ownership-offers", limit, after);
        if (bad is not null) return bad;
        var (at, id) = page!.HasAfter ? (page.AfterTime(0), page.AfterId(1)) : (PageRequest.Start, Guid.Empty);
        var fetched = await (
                from m in db.Memberships.AsNoTracking()
                where m.UserId == caller.UserId && m.DeletedAt == null && m.Status == MembershipStatus.Active && m.OwnershipOfferedBy != null
                      && (m.CreatedAt > at || (m.CreatedAt == at && m.Id > id))
                join o in db.Organizations on m.OrganizationId equals o.Id
                where o.DeletedAt == null
                join offerer in db.Memberships on m.OwnershipOfferedBy equals offerer.Id
                where offerer.DeletedAt == null && offerer.Status == MembershipStatus.Active && offerer.Role == Roles.Owner
                join u in db.Users on offerer.UserId equals u.Id into users
                from u in users.DefaultIfEmpty()
                orderby m.CreatedAt, m.Id
                select new OwnershipOfferView(m.Id, o.Id, o.Name, m.UserId, offerer.Id, offerer.UserId, u == null ? null : u.Name ?? u.Email,
                    m.OwnershipOfferedAt!.Value, m.CreatedAt))
            .Take(page.Fetch).ToListAsync(ct);
        return page.Page(fetched, x => PageRequest.Key(x.CreatedAt, x.MembershipId));
    }

    public static async Task<Results<Ok<MembershipView>, ProblemHttpResult>> Accept(
        Guid membershipId, Caller caller, RosterDb db, SeatGate gate, WorkOsOptions workos, TimeProvider clock, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var offered = await OfferedTo(db, caller, membershipId).FirstOrDefaultAsync(ct);
        if (offered is null) return Problems.NotFound("No such ownership offer is waiting for you.");

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // Under the organization's lock, like every change of the owner count.
        await gate.LockAsync(offered.OrganizationId, ct);
        var target = await OfferedTo(db, caller, membershipId).FirstOrDefaultAsync(ct);
        var organization = await db.Organizations.AsNoTracking().FirstOrDefaultAsync(o => o.Id == offered.OrganizationId && o.DeletedAt == null, ct);
        var offerer = target is null
            ? null
            : await ActiveMember(db, target.OrganizationId, target.OwnershipOfferedBy!.Value).AsNoTracking()
                .FirstOrDefaultAsync(m => m.Role == Roles.Owner, ct);
        if (target is null || organization is null || offerer is null)
            return Problems.NotFound("No such ownership offer is waiting for you (the owner who made it is no longer an owner).");

        await db.Memberships.Where(m => m.Id == target.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.Role, Roles.Owner).SetProperty(m => m.OwnershipOfferedBy, (Guid?)null)
                .SetProperty(m => m.OwnershipOfferedAt, (DateTime?)null).SetProperty(m => m.WorkosUpdatedAt, now).SetProperty(m => m.UpdatedAt, now), ct);
        await db.Memberships.Where(m => m.Id == offerer.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.Role, Roles.Admin).SetProperty(m => m.WorkosUpdatedAt, now).SetProperty(m => m.UpdatedAt, now), ct);
        Audit.Record(db, now, AuditActions.OwnershipTransferred, target, caller.UserId, oldRole: target.Role, newRole: Roles.Owner,
            oldStatus: target.Status, newStatus: target.Status);
        Audit.Record(db, now, AuditActions.OwnershipTransferred, offerer, caller.UserId, oldRole: Roles.Owner, newRole: Roles.Admin,
            oldStatus: offerer.Status, newStatus: offerer.Status);
        // WorkOS hears of both role changes (read as they are when sent).
        OutboundWrites.RoleChanged(db, workos, organization, target, now);
        OutboundWrites.RoleChanged(db, workos, organization, offerer, now);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return TypedResults.Ok(await db.ViewAsync(target.Id, ct));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Decline(
        Guid membershipId, Caller caller, RosterDb db, TimeProvider clock, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var target = await OfferedTo(db, caller, membershipId).FirstOrDefaultAsync(ct);
        if (target is null || await ClearOfferAsync(db, target.Id, now, ct) == 0)
            return Problems.NotFound("No such ownership offer is waiting for you.");
        Audit.Record(db, now, AuditActions.OwnershipOfferDeclined, target, caller.UserId, oldRole: target.Role, newRole: target.Role,
            oldStatus: target.Status, newStatus: target.Status);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return TypedResults.NoContent();
    }

    private static IQueryable<Membership> ActiveMember(RosterDb db, Guid organizationId, Guid membershipId) =>
        db.Memberships.Where(m => m.Id == membershipId && m.OrganizationId == organizationId && m.DeletedAt == null
                                  && m.Status == MembershipStatus.Active);

    private static IQueryable<Membership> OfferedTo(RosterDb db, Caller caller, Guid membershipId) =>
        db.Memberships.AsNoTracking().Where(m => m.Id == membershipId && m.UserId == caller.UserId && m.DeletedAt == null
                                                 && m.Status == MembershipStatus.Active && m.OwnershipOfferedBy != null);

    private static Task<int> ClearOfferAsync(RosterDb db, Guid membershipId, DateTime now, CancellationToken ct) =>
        db.Memberships.Where(m => m.Id == membershipId && m.OwnershipOfferedBy != null)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.OwnershipOfferedBy, (Guid?)null).SetProperty(m => m.OwnershipOfferedAt, (DateTime?)null)
                .SetProperty(m => m.UpdatedAt, now), ct);
}
