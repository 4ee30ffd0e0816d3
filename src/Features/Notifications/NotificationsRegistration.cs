using Roster.Infrastructure.Configuration;
using Roster.Infrastructure.Outbox;

namespace Roster.Features.Notifications;

public static class NotificationsRegistration
{
    /// <summary>
    /// Options (<c>Slack</c>, <c>Links</c>), the typed Slack client and the Slack sender of the outbox (the kinds the
    /// seat rules queue). The outbox itself and its dispatcher are shared infrastructure (<see cref="OutboxRegistration.AddOutbox"/>).
    /// </summary>
    public static IServiceCollection AddNotifications(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSettings<SlackOptions>("Slack");
        // "Manage team" opens the console's members page unless configured otherwise (an empty value turns the button off).
        services.AddSettings<LinkOptions>("Links")
            .PostConfigure(links => links.ManageTeamUrl ??= LinkOptions.DefaultManageTeamUrl(configuration["Console:PublicUrl"]));
        services.AddSingleton<SlackResilience>();
        services.AddSingleton<NotificationMessages>();
        services.AddHttpClient<SlackClient>((sp, http) =>
        {
            http.BaseAddress = sp.GetRequiredService<SlackOptions>().BaseUri;
            // Each try has its own (shorter) timeout in SlackResilience; this only bounds the whole call.
            http.Timeout = TimeSpan.FromMinutes(2);
        });
        services.AddScoped<SlackNotifier>();
        services.AddScoped<IOutboxSender>(sp => sp.GetRequiredService<SlackNotifier>());
        return services;
    }
}
