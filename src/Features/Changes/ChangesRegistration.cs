using Roster.Infrastructure.Changes;
using Roster.Infrastructure.Configuration;

namespace Roster.Features.Changes;

public static class ChangesRegistration
{
    public static IServiceCollection AddChangeFeed(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSettings<ChangesOptions>("Changes");
        services.AddChangesReaderPolicy();
        services.AddSingleton<ChangeSequencer>();
        if (configuration.GetValue("Changes:SequencerEnabled", true))
            services.AddHostedService(sp => sp.GetRequiredService<ChangeSequencer>());
        return services;
    }
}
