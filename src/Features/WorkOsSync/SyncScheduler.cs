using System.Collections.Concurrent;
using Roster.Features.WebhookIngest;

namespace Roster.Features.WorkOsSync;

/// <summary>
/// Debounces the syncs webhooks ask for: a burst of events for one organization becomes one Events API sync,
/// run a few seconds after the last of them.
/// </summary>
public sealed class SyncScheduler(WorkOsOptions options, TimeProvider clock)
{
    private readonly ConcurrentDictionary<string, DateTime> _due = new(StringComparer.Ordinal);

    public void AfterWebhook(WorkOsEvent evt)
    {
        if (!options.IsApiConfigured) return;
        var (organization, user) = Targets(evt);
        if (organization is not null) Schedule("org:" + organization);
        if (user is not null) Schedule("user:" + user);
    }

    public void Schedule(string key) => _due[key] = clock.GetUtcNow().UtcDateTime.AddSeconds(options.SyncDebounceSeconds);

    /// <summary>Removes and returns the keys whose quiet period is over.</summary>
    public IReadOnlyList<string> TakeDue()
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var due = new List<string>();
        foreach (var (key, at) in _due)
            if (at <= now && _due.TryRemove(new KeyValuePair<string, DateTime>(key, at))) due.Add(key);
        return due;
    }

    /// <summary>The sync key (an organization, "" for environment roles, "users" for user events) and, for user events, the user a webhook concerns.</summary>
    public static (string? Organization, string? User) Targets(WorkOsEvent evt)
    {
        string? Field(string name) => evt.Data.TryGetProperty(name, out var v) && v.ValueKind == System.Text.Json.JsonValueKind.String ? v.GetString() : null;
        var family = evt.Event[..Math.Max(0, evt.Event.LastIndexOf('.'))];
        return family switch
        {
            "organization" => (Field("id"), null),
            "organization_membership" or "organization_role" or "invitation" => (Field("organization_id"), null),
            "role" => (EventSync.EnvironmentKey, null),
            // A user event also wakes the users' own Events API stream, which catches the user.* webhooks that were lost.
            "user" => (EventSync.UsersKey, Field("id")),
            _ => (null, null),
        };
    }
}

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
        services.AddHttpClient<WorkOsClient>();
        services.AddSingleton<SyncLocks>();
        services.AddSingleton<SyncScheduler>();
        services.AddTransient<EventSync>();
        services.AddHostedService<SyncWorker>();
        services.AddScoped<WorkOsOutboundSender>();
        services.AddScoped<Notifications.IOutboxSender>(sp => sp.GetRequiredService<WorkOsOutboundSender>());
        return services;
    }
}
