using Microsoft.AspNetCore.Http.HttpResults;
using Roster.Migrations;

namespace Roster.Infrastructure.Http;

public sealed record HealthView(string Status);

public static class Health
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/health").WithTags("Health").AllowAnonymous();
        group.MapGet("/live", () => TypedResults.Ok(new HealthView("live"))).WithName("Live");
        group.MapGet("/ready", Ready).ProducesProblem(StatusCodes.Status503ServiceUnavailable).WithName("Ready");
        return app;
    }

    /// <summary>Ready means the database answers and every migration this build knows is applied.</summary>
    public static async Task<Results<Ok<HealthView>, ProblemHttpResult>> Ready(MigrationRunner migrations, ILogger<MigrationRunner> logger, CancellationToken ct)
    {
        try
        {
            var pending = (await migrations.StatusAsync(ct)).Where(m => m.AppliedAt is null).Select(m => m.Version).ToList();
            if (pending.Count == 0) return TypedResults.Ok(new HealthView("ready"));
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, ErrorCodes.StorageUnavailable, "Not ready.",
                $"Migrations not applied: {string.Join(", ", pending)}.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "Readiness check could not reach the database");
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, ErrorCodes.StorageUnavailable, "Not ready.", "The database is unreachable.");
        }
    }
}
