using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Roster.Infrastructure.Http;

/// <summary>Checks the shape of a request body with its FluentValidation validator before the handler runs.</summary>
public sealed class ValidationFilter<T>(IValidator<T> validator) : IEndpointFilter where T : class
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var body = context.Arguments.OfType<T>().FirstOrDefault();
        if (body is null) return Problems.Validation("body", "A JSON body is required.");
        return await BodyValidation.ValidateAsync(validator, body, context.HttpContext.RequestAborted) ?? await next(context);
    }
}

/// <summary>Validates a body that may be left out entirely; when present it must still be well formed.</summary>
public sealed class OptionalBodyValidation<T>(IValidator<T> validator) : IEndpointFilter where T : class
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (context.Arguments.OfType<T>().FirstOrDefault() is { } body
            && await BodyValidation.ValidateAsync(validator, body, context.HttpContext.RequestAborted) is { } problem)
            return problem;
        return await next(context);
    }
}

internal static class BodyValidation
{
    public static async Task<ProblemHttpResult?> ValidateAsync<T>(IValidator<T> validator, T body, CancellationToken ct)
    {
        var result = await validator.ValidateAsync(body, ct);
        if (result.IsValid) return null;
        return Problems.Validation(result.Errors
            .GroupBy(e => JsonName(e.PropertyName))
            .ToDictionary(g => g.Key, g => g.Select(e => e.ErrorMessage).ToArray()));
    }

    private static string JsonName(string property) =>
        string.IsNullOrEmpty(property) ? "body" : char.ToLowerInvariant(property[0]) + property[1..];
}

public static class ValidationFilterExtensions
{
    public static RouteHandlerBuilder WithValidation<T>(this RouteHandlerBuilder builder) where T : class =>
        builder.AddEndpointFilter<ValidationFilter<T>>().ProducesValidationProblem();
}
