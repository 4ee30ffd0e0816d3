using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Auth;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Http;
using Roster.Infrastructure.Memberships;
using Roster.Infrastructure.Seats;

namespace Roster.Features.Organizations;

public sealed record OrganizationView(Guid Id, string Name, string? WorkosOrganizationId, string? Plan, DateTime CreatedAt)
{
    public static OrganizationView Of(Organization o) => new(o.Id, o.Name, o.WorkosOrganizationId, o.Plan, o.CreatedAt);
}

public sealed record CreateOrganizationRequest(string? Name);

public sealed record ChangePlanRequest(string? Plan);

public sealed record SeatTypeView(string SeatType, int Limit, int Active, int Reserved, int Available);

public sealed record SeatsView(string Plan, IReadOnlyList<SeatTypeView> SeatTypes);

/// <summary>What an organization's name may be, whether it is being created or renamed.</summary>
public static class OrganizationNameRules
{
    public static IRuleBuilderOptions<T, string?> ValidOrganizationName<T>(this IRuleBuilder<T, string?> rule) =>
        rule.NotEmpty().MaximumLength(200)
            .Must(n => n is null || n.Trim().Length > 0).WithMessage("'Name' must not be blank.")
            .Must(n => n is null || !n.Any(char.IsControl)).WithMessage("'Name' must not contain control characters.");
}

public sealed class CreateOrganizationValidator : AbstractValidator<CreateOrganizationRequest>
{
    public CreateOrganizationValidator()
    {
        RuleFor(r => r.Name).ValidOrganizationName();
    }
}

public sealed class ChangePlanValidator : AbstractValidator<ChangePlanRequest>
{
    public ChangePlanValidator(PlanCatalog plans)
    {
        RuleFor(r => r.Plan).NotEmpty()
            .Must(p => p is null || plans.IsPlan(p))
            .WithMessage(_ => $"Unknown plan. Known plans: {string.Join(", ", plans.PlanNames)}.");
    }
}

public static class OrganizationsEndpoints
{
    public static IEndpointRouteBuilder MapOrganizations(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/organizations")
            .RequireAuthorization()
            .WithTags("Organizations")
            .ProducesProblem(StatusCodes.Status401Unauthorized);

        group.MapPost("/", CreateOrganization)
            .WithValidation<CreateOrganizationRequest>()
            .WithName("CreateOrganization");

        group.MapGet("/{orgId}/seats", GetSeats)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("GetSeats");

        group.MapPut("/{orgId}/plan", ChangePlan)
            .RequireAuthorization(PlatformAdminPolicy.Name)
            .WithValidation<ChangePlanRequest>()
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("ChangePlan");

        return app;
    }

    public static async Task<Results<Created<OrganizationView>, ProblemHttpResult>> CreateOrganization(
        CreateOrganizationRequest request, Caller caller, RosterDb db, SeatGate gate, SeatOptions seats, TimeProvider clock, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var organization = new Organization { Id = Guid.CreateVersion7(), Name = request.Name!.Trim(), CreatedAt = now, UpdatedAt = now };
        var founder = new Membership
        {
            Id = Guid.CreateVersion7(),
            OrganizationId = organization.Id,
            UserId = caller.UserId,
            WorkosUserId = caller.WorkosUserId,
            Role = Roles.Owner,
            Status = MembershipStatus.Active,
            Source = MembershipSource.Founder,
            SeatType = seats.DefaultSeatType,
            AddedBy = caller.UserId,
            CreatedAt = now,
            UpdatedAt = now,
        };
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        db.Organizations.Add(organization);
        await db.SaveChangesAsync(ct);
        // The founder takes a seat like anyone else: a default plan with no seat of the default type refuses it.
        await gate.LockAsync(organization, ct);
        var usage = await gate.UsageAsync(organization, founder.SeatType, ct);
        if (!usage.HasRoom) return SeatGate.LimitReached(usage);
        db.Memberships.Add(founder);
        Audit.Record(db, now, AuditActions.Founded, founder, caller.UserId, newRole: Roles.Owner, newStatus: MembershipStatus.Active);
        await db.SaveChangesAsync(ct);
        await gate.ChangedAsync(organization, ct, founder.SeatType);
        await tx.CommitAsync(ct);
        return TypedResults.Created($"/api/organizations/{organization.Id}", OrganizationView.Of(organization));
    }

    public static async Task<Results<Ok<SeatsView>, ProblemHttpResult>> GetSeats(
        string orgId, Caller caller, RosterDb db, SeatLedger ledger, PlanCatalog plans, CancellationToken ct)
    {
        var (access, problem) = await OrgAccess.CheckAsync(db, orgId, caller, OrgRequirement.OwnerOrAdmin, ct);
        if (problem is not null) return problem;
        var organization = access!.Organization;
        var usage = await ledger.UsageAsync(organization.Id, organization.Plan, ct);
        return TypedResults.Ok(new SeatsView(
            plans.EffectivePlan(organization.Plan),
            usage.Select(u => new SeatTypeView(u.SeatType, u.Limit, u.Active, u.Reserved, u.Available)).ToList()));
    }

    public static async Task<Results<Ok<OrganizationView>, ProblemHttpResult>> ChangePlan(
        string orgId, ChangePlanRequest request, RosterDb db, SeatGate gate, TimeProvider clock, CancellationToken ct)
    {
        var organization = await OrgAccess.FindOrganizationAsync(db, orgId, ct);
        if (organization is null) return Problems.NotFound("No such organization.");
        var now = clock.GetUtcNow().UtcDateTime;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // Under the seat lock, so no seat decision runs against the old limit while the new one commits.
        await gate.LockAsync(organization, ct);
        // A plan change never removes anyone: an org left over its cap shows up in the seat audit instead.
        await db.Organizations.Where(o => o.Id == organization.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(o => o.Plan, request.Plan).SetProperty(o => o.UpdatedAt, now), ct);
        organization.Plan = request.Plan;
        // Every limit moved: warn where usage is now past 80%/100%, re-arm where it fell below 60%.
        await gate.PlanChangedAsync(organization, ct);
        await tx.CommitAsync(ct);
        return TypedResults.Ok(OrganizationView.Of(organization));
    }
}
