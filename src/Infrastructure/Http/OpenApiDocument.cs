using Scalar.AspNetCore;

namespace Roster.Infrastructure.Http;

public static class OpenApiDocument
{
    /// <summary>The one document AddOpenApi() registers.</summary>
    public const string Name = "v1";

    /// <summary>Turns the API reference page at /docs on or off; on by default in Development only.</summary>
    public const string ReferenceSetting = "OpenApi:ReferenceEnabled";

    public const string ReferencePath = "/docs";

    /// <summary>
    /// /openapi/{documentName}.json, answering an unknown document name (the route value, else a documentName query) with a
    /// not_found problem: the framework's own answer is a text/plain 404, and every error here is a problem document.
    /// </summary>
    public static IEndpointRouteBuilder MapRosterOpenApi(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi().AddEndpointFilter(async (context, next) =>
        {
            var requested = context.Arguments.OfType<string>().FirstOrDefault() ?? Name;
            return string.Equals(requested, Name, StringComparison.OrdinalIgnoreCase)
                ? await next(context)
                : Problems.NotFound("No such OpenAPI document; the document is /openapi/v1.json.");
        });
        return app;
    }

    public static bool IsReferenceEnabled(IConfiguration configuration, IHostEnvironment environment) =>
        configuration.GetValue(ReferenceSetting, environment.IsDevelopment());

    /// <summary>
    /// The API reference (Scalar) at /docs over /openapi/v1.json: every operation, schema and example of the document,
    /// with a request builder. Its script is served from the package itself (no CDN), and it sends no telemetry.
    /// </summary>
    public static WebApplication MapApiReferenceWhenEnabled(this WebApplication app)
    {
        if (!IsReferenceEnabled(app.Configuration, app.Environment)) return app;
        app.MapScalarApiReference(ReferencePath, options =>
        {
            options.Title = "Roster API";
            options.OpenApiRoutePattern = "/openapi/{documentName}.json";
            options.Telemetry = false;
            options.HideModels = false;
            options.AddPreferredSecuritySchemes(OpenApi.RosterOpenApi.BearerScheme);
        });
        return app;
    }
}
