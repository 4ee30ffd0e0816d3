using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Roster.Features.AddMember;
using Roster.Features.JoinRequests;
using Roster.Infrastructure.Auth;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Http;
using Roster.Infrastructure.Memberships;
using Roster.Infrastructure.Seats;

namespace Roster.Features.Preflight;

/// <summary>Why the action would be refused: the <c>code</c> its problem would carry, and its detail.</summary>
public sealed record PreflightReason(string Code, string Detail);

/// <summary>Whether the action would succeed now; when not, every reason, the first being the one the action would answer.</summary>
public sealed record PreflightView(bool Allowed, IReadOnlyList<PreflightReason> Reasons);

/// <summary>
/// "Would this add / join work?" without doing it. Preflight runs the very decision code the action runs
/// (<see cref="AddMemberDecision"/>, <see cref="JoinDecision"/>, and the add's body validator), so it cannot disagree
/// with the action: there is no second copy of the rules. It changes nothing and takes no lock, so the answer is as of
/// now; the action decides again under its lock.
/// </summary>
public static class PreflightEndpoint
{
    public static IEndpointRouteBuilder MapPreflight(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/organizations/{orgId}")
            .RequireAuthorization()
            .WithTags("Preflight")
            .MapGet("/preflight", Check)
            // An add is checked as the add itself is (owner or admin); a join is open to any signed-in user.
            .RequireOrgAccess(http => (string?)http.Request.Query["action"] == "add" ? OrgRequirement.OwnerOrAdmin : null)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("Preflight")
            .WithSummary("Check whether an add or a join would succeed")
            .WithDescription("?action=add&userId=&role=&seatType= (owner/admin): would this add succeed? ?action=join (any user): would my request to join? " +
                             "200 {allowed, reasons: [{code, detail}]} with the codes the action itself would answer (the first is the one it answers).");
        return app;
    }

    public static async Task<Results<Ok<PreflightView>, ProblemHttpResult>> Check(
        string orgId, OrgAccess access, string? action, string? userId, string? role, string? seatType, Caller caller, RosterDb db, SeatGate gate,
        SeatOptions seats, IValidator<AddMemberRequest> addValidator, TimeProvider clock, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        switch (action)
        {
            case "add":
            {
                var request = new AddMemberRequest(userId, role, seatType);
                var shape = await addValidator.ValidateAsync(request, ct);
                if (!shape.IsValid)
                    return Answer(shape.Errors.Select(e => new PreflightReason(ErrorCodes.ValidationFailed, e.ErrorMessage)).ToList());
                var decision = await AddMemberDecision.DecideAsync(db, gate, seats, access, request, now, ct);
                return Answer(decision.Refusals.Select(r => new PreflightReason(r.Code, r.Detail)).ToList());
            }
            case "join":
            {
                var organization = await OrgAccess.FindOrganizationAsync(db, orgId, ct);
                if (organization is null) return Problems.NotFound("No such organization.");
                var refusals = await JoinDecision.DecideAsync(db, organization.Id, caller, now, ct);
                return Answer(refusals.Select(r => new PreflightReason(r.Code, r.Detail)).ToList());
            }
            default:
                return Problems.Validation("action", "action is add or join.");
        }
    }

    private static Ok<PreflightView> Answer(List<PreflightReason> reasons) => TypedResults.Ok(new PreflightView(reasons.Count == 0, reasons));
}
