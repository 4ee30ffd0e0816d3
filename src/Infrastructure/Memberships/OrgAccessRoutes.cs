using System.Collections;
using Roster.Infrastructure.Auth;
using Roster.Infrastructure.Data;

namespace Roster.Infrastructure.Memberships;

/// <summary>
/// What a route under <c>{orgId}</c> requires of the caller in that organization (endpoint metadata). <see cref="For"/>
/// says it per request (null: this request is not checked, e.g. a preflight of a join); with <see cref="WhenNothingListed"/>
/// the route's own statement already keeps out whoever may not see it, and the check runs only when it lists nothing,
/// to tell "nothing here" from "not visible".
/// </summary>
public sealed record OrgAccessRequirement(Func<HttpContext, OrgRequirement?> For, bool WhenNothingListed = false);

/// <summary>
/// Declares a route's organization access. Its handlers still take <c>string orgId</c> (unused by them) so the OpenAPI
/// document describes the path parameter, as generated clients need.
/// </summary>
public static class OrgAccessRoutes
{
    /// <summary>The caller must be <paramref name="requirement"/> in the route's {orgId}; handlers take the checked <see cref="OrgAccess"/>.</summary>
    public static TBuilder RequireOrgAccess<TBuilder>(this TBuilder builder, OrgRequirement requirement) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireOrgAccess(new OrgAccessRequirement(_ => requirement));

    /// <summary>The requirement depends on the request (null: none for this one).</summary>
    public static TBuilder RequireOrgAccess<TBuilder>(this TBuilder builder, Func<HttpContext, OrgRequirement?> requirement)
        where TBuilder : IEndpointConventionBuilder =>
        builder.RequireOrgAccess(new OrgAccessRequirement(requirement));

    /// <summary>
    /// For a list whose statement itself only returns rows to whoever meets <paramref name="requirement"/> (one round trip on a
    /// hot read): the check runs only when the list comes back empty, and then answers the refusal instead.
    /// </summary>
    public static TBuilder RequireOrgAccessWhenNothingListed<TBuilder>(this TBuilder builder, OrgRequirement requirement)
        where TBuilder : IEndpointConventionBuilder =>
        builder.RequireOrgAccess(new OrgAccessRequirement(_ => requirement, WhenNothingListed: true));

    private static TBuilder RequireOrgAccess<TBuilder>(this TBuilder builder, OrgAccessRequirement requirement) where TBuilder : IEndpointConventionBuilder
    {
        builder.WithMetadata(requirement);
        // Filters run in the order they are added: declare access after a route's body validation (WithValidation), so a
        // malformed body is answered first, exactly as when each handler checked access at its start (a test holds every
        // route to that order). Declared on a group, it runs before the routes' own filters.
        builder.Add(endpoint => endpoint.FilterFactories.Add((_, next) => context => CheckAsync(context, next)));
        return builder;
    }

    private static async ValueTask<object?> CheckAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        // The last declaration wins: a route may narrow what its group declares.
        var declared = http.GetEndpoint()!.Metadata.GetMetadata<OrgAccessRequirement>()!;
        if (declared.For(http) is not { } requirement) return await next(context);
        if (declared.WhenNothingListed)
        {
            var listed = await next(context);
            return IsEmptyList(listed) && await RefusalAsync(http, requirement) is { Problem: { } hidden } ? hidden : listed;
        }

        var (access, problem) = await RefusalAsync(http, requirement);
        if (problem is not null) return problem;
        for (var i = 0; i < context.Arguments.Count; i++)
            if (ReferenceEquals(context.Arguments[i], OrgAccess.Unchecked)) context.Arguments[i] = access;
        return await next(context);
    }

    private static async Task<(OrgAccess? Access, Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult? Problem)> RefusalAsync(
        HttpContext http, OrgRequirement requirement)
    {
        var caller = await Caller.BindAsync(http)
                     ?? throw new InvalidOperationException("Organization access needs an authenticated caller (the route must require authorization).");
        var orgId = http.Request.RouteValues["orgId"] as string
                    ?? throw new InvalidOperationException($"{http.GetEndpoint()?.DisplayName} declares organization access but has no {{orgId}}.");
        return await OrgAccess.CheckAsync(http.RequestServices.GetRequiredService<RosterDb>(), orgId, caller, requirement, http.RequestAborted);
    }

    private static bool IsEmptyList(object? result)
    {
        while (result is INestedHttpResult nested) result = nested.Result;
        return result is IValueHttpResult { Value: ICollection { Count: 0 } };
    }
}
