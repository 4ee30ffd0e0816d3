namespace Roster.Infrastructure.Http;

public sealed record BenchFloorAnswer(string Status);

/// <summary>
/// GET /bench/floor: an authenticated endpoint that returns a constant, for the read-path benchmark in bench/ to
/// compare the real endpoints with (same process, same Kestrel, authentication, local-user middleware and
/// authorization; no handler work). Mapped only when <c>Bench:FloorEndpoint</c> is true — never in the default
/// service, its OpenAPI document or its route table.
/// </summary>
public static class BenchFloor
{
    public const string Setting = "Bench:FloorEndpoint";

    public static WebApplication MapBenchFloorWhenConfigured(this WebApplication app)
    {
        if (app.Configuration.GetValue<bool>(Setting))
            app.MapGet("/bench/floor", () => TypedResults.Ok(new BenchFloorAnswer("ok")))
                .RequireAuthorization()
                .ExcludeFromDescription();
        return app;
    }
}
