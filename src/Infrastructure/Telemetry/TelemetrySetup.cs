using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Roster.Infrastructure.Configuration;

namespace Roster.Infrastructure.Telemetry;

public sealed class TelemetryOptions : IValidatedSettings
{
    /// <summary>Serve the metrics as a Prometheus scrape endpoint at /metrics.</summary>
    public bool PrometheusEnabled { get; set; }

    /// <summary>
    /// Collect traces and metrics even with no exporter configured here (e.g. one added in code). Unset, collection is on
    /// exactly when something exports: OTEL_EXPORTER_OTLP_ENDPOINT is set, or the Prometheus endpoint is on.
    /// </summary>
    public bool? Enabled { get; set; }

    // Both are switches: a value the binder cannot read as a boolean is reported by the binder itself, naming the key.
    public IEnumerable<string> Problems() => [];
}

/// <summary>
/// OpenTelemetry: traces of incoming requests (ASP.NET Core), outgoing HTTP (WorkOS, Slack), PostgreSQL commands (Npgsql)
/// and EF Core commands on SQLite, plus the Roster source (the webhook span); metrics of requests (rate, latency),
/// outgoing HTTP and Npgsql, plus the Roster meter (<see cref="RosterMetrics"/>). Exported over OTLP when the standard
/// OTEL_EXPORTER_OTLP_ENDPOINT is set (OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES… apply),
/// logs included; and scraped at /metrics with Telemetry__PrometheusEnabled=true. With neither, nothing is collected,
/// so an unobserved service pays nothing for it.
/// </summary>
public static class TelemetrySetup
{
    public const string PrometheusPath = "/metrics";
    private const string OtlpEndpoint = "OTEL_EXPORTER_OTLP_ENDPOINT";

    public static IServiceCollection AddRosterTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        // Read here as well because the exporters are chosen from it; a wrong value is reported at start (AddSettings,
        // naming the key) and only falls back to the defaults here.
        services.AddSettings<TelemetryOptions>("Telemetry");
        TelemetryOptions options;
        try { options = configuration.GetSection("Telemetry").Get<TelemetryOptions>() ?? new TelemetryOptions(); }
        catch (InvalidOperationException) { options = new TelemetryOptions(); }
        services.AddSingleton<RosterMetrics>();

        var otlp = !string.IsNullOrWhiteSpace(configuration[OtlpEndpoint]);
        if (!(options.Enabled ?? (otlp || options.PrometheusEnabled))) return services;

        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName: "roster", serviceVersion: typeof(TelemetrySetup).Assembly.GetName().Version?.ToString()))
            .WithTracing(tracing => tracing
                .AddSource(RosterMetrics.MeterName)
                .AddAspNetCoreInstrumentation(aspnet => aspnet.Filter = http => !IsProbe(http.Request.Path))
                .AddHttpClientInstrumentation()
                .AddNpgsql()
                // Npgsql traces its own commands (with more detail); EF Core's spans are kept for SQLite only, so a
                // PostgreSQL command is not traced twice.
                .AddEntityFrameworkCoreInstrumentation(ef => ef.Filter = (provider, _) =>
                    provider is null || !provider.Contains("Npgsql", StringComparison.OrdinalIgnoreCase)))
            .WithMetrics(metrics =>
            {
                metrics
                    // Roster's meter and every feature's own ("Roster.Actions", …), without Infrastructure naming the features.
                    .AddMeter(RosterMetrics.MeterName, RosterMetrics.MeterName + ".*")
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddNpgsqlInstrumentation(_ => { });
                if (options.PrometheusEnabled) metrics.AddPrometheusExporter();
            });
        if (otlp) telemetry.UseOtlpExporter();
        return services;
    }

    private static bool IsProbe(PathString path) =>
        path.StartsWithSegments("/health", StringComparison.OrdinalIgnoreCase) || path.StartsWithSegments(PrometheusPath, StringComparison.OrdinalIgnoreCase);

    /// <summary>GET /metrics (Prometheus text format) when Telemetry__PrometheusEnabled=true; not in the OpenAPI document.</summary>
    public static WebApplication MapPrometheusWhenEnabled(this WebApplication app)
    {
        if (app.Services.GetRequiredService<TelemetryOptions>().PrometheusEnabled)
            app.MapPrometheusScrapingEndpoint(PrometheusPath).ExcludeFromDescription();
        return app;
    }
}
