using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Roster.Infrastructure.Http.OpenApi;
using Roster.Migrations;

namespace Roster.Infrastructure.Http;

/// <summary><c>status</c>: live, ready, or degraded (ready, but a part named in <c>degraded</c> is not working).</summary>
public sealed record HealthView(
    [property: OneOf(typeof(HealthStates))] string Status,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, string>? Degraded = null);

public static class HealthStates
{
    public const string Live = "live";
    public const string Ready = "ready";
    public const string Degraded = "degraded";
}

/// <summary>A part of the service that can stop working without the service being down (readiness stays 200).</summary>
public interface IDegradationCheck
{
    /// <summary>The part's name in <see cref="HealthView.Degraded"/>.</summary>
    string Name { get; }

    /// <summary>Why the part is degraded, or null when it is fine.</summary>
    Task<string?> DegradedBecauseAsync(CancellationToken ct);
}

public static class Health
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/health").WithTags("Health").AllowAnonymous();
        group.MapGet("/live", () => TypedResults.Ok(new HealthView(HealthStates.Live))).WithName("Live").WithoutStorage()
            .WithSummary("Liveness")
            .WithDescription("Anyone, no token. 200 while the process serves requests; it does not touch the database.");
        group.MapGet("/ready", Ready).WithName("Ready")
            .Answers(StatusCodes.Status503ServiceUnavailable, "the database is unreachable or a migration is not applied", ErrorCodes.StorageUnavailable)
            .WithSummary("Readiness")
            .WithDescription("Anyone, no token. 200 when the database answers and every migration this build knows is applied; 503 otherwise " +
                             "(run `migrate` when Storage__MigrateOnStartup is false).");
        return app;
    }

    /// <summary>
    /// Ready means the database answers and every migration this build knows is applied; a ready service whose
    /// <see cref="IDegradationCheck"/>s report something (e.g. Slack delivery paused) answers 200 "degraded".
    /// </summary>
    public static async Task<Results<Ok<HealthView>, ProblemHttpResult>> Ready(MigrationRunner migrations, IEnumerable<IDegradationCheck> checks,
        ILogger<MigrationRunner> logger, CancellationToken ct)
    {
        try
        {
            var pending = (await migrations.StatusAsync(ct)).Where(m => m.AppliedAt is null).Select(m => m.Version).ToList();
            if (pending.Count == 0)
            {
                var degraded = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var check in checks)
                    if (await check.DegradedBecauseAsync(ct) is { } reason) degraded[check.Name] = reason;
                return TypedResults.Ok(degraded.Count == 0 ? new HealthView(HealthStates.Ready) : new HealthView(HealthStates.Degraded, degraded));
            }
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
