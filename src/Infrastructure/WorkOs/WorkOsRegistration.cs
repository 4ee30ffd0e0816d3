namespace Roster.Infrastructure.WorkOs;

public static class WorkOsRegistration
{
    /// <summary>What every WorkOS-facing feature shares: the <c>WorkOS</c> settings, the API client and the sync debouncer.</summary>
    public static IServiceCollection AddWorkOs(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(configuration.GetSection("WorkOS").Get<WorkOsOptions>() ?? new WorkOsOptions());
        services.AddHttpClient<WorkOsClient>();
        services.AddSingleton<SyncScheduler>();
        return services;
    }
}
