using System.ComponentModel;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Auth;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Http;
using Roster.Infrastructure.Http.OpenApi;
using Roster.Infrastructure.Memberships;
using Roster.Infrastructure.Seats;

namespace Roster.Features.AddMember;

/// <param name="UserId">Roster user id, or the user's WorkOS id (user_…).</param>
public sealed record AddMemberRequest(
    [property: RequiredInBody, Description("Roster's user id, or the user's WorkOS id (user_…); find it with the exact-email search.")] string? UserId,
    [property: RoleValue, Description("The role the membership will have; default member. Only an owner (or a platform admin) may grant admin or owner.")] string? Role,
    [property: SeatTypeValue, Description("The seat type it holds; default Seats__DefaultSeatType (shipped: contributor).")] string? SeatType);

public sealed class AddMemberValidator : AbstractValidator<AddMemberRequest>
{
    public AddMemberValidator(PlanCatalog plans)
    {
        RuleFor(r => r.UserId).NotEmpty().MaximumLength(100);
        RuleFor(r => r.Role).RoleOrSlug();
        RuleFor(r => r.SeatType).KnownSeatType(plans);
    }
}

public static class AddMemberEndpoint
{
    public static IEndpointRouteBuilder MapAddMember(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/organizations/{orgId}/members")
            .RequireAuthorization()
            .WithTags("Members")
            .MapPost("/", AddMember)
            .WithValidation<AddMemberRequest>()
            .RequireOrgAccess(OrgRequirement.OwnerOrAdmin)
            .Answers(StatusCodes.Status403Forbidden, "a member who is not an owner or admin (forbidden), or an admin granting admin or owner (role_escalation)",
                ErrorCodes.Forbidden, ErrorCodes.RoleEscalation)
            .Answers(StatusCodes.Status404NotFound, "no such organization visible to the caller (not_found), or no such user (user_not_found)",
                ErrorCodes.NotFound, ErrorCodes.UserNotFound)
            .Answers(StatusCodes.Status409Conflict, "the user is already an active member, already has a pending membership here, or the seat type is full",
                ErrorCodes.AlreadyMember, ErrorCodes.PendingMembershipExists, ErrorCodes.SeatLimitReached)
            .WithName("AddMember")
            .WithSummary("Add a member (pending until they accept)")
            .WithDescription("Owners and admins of the organization (and platform admins). Creates a PENDING `owner_add` membership that holds " +
                             "a seat at once and becomes active only when the invited user accepts it (`PUT /api/membership-requests/{id}/accept`): " +
                             "no owner, admin, role change or webhook can activate it for them. Only an owner or a platform admin may grant " +
                             "`admin` or `owner`. The seat check and the insert share one transaction under the organization's seat lock.")
            .WithRequestExample("user", "Just the user (role member, the default seat type)", """{"userId":"user_01JD4Y6ZQ3F8Q6V9N2K7XGW4RB"}""")
            .WithRequestExample("roleAndSeat", "With a role and a seat type", """{"userId":"0193a9c4-7b1e-7c44-9d2a-3f6e8b5a1c20","role":"admin","seatType":"community_only"}""");
        return app;
    }

    /// <summary>
    /// Stages a PENDING owner_add membership that holds a seat until the invitee accepts or declines it, or it expires.
    /// The decision (<see cref="AddMemberDecision"/>, which preflight runs too) and the insert share one transaction under
    /// the organization's seat lock.
    /// </summary>
    public static async Task<Results<Created<MembershipView>, ProblemHttpResult>> AddMember(
        string orgId, OrgAccess access, AddMemberRequest request, Caller caller, RosterDb db, SeatGate gate, SeatOptions seats,
        InvitationOptions invitations, TimeProvider clock, CancellationToken ct)
    {
        var organization = access.Organization;

        var now = clock.GetUtcNow().UtcDateTime;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await gate.LockAsync(organization, ct);

        var decision = await AddMemberDecision.DecideAsync(db, gate, seats, access, request, now, ct, takeSeat: true);
        if (decision.Refusals is [var refused, ..]) return refused.ToProblem();
        var user = decision.User!;
        // What stood in the (organization, user) place without being a member — inactive in WorkOS, an expired
        // invitation — is ended in this transaction, so the new row can take the place.
        await InactiveMemberships.RetireAsync(db, organization.Id, user.Id, now, ct);
        await InvitationExpiry.EndExpiredAsync(db, now, AuditVia.Api, organization.Id, user.Id, ct);

        var membership = new Membership
        {
            Id = Guid.CreateVersion7(),
            OrganizationId = organization.Id,
            UserId = user.Id,
            WorkosUserId = user.WorkosUserId,
            Role = decision.Role,
            Status = MembershipStatus.Pending,
            Source = MembershipSource.OwnerAdd,
            SeatType = decision.SeatType,
            AddedBy = caller.UserId,
            CreatedAt = now,
            UpdatedAt = now,
            ExpiresAt = invitations.ExpiryFrom(now),
        };
        db.Memberships.Add(membership);
        Audit.Record(db, now, AuditActions.Added, membership, caller.UserId, newRole: decision.Role, newStatus: MembershipStatus.Pending);
        if (!await db.TryCommitAsync(tx, () => decision.Seat!.TakenAsync(ct), ct))
        {
            // The partial unique index caught a live row our check did not see (written outside the seat lock).
            return await AddMemberDecision.ExistingMembershipConflictAsync(db, organization.Id, user.Id, now, ct) is { } conflict
                ? conflict.ToProblem()
                : Problems.Conflict(ErrorCodes.PendingMembershipExists, "A membership for this user already exists.");
        }

        return TypedResults.Created($"/api/organizations/{organization.Id}/members/{membership.Id}",
            await db.ViewAsync(membership.Id, ct));
    }

}

/// <summary>Why an action would be refused: the status and code the action answers, and a sentence for people.</summary>
public sealed record Refusal(int Status, string Code, string Detail)
{
    public ProblemHttpResult ToProblem() => Problems.Of(Status, Code, Status switch
    {
        StatusCodes.Status403Forbidden => "Forbidden.",
        StatusCodes.Status404NotFound => "Not found.",
        StatusCodes.Status409Conflict => "Conflict.",
        _ => "The request is invalid.",
    }, Detail);

    /// <summary>The seat gate's refusal (<see cref="SeatDecision.Refused"/>) as one of a list.</summary>
    public static Refusal Of(ProblemHttpResult problem) =>
        new(problem.StatusCode, problem.ProblemDetails.Extensions["code"]!.ToString()!, problem.ProblemDetails.Detail!);
}

/// <summary>
/// What an add would do: the refusals in the order the add checks them (it answers the first), or the user and seat —
/// <see cref="Seat"/> the seat granted under the lock when the add asked for it.
/// </summary>
public sealed record AddDecision(IReadOnlyList<Refusal> Refusals, User? User, string Role, string SeatType, SeatDecision? Seat);

/// <summary>
/// The rules of adding a member, in one place: the add runs them under the seat lock and answers the first refusal;
/// preflight runs the same code and lists every refusal. Every reason that can be checked is checked, so a UI learns
/// everything that stands in the way at once.
/// </summary>
public static class AddMemberDecision
{
    /// <param name="takeSeat">
    /// The add (under the seat lock): take the seat when nothing before it refuses — the add answers the first refusal, and
    /// only a seat refusal it answers is counted. Preflight (false): only ask whether one would be free, with every refusal.
    /// </param>
    public static async Task<AddDecision> DecideAsync(RosterDb db, SeatGate gate, SeatOptions seats, OrgAccess access,
        AddMemberRequest request, DateTime now, CancellationToken ct, bool takeSeat = false)
    {
        var refusals = new List<Refusal>();
        var organization = access.Organization;
        var role = request.Role ?? Roles.Member;
        if (Roles.IsManager(role) && !access.IsOwner)
            refusals.Add(new Refusal(StatusCodes.Status403Forbidden, ErrorCodes.RoleEscalation,
                "Only an owner or a platform admin may grant the admin or owner role."));

        var user = await FindUserAsync(db, request.UserId!, ct);
        if (user is null)
            refusals.Add(new Refusal(StatusCodes.Status404NotFound, ErrorCodes.UserNotFound, "No such user."));
        else if (await ExistingMembershipConflictAsync(db, organization.Id, user.Id, now, ct) is { } conflict)
            refusals.Add(conflict);

        var seatType = request.SeatType ?? seats.DefaultSeatType;
        var seat = !takeSeat ? await gate.CheckAsync(organization, seatType, ct)
            : refusals.Count == 0 ? await gate.TryTakeAsync(organization, seatType, SeatGates.AddMember, ct)
            : null;
        if (seat?.Refused is { } noSeat) refusals.Add(Refusal.Of(noSeat));
        return new AddDecision(refusals, user, role, seatType, takeSeat ? seat : null);
    }

    private static Task<User?> FindUserAsync(RosterDb db, string userId, CancellationToken ct) =>
        Guid.TryParse(userId, out var id)
            ? db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == id && u.DeletedAt == null, ct)
            : db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.WorkosUserId == userId && u.DeletedAt == null, ct);

    /// <summary>A live row of the user here that makes an add a conflict; an expired invitation or an inactive mirror is none.</summary>
    public static async Task<Refusal?> ExistingMembershipConflictAsync(RosterDb db, Guid organizationId, Guid userId, DateTime now, CancellationToken ct)
    {
        var existing = await db.Memberships.AsNoTracking()
            .Where(m => m.OrganizationId == organizationId && m.UserId == userId && m.DeletedAt == null)
            .Where(SeatHolding.NotExpiredAt(now))
            .Select(m => m.Status)
            .FirstOrDefaultAsync(ct);
        return existing switch
        {
            MembershipStatus.Pending => new Refusal(StatusCodes.Status409Conflict, ErrorCodes.PendingMembershipExists,
                "This user already has a pending membership in this organization."),
            MembershipStatus.Active => new Refusal(StatusCodes.Status409Conflict, ErrorCodes.AlreadyMember,
                "This user is already a member of this organization."),
            _ => null, // none, or inactive in WorkOS: not a member
        };
    }
}
