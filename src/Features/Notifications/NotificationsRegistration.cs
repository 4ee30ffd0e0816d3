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
        var slack = configuration.GetSection("Slack").Get<SlackOptions>() ?? new SlackOptions();
        var links = configuration.GetSection("Links").Get<LinkOptions>() ?? new LinkOptions();
        // "Manage team" opens the console's members page unless configured otherwise (an empty value turns the button off).
        links.ManageTeamUrl ??= LinkOptions.DefaultManageTeamUrl(configuration["Console:PublicUrl"]);
        slack.Validate();
        links.Validate();

        services.AddSingleton(slack);
        services.AddSingleton(links);
        services.AddSingleton<SlackResilience>();
        services.AddSingleton<NotificationMessages>();
        services.AddHttpClient<SlackClient>(http =>
        {
            http.BaseAddress = slack.BaseUri;
            // Each try has its own (shorter) timeout in SlackResilience; this only bounds the whole call.
            http.Timeout = TimeSpan.FromMinutes(2);
        });
        services.AddScoped<SlackNotifier>();
        services.AddScoped<IOutboxSender>(sp => sp.GetRequiredService<SlackNotifier>());
        return services;
    }
}
