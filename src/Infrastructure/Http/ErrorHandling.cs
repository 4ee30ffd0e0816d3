using Microsoft.AspNetCore.Diagnostics;
using HttpJsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
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
        // After the framework's writer, so it only writes what that one declines (an Accept header without JSON in it).
        services.AddSingleton<IProblemDetailsWriter, ProblemJsonWriter>();
        services.AddExceptionHandler<RosterExceptionHandler>();
        return services;
    }
}

/// <summary>
/// Writes a problem as application/problem+json whatever the request's Accept header names. The framework's writer
/// declines when Accept lists no JSON type; then status-code pages answered text/plain, the exception handler an empty
/// body, and IProblemDetailsService.WriteAsync (sign-in refusals, rate limiting) threw, a 500. DESIGN.md section 5 makes
/// every error a problem document with a code, and a client that asked for HTML still needs to read why it failed.
/// </summary>
internal sealed class ProblemJsonWriter(IOptions<ProblemDetailsOptions> options, IOptions<HttpJsonOptions> json) : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) => true;

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var http = context.HttpContext;
        var problem = context.ProblemDetails;
        problem.Status ??= http.Response.StatusCode;
        problem.Title ??= ReasonPhrases.GetReasonPhrase(problem.Status.Value) is { Length: > 0 } reason ? reason : null;
        options.Value.CustomizeProblemDetails?.Invoke(context);
        return new ValueTask(http.Response.WriteAsJsonAsync(problem, problem.GetType(), json.Value.SerializerOptions,
            "application/problem+json", http.RequestAborted));
    }
}

/// <summary>
/// Turns what escaped a handler into a problem: bad request bodies are the caller's fault (400/413/415), and so is a
/// value the database refuses to store (400), an unreachable database is 503 so clients retry, and anything else is a
/// 500 without internals.
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
            _ when DbErrors.IsUnstorableValue(exception) =>
                (400, ErrorCodes.ValidationFailed, "The request holds a value that cannot be stored.",
                    "A value is too long to be indexed, or holds a character that cannot be stored (such as NUL)."),
            _ when DbErrors.IsUnavailable(exception) =>
                (503, ErrorCodes.StorageUnavailable, "Storage is unavailable; try again shortly.", null),
            _ => (500, ErrorCodes.InternalError, "An unexpected error occurred.", null),
        };

        if (status >= 500) logger.LogError(exception, "Request failed with {Status}", status);
        else logger.LogInformation("Rejected request: {Message}", exception.Message);

        http.Response.StatusCode = status;
        if (status == 503) http.Response.Headers.RetryAfter = "5";
        // DESIGN.md section 5: a 400 carries an `errors` map, malformed bodies included, so clients read every 400 alike.
        var problem = status == StatusCodes.Status400BadRequest
            ? new HttpValidationProblemDetails(exception is BadHttpRequestException malformed
                ? RequestErrors(malformed)
                : new Dictionary<string, string[]> { ["request"] = [detail!] })
            : new ProblemDetails();
        problem.Status = status;
        problem.Title = title;
        problem.Detail = detail;
        problem.Extensions["code"] = code;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = http, Exception = exception, ProblemDetails = problem });
    }

    // JSON errors name the path and position, which helps the caller and reveals nothing internal.
    private static string? RequestProblem(BadHttpRequestException bad) =>
        bad.InnerException is System.Text.Json.JsonException json ? Describe(json)
        : IsAboutTheBody(bad) ? MissingBody
        : bad.Message;

    // The reader's own words, except that a type mismatch would name a .NET type ("could not be converted to Roster.…").
    private static string Describe(System.Text.Json.JsonException json) =>
        json.Message.Contains("could not be converted to", StringComparison.Ordinal)
            ? $"The JSON value has the wrong type. Path: {json.Path ?? "$"} | LineNumber: {json.LineNumber} | BytePositionInLine: {json.BytePositionInLine}."
            : json.Message;

    private const string MissingBody = "A JSON body is required.";

    /// <summary>The field a JSON error is at ("$.role[0]" → "role"), or "body" for the body as a whole.</summary>
    private static Dictionary<string, string[]> RequestErrors(BadHttpRequestException bad)
    {
        if (bad.InnerException is System.Text.Json.JsonException json)
        {
            var path = json.Path ?? "$";
            var field = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..].Split('.', '[')[0] : "";
            return new() { [field.Length > 0 ? field : "body"] = [Describe(json)] };
        }
        return IsAboutTheBody(bad) ? new() { ["body"] = [MissingBody] } : new() { ["request"] = [bad.Message] };
    }

    // The framework's "Implicit body inferred for parameter … but no body was provided" / "Required parameter … was not
    // provided from body": the body is missing or JSON null.
    private static bool IsAboutTheBody(BadHttpRequestException bad) =>
        bad.InnerException is null && bad.Message.Contains("body", StringComparison.OrdinalIgnoreCase);
}
