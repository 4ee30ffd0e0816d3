using Microsoft.AspNetCore.Diagnostics;
using Roster.Infrastructure.Data;

namespace Roster.Infrastructure.Http;

public static class ErrorHandling
{
    public static IServiceCollection AddRosterProblemDetails(this IServiceCollection services)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            var status = context.ProblemDetails.Status ?? context.HttpContext.Response.StatusCode;
            context.ProblemDetails.Extensions.TryAdd("code", Problems.DefaultCode(status));
            context.ProblemDetails.Extensions.TryAdd("traceId", context.HttpContext.TraceIdentifier);
        });
        services.AddExceptionHandler<RosterExceptionHandler>();
        return services;
    }
}

/// <summary>
/// Turns what escaped a handler into a problem: bad request bodies are the caller's fault (400/413/415),
/// an unreachable database is 503 so clients retry, and anything else is a 500 without internals.
/// </summary>
public sealed class RosterExceptionHandler(IProblemDetailsService problems, ILogger<RosterExceptionHandler> logger)
    : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        var (status, code, title, detail) = exception switch
        {
            BadHttpRequestException bad when bad.StatusCode == StatusCodes.Status413PayloadTooLarge =>
                (413, ErrorCodes.PayloadTooLarge, "The request body is too large.", (string?)null),
            BadHttpRequestException bad when bad.StatusCode == StatusCodes.Status415UnsupportedMediaType =>
                (415, ErrorCodes.UnsupportedMediaType, "Send the body as application/json.", null),
            BadHttpRequestException bad =>
                (400, ErrorCodes.ValidationFailed, "The request is malformed.", RequestProblem(bad)),
            _ when DbErrors.IsUnavailable(exception) =>
                (503, ErrorCodes.StorageUnavailable, "Storage is unavailable; try again shortly.", null),
            _ => (500, ErrorCodes.InternalError, "An unexpected error occurred.", null),
        };

        if (status >= 500) logger.LogError(exception, "Request failed with {Status}", status);
        else logger.LogInformation("Rejected request: {Message}", exception.Message);

        http.Response.StatusCode = status;
        if (status == 503) http.Response.Headers.RetryAfter = "5";
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            Exception = exception,
            ProblemDetails =
            {
                Status = status,
                Title = title,
                Detail = detail,
                Extensions = { ["code"] = code },
            },
        });
    }

    // JSON errors name the path and position, which helps the caller and reveals nothing internal.
    private static string? RequestProblem(BadHttpRequestException bad) =>
        bad.InnerException is System.Text.Json.JsonException json ? json.Message : bad.Message;
}
