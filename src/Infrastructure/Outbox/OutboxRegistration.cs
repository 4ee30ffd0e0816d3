using Roster.Infrastructure.Configuration;
using Roster.Infrastructure.Http;

namespace Roster.Infrastructure.Outbox;

public static class OutboxRegistration
{
    /// <summary>
    /// The dispatcher's options (<c>Notifications</c>), the dispatcher, the notifier health check, and the background
    /// loop — the loop only when <c>Notifications:DispatcherEnabled</c> and some registered <see cref="IOutboxSender"/>
    /// is configured (each feature registers its own sender: Slack, WorkOS writes). Needs a <see cref="TimeProvider"/>
    /// and the Roster storage registered as well.
    /// </summary>
    public static IServiceCollection AddOutbox(this IServiceCollection services)
    {
        services.AddSettings<NotificationOptions>("Notifications");
        services.AddSingleton<OutboxDispatcher>();
        services.AddScoped<IDegradationCheck, NotifierHealth>();

        // Decided when the host starts, once every feature has registered its sender.
        services.AddSingleton<IHostedService>(sp =>
        {
            var options = sp.GetRequiredService<NotificationOptions>();
            string? idle = null;
            if (!options.DispatcherEnabled) idle = "Notifications:DispatcherEnabled is false";
            else
            {
                using var scope = sp.CreateScope();
                var senders = scope.ServiceProvider.GetServices<IOutboxSender>().ToList();
                if (!senders.Any(s => s.IsConfigured))
                    idle = "no outbox sender is configured (" + string.Join(", ", senders.Select(s => s.ConfiguredBy).Distinct()) + ")";
            }
            return idle is null
                ? ActivatorUtilities.CreateInstance<OutboxBackgroundService>(sp)
                : new NotificationsDisabledNotice(sp.GetRequiredService<ILogger<NotificationsDisabledNotice>>(), idle);
        });
        return services;
    }
}
