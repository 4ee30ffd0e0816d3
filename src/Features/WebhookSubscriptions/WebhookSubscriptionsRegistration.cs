using FluentValidation;
using Roster.Features.Changes;
using Roster.Infrastructure.Changes;
using Roster.Infrastructure.Outbox;
using Roster.Features.Notifications;
using Roster.Infrastructure.Configuration;

namespace Roster.Features.WebhookSubscriptions;

public static class WebhookSubscriptionsRegistration
{
    public static IServiceCollection AddWebhookSubscriptions(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        services.AddSettings<WebhooksOptions>("Webhooks");
        services.AddSingleton<WebhookUrlRule>();
        services.AddSingleton<IValidator<CreateWebhookSubscriptionRequest>, CreateWebhookSubscriptionValidator>();
        services.AddSingleton<IValidator<UpdateWebhookSubscriptionRequest>, UpdateWebhookSubscriptionValidator>();
        services.AddSingleton<IValidator<ReplayRequest>, ReplayRequestValidator>();
        services.AddSingleton<WebhookMetrics>();
        services.AddScoped<IChangeFanOut, WebhookFanOut>();
        services.AddScoped<IOutboxSender, WebhookDisabledSender>();
        // Redirects are not followed, no proxy is used, and the address is checked at connect time (OutboundAddressGuard);
        // only in Development may a receiver sit on loopback or a private network.
        var allowAny = environment.IsDevelopment();
        services.AddHttpClient(WebhookDispatcher.ClientName, http => http.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => OutboundAddressGuard.Handler(allowAny));
        services.AddSingleton<WebhookDispatcher>();
        if (configuration.GetValue("Webhooks:DispatcherEnabled", true))
            services.AddHostedService(sp => sp.GetRequiredService<WebhookDispatcher>());
        return services;
    }
}
