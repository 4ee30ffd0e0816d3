namespace Roster.Features.Notifications;

public static class NotificationsRegistration
{
    /// <summary>
    /// Options (<c>Slack</c>, <c>Links</c>, <c>Notifications</c>), the typed Slack client, the outbox dispatcher, and
    /// its background loop — the loop only when <c>Notifications:DispatcherEnabled</c> and a <c>Slack:BotToken</c>
    /// is set. Needs a <see cref="TimeProvider"/> and the Roster storage registered as well.
    /// </summary>
    public static IServiceCollection AddNotifications(this IServiceCollection services, IConfiguration configuration)
    {
        var slack = configuration.GetSection("Slack").Get<SlackOptions>() ?? new SlackOptions();
        var links = configuration.GetSection("Links").Get<LinkOptions>() ?? new LinkOptions();
        var notifications = configuration.GetSection("Notifications").Get<NotificationOptions>() ?? new NotificationOptions();
        slack.Validate();
        links.Validate();
        notifications.Validate();

        services.AddSingleton(slack);
        services.AddSingleton(links);
        services.AddSingleton(notifications);
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
        services.AddSingleton<OutboxDispatcher>();
        services.AddScoped<Roster.Infrastructure.Http.IDegradationCheck, NotifierHealth>();

        // The outbox also carries Roster's writes to WorkOS, so the loop runs when either side is configured.
        var workosConfigured = !string.IsNullOrWhiteSpace(configuration["WorkOS:ApiKey"]);
        if (notifications.DispatcherEnabled && (slack.HasToken || workosConfigured))
            services.AddHostedService<OutboxBackgroundService>();
        else
            services.AddHostedService(sp => new NotificationsDisabledNotice(
                sp.GetRequiredService<ILogger<NotificationsDisabledNotice>>(),
                !notifications.DispatcherEnabled ? "Notifications:DispatcherEnabled is false" : "neither Slack:BotToken nor WorkOS:ApiKey is set"));
        return services;
    }
}
