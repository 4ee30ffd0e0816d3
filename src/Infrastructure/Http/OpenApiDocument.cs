namespace Roster.Infrastructure.Http;

public static class OpenApiDocument
{
    /// <summary>The one document AddOpenApi() registers.</summary>
    public const string Name = "v1";

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
}
