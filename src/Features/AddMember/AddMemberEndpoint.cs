using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Auth;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Http;
using Roster.Infrastructure.Memberships;
using Roster.Infrastructure.Seats;

namespace Roster.Features.AddMember;

/// <param name="UserId">Roster user id, or the user's WorkOS id (user_…).</param>
public sealed record AddMemberRequest(string? UserId, string? Role, string? SeatType);

public sealed class AddMemberValidator : AbstractValidator<AddMemberRequest>
{
    public AddMemberValidator(PlanCatalog plans)
    {
        RuleFor(r => r.UserId).NotEmpty().MaximumLength(100);
        RuleFor(r => r.Role).Must(RoleSlug.IsValid!).When(r => r.Role is not null)
            .WithMessage("'Role' must be owner, admin, member or a role slug.");
        RuleFor(r => r.SeatType).Must(s => plans.IsSeatType(s!)).When(r => r.SeatType is not null)
            .WithMessage(_ => $"Unknown seat type. Known seat types: {string.Join(", ", plans.SeatTypes)}.");
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
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithName("AddMember");
        return app;
    }

    /// <summary>
    /// Stages a PENDING owner_add membership that holds a seat until the invitee accepts or declines it.
    /// The seat check and the insert share one transaction under the organization's seat lock.
    /// </summary>
    public static async Task<Results<Created<MembershipView>, ProblemHttpResult>> AddMember(
        string orgId, AddMemberRequest request, Caller caller, RosterDb db, SeatGate gate, SeatOptions seats,
        TimeProvider clock, CancellationToken ct)
    {
        var (access, problem) = await OrgAccess.CheckAsync(db, orgId, caller, OrgRequirement.OwnerOrAdmin, ct);
        if (problem is not null) return problem;
        var organization = access!.Organization;

        var role = request.Role ?? Roles.Member;
        if (Roles.IsManager(role) && !access.IsOwner)
            return Problems.Of(StatusCodes.Status403Forbidden, ErrorCodes.RoleEscalation, "Forbidden.",
                "Only an owner or a platform admin may grant the admin or owner role.");

        var user = await FindUserAsync(db, request.UserId!, ct);
        if (user is null)
            return Problems.Of(StatusCodes.Status404NotFound, ErrorCodes.UserNotFound, "Not found.", "No such user.");

        var seatType = request.SeatType ?? seats.DefaultSeatType;
        var now = clock.GetUtcNow().UtcDateTime;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await gate.LockAsync(organization, ct);

        if (await ExistingMembershipConflictAsync(db, organization.Id, user.Id, ct) is { } conflict) return conflict;
        await InactiveMemberships.RetireAsync(db, organization.Id, user.Id, now, ct);

        var usage = await gate.UsageAsync(organization, seatType, ct);
        if (!usage.HasRoom) return SeatGate.LimitReached(usage);

        var membership = new Membership
        {
            Id = Guid.CreateVersion7(),
            OrganizationId = organization.Id,
            UserId = user.Id,
            WorkosUserId = user.WorkosUserId,
            Role = role,
            Status = MembershipStatus.Pending,
            Source = MembershipSource.OwnerAdd,
            SeatType = seatType,
            AddedBy = caller.UserId,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Memberships.Add(membership);
        Audit.Record(db, now, AuditActions.Added, membership, caller.UserId, newRole: role, newStatus: MembershipStatus.Pending);
        try
        {
            await db.SaveChangesAsync(ct);
            await gate.ChangedAsync(organization, ct, seatType);
            await tx.CommitAsync(ct);
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            // The partial unique index caught a live row our check did not see (written outside the seat lock).
            await tx.RollbackAsync(ct);
            db.ChangeTracker.Clear();
            return await ExistingMembershipConflictAsync(db, organization.Id, user.Id, ct)
                   ?? Problems.Conflict(ErrorCodes.PendingMembershipExists, "A membership for this user already exists.");
        }

        return TypedResults.Created($"/api/organizations/{organization.Id}/members/{membership.Id}",
            await db.ViewAsync(membership.Id, ct));
    }

    private static Task<User?> FindUserAsync(RosterDb db, string userId, CancellationToken ct) =>
        Guid.TryParse(userId, out var id)
            ? db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == id && u.DeletedAt == null, ct)
            : db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.WorkosUserId == userId && u.DeletedAt == null, ct);

    private static async Task<ProblemHttpResult?> ExistingMembershipConflictAsync(RosterDb db, Guid organizationId, Guid userId, CancellationToken ct)
    {
        var existing = await db.Memberships.AsNoTracking()
            .Where(m => m.OrganizationId == organizationId && m.UserId == userId && m.DeletedAt == null)
            .Select(m => m.Status)
            .FirstOrDefaultAsync(ct);
        return existing switch
        {
            MembershipStatus.Pending => Problems.Conflict(ErrorCodes.PendingMembershipExists,
                "This user already has a pending membership in this organization."),
            MembershipStatus.Active => Problems.Conflict(ErrorCodes.AlreadyMember, "This user is already a member of this organization."),
            _ => null, // none, or inactive in WorkOS: not a member
        };
    }
}
