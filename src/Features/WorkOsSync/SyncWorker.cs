using Roster.Infrastructure.Outbox;
using Roster.Infrastructure.WorkOs;

namespace Roster.Features.WorkOsSync;

/// <summary>Runs due debounced syncs, and the periodic full reconciliation when it is switched on.</summary>
public sealed class SyncWorker(SyncScheduler scheduler, IServiceScopeFactory scopes, WorkOsOptions options, TimeProvider clock, ILogger<SyncWorker> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Without a WorkOS API key Roster runs standalone: there is nothing to sync.
        if (!options.IsApiConfigured) return;
        var nextReconcile = options.ReconcileIntervalSeconds > 0 ? clock.GetUtcNow().UtcDateTime : DateTime.MaxValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                using var scope = scopes.CreateScope();
                var sync = scope.ServiceProvider.GetRequiredService<EventSync>();
                foreach (var key in scheduler.TakeDue())
                {
                    if (key.StartsWith("org:", StringComparison.Ordinal)) await sync.SyncOrganizationAsync(key[4..], null, stoppingToken);
                    else if (key.StartsWith("user:", StringComparison.Ordinal)) await sync.SyncUserAsync(key[5..], stoppingToken);
                }
                if (clock.GetUtcNow().UtcDateTime >= nextReconcile)
                {
                    await sync.SyncAllAsync(null, stoppingToken);
                    nextReconcile = clock.GetUtcNow().UtcDateTime.AddSeconds(options.ReconcileIntervalSeconds);
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogError(ex, "WorkOS sync round failed; retrying on the next round");
            }
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}

public static class WorkOsSyncRegistration
{
    public static IServiceCollection AddWorkOsSync(this IServiceCollection services)
    {
        services.AddSingleton<SyncLocks>();
        services.AddTransient<EventSync>();
        services.AddHostedService<SyncWorker>();
        services.AddScoped<WorkOsOutboundSender>();
        services.AddScoped<IOutboxSender>(sp => sp.GetRequiredService<WorkOsOutboundSender>());
        services.AddScoped<IOutboxSender, WorkOsOrganizationSender>();
        return services;
    }
}
