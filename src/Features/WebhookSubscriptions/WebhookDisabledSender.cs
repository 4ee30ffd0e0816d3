using Roster.Infrastructure.Changes;
using Roster.Infrastructure.Outbox;
using System.Text.Json.Nodes;
using Roster.Features.Notifications;
using Roster.Infrastructure.Data;

namespace Roster.Features.WebhookSubscriptions;

/// <summary>Tells operators (the Slack system-errors channel) that a webhook subscription was disabled.</summary>
public sealed class WebhookDisabledSender(SlackClient slack, SlackOptions options) : IOutboxSender
{
    public IReadOnlyCollection<string> Kinds { get; } = [WebhookDispatcher.DisabledNotificationKind];

    public bool IsConfigured => options.HasToken && !string.IsNullOrWhiteSpace(options.SystemErrorsChannel);

    public string ConfiguredBy => "Slack:BotToken and Slack:SystemErrorsChannel";

    public async Task<string> SendAsync(NotificationOutboxRow row, CancellationToken ct)
    {
        var n = Outbox.Read<WebhookSubscriptionDisabledNotification>(row);
        var text = $"Roster disabled webhook subscription {n.SubscriptionId} ({n.Url}): {n.Reason}. " +
                   "Fix the receiver, then re-enable it with PATCH /api/admin/webhook-subscriptions/{id} {\"enabled\": true}; " +
                   "what it missed waits in order.";
        var blocks = new JsonArray(new JsonObject
        {
            ["type"] = "section",
            ["text"] = new JsonObject { ["type"] = "plain_text", ["text"] = text.Length > 2900 ? text[..2900] : text },
        });
        await slack.PostMessageAsync(options.SystemErrorsChannel!, text, blocks, ct);
        return $"Slack channel {options.SystemErrorsChannel}";
    }
}
