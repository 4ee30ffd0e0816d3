using Roster.Infrastructure.Configuration;

namespace Roster.Infrastructure.WorkOs;

public static class WorkOsRegistration
{
    /// <summary>What every WorkOS-facing feature shares: the <c>WorkOS</c> settings, the API client and the sync debouncer.</summary>
    public static IServiceCollection AddWorkOs(this IServiceCollection services)
    {
        services.AddSettings<WorkOsOptions>("WorkOS");
        services.AddHttpClient<WorkOsClient>();
        services.AddSingleton<SyncScheduler>();
        return services;
    }
}
