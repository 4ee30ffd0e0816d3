using FluentValidation;
using Roster.Infrastructure.Memberships;
using Roster.Infrastructure.Seats;

namespace Roster.Infrastructure.Http;

/// <summary>The body rules several requests share, written once so each is worded (and checked) the same way everywhere.</summary>
public static class RequestRules
{
    /// <summary>A seat type, when given, is one of the plan catalog's.</summary>
    public static IRuleBuilderOptions<T, string?> KnownSeatType<T>(this IRuleBuilder<T, string?> rule, PlanCatalog plans) =>
        rule.Must(seatType => seatType is null || plans.IsSeatType(seatType))
            .WithMessage(_ => $"Unknown seat type. Known seat types: {string.Join(", ", plans.SeatTypes)}.");

    /// <summary>A role, when given, is owner, admin, member or a role slug (<see cref="RoleSlug"/>).</summary>
    public static IRuleBuilderOptions<T, string?> RoleOrSlug<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(role => role is null || RoleSlug.IsValid(role))
            .WithMessage("'Role' must be owner, admin, member or a role slug.");
}
