using System.ComponentModel;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Auth;
using Roster.Infrastructure.Changes;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Http;
using Roster.Infrastructure.Http.OpenApi;
using Roster.Infrastructure.Memberships;
using Roster.Infrastructure.Seats;

namespace Roster.Features.Organizations;

public sealed record OrganizationView(Guid Id, string Name, string? WorkosOrganizationId, string? Plan, DateTime CreatedAt)
{
    public static OrganizationView Of(Organization o) => new(o.Id, o.Name, o.WorkosOrganizationId, o.Plan, o.CreatedAt);
}

public sealed record CreateOrganizationRequest(
    [property: RequiredInBody, Description("The organization's name: 1–200 characters, not blank, no control characters.")] string? Name);

public sealed record ChangePlanRequest([property: RequiredInBody, PlanValue] string? Plan);

public sealed record SeatTypeView(
    [property: SeatTypeValue] string SeatType,
    [property: Description("Seats the plan allows; -1 = unlimited, 0 = none.")] int Limit,
    [property: Description("Active memberships holding this seat type.")] int Active,
    [property: Description("Seats held by pending owner_add memberships and unexpired staged WorkOS invitations.")] int Reserved,
    [property: Description("Seats still free (limit − active − reserved, never below 0); -1 when unlimited.")] int Available);

public sealed record SeatsView([property: PlanValue] string Plan, IReadOnlyList<SeatTypeView> SeatTypes);

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
            .WithTags("Organizations");

        group.MapPost("/", CreateOrganization)
            .WithValidation<CreateOrganizationRequest>()
            .Answers(StatusCodes.Status409Conflict, "the default plan has no free seat of the default seat type for the founder", ErrorCodes.SeatLimitReached)
            .WithName("CreateOrganization")
            .WithSummary("Create an organization")
            .WithDescription("Any signed-in user. Creates a local organization (no WorkOS id) on the default plan; the caller becomes " +
                             "its active `owner` (source `founder`), holding a seat of the default seat type.")
            .WithRequestExample("acme", "An organization named Acme", """{"name":"Acme"}""");

        group.MapGet("/{orgId}/seats", GetSeats)
            .RequireOrgAccess(OrgRequirement.OwnerOrAdmin)
            .Answers(StatusCodes.Status403Forbidden, "the caller is a member but not an owner or admin", ErrorCodes.Forbidden)
            .Answers(StatusCodes.Status404NotFound, "no such organization, or the caller is not an active member of it", ErrorCodes.NotFound)
            .WithName("GetSeats")
            .WithSummary("Seat usage per seat type")
            .WithDescription("Owners and admins of the organization (and platform admins). For each seat type of the plan: the limit, " +
                             "active members, reserved seats (pending owner_add memberships and staged WorkOS invitations) and what is " +
                             "available. Seats used = active + reserved; every gate refuses a new seat once that reaches the limit.");

        group.MapPut("/{orgId}/plan", ChangePlan)
            .RequireAuthorization(PlatformAdminPolicy.Name)
            .WithValidation<ChangePlanRequest>()
            .Answers(StatusCodes.Status404NotFound, "no such organization", ErrorCodes.NotFound)
            .WithName("ChangePlan")
            .WithSummary("Change an organization's plan")
            .WithDescription("Platform admins only. Sets the plan (one of the catalog's; an unknown plan is 400). A plan change never " +
                             "removes anyone: an organization left over its new limits shows in the seat audit, and every gate refuses new " +
                             "seats of that type until usage falls below the limit.")
            .WithRequestExample("upgrade", "Move to company_standard", """{"plan":"company_standard"}""");

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
        var seat = await gate.TryTakeAsync(organization, founder.SeatType, SeatGates.Founder, ct);
        if (seat.Refused is { } noSeat) return noSeat;
        db.Memberships.Add(founder);
        ChangeLog.Stage(db, organization.Id, ChangeTypes.OrganizationCreated, now, caller.UserId, AuditVia.Api);
        Audit.Record(db, now, AuditActions.Founded, founder, caller.UserId, newRole: Roles.Owner, newStatus: MembershipStatus.Active);
        await seat.TakenAsync(ct);
        await tx.CommitAsync(ct);
        return TypedResults.Created($"/api/organizations/{organization.Id}", OrganizationView.Of(organization));
    }

    public static async Task<Results<Ok<SeatsView>, ProblemHttpResult>> GetSeats(
        string orgId, OrgAccess access, SeatGate gate, PlanCatalog plans, CancellationToken ct)
    {
        var organization = access.Organization;
        var usage = await gate.UsageAsync(organization, ct);
        return TypedResults.Ok(new SeatsView(
            plans.EffectivePlan(organization.Plan),
            usage.Select(u => new SeatTypeView(u.SeatType, u.Limit, u.Active, u.Reserved, u.Available)).ToList()));
    }

    public static async Task<Results<Ok<OrganizationView>, ProblemHttpResult>> ChangePlan(
        string orgId, ChangePlanRequest request, Caller caller, RosterDb db, SeatGate gate, TimeProvider clock, CancellationToken ct)
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
        ChangeLog.Stage(db, organization.Id, ChangeTypes.OrganizationPlanChanged, now, caller.UserId, AuditVia.Api);
        await db.SaveChangesAsync(ct);
        organization.Plan = request.Plan;
        // Every limit moved: warn where usage is now past 80%/100%, re-arm where it fell below 60%.
        await gate.PlanChangedAsync(organization, ct);
        await tx.CommitAsync(ct);
        return TypedResults.Ok(OrganizationView.Of(organization));
    }
}
