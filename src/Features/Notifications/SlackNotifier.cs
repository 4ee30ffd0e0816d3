using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;

namespace Roster.Features.Notifications;

/// <summary>Where a notification went.</summary>
public sealed record SlackDelivery(string Channel, int Recipients, string? Ts);

/// <summary>A notification that can never be sent as it stands (unknown kind, unreadable payload, nowhere to post).</summary>
public sealed class UndeliverableNotificationException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Delivers one outbox row to Slack: a DM to the organization's only reachable owner/admin, a group DM to 2–8 of
/// them (owners first), or the system-errors channel when none of them is on Slack.
/// </summary>
public sealed class SlackNotifier(RosterDb db, SlackClient slack, SlackOptions options, NotificationMessages messages) : IOutboxSender
{
    public IReadOnlyCollection<string> Kinds { get; } = [NotificationKinds.MembershipRefused, NotificationKinds.SeatWarning];

    public bool IsConfigured => options.HasToken;

    async Task<string> IOutboxSender.SendAsync(NotificationOutboxRow row, CancellationToken ct)
    {
        var delivery = await SendAsync(row, ct);
        return $"Slack channel {delivery.Channel} ({delivery.Recipients} recipients)";
    }

    /// <summary>conversations.open takes at most 8 users.</summary>
    public const int MaxGroupSize = 8;

    public async Task<SlackDelivery> SendAsync(NotificationOutboxRow row, CancellationToken ct)
    {
        SlackMessage message;
        try
        {
            message = messages.For(row);
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or NotSupportedException or InvalidOperationException)
        {
            throw new UndeliverableNotificationException($"unreadable notification: {ex.Message}", ex);
        }

        var recipients = await RecipientsAsync(message.OrganizationId, ct);
        if (recipients.Count == 0)
        {
            if (string.IsNullOrWhiteSpace(options.SystemErrorsChannel))
                throw new UndeliverableNotificationException(
                    "no owner or admin of the organization is on Slack and Slack:SystemErrorsChannel is not set");
            var fallback = NotificationMessages.ForSystemErrors(message);
            var ts = await slack.PostMessageAsync(options.SystemErrorsChannel, fallback.Text, fallback.Blocks, ct);
            return new SlackDelivery(options.SystemErrorsChannel, 0, ts);
        }

        var channel = await slack.OpenConversationAsync(recipients, ct);
        var sent = await slack.PostMessageAsync(channel, message.Text, message.Blocks, ct);
        return new SlackDelivery(channel, recipients.Count, sent);
    }

    /// <summary>
    /// Slack ids of the organization's active owners and admins, owners first, at most <see cref="MaxGroupSize"/>.
    /// A missing id is looked up by email and kept on the user; someone Slack does not know is left out.
    /// </summary>
    public async Task<IReadOnlyList<string>> RecipientsAsync(Guid organizationId, CancellationToken ct)
    {
        var managers = await (
                from m in db.Memberships
                join u in db.Users on m.UserId equals u.Id
                where m.OrganizationId == organizationId && m.DeletedAt == null && m.Status == MembershipStatus.Active
                      && (m.Role == Roles.Owner || m.Role == Roles.Admin) && u.DeletedAt == null
                orderby m.Role == Roles.Owner ? 0 : 1, m.CreatedAt, u.Id
                select new { u.Id, u.Email, u.SlackUserId })
            .AsNoTracking()
            .ToListAsync(ct);

        var ids = new List<string>();
        foreach (var manager in managers.DistinctBy(m => m.Id))
        {
            if (ids.Count == MaxGroupSize) break;
            var slackId = manager.SlackUserId;
            if (string.IsNullOrEmpty(slackId))
            {
                slackId = await slack.LookupUserIdByEmailAsync(manager.Email, ct);
                if (slackId is null) continue;
                await db.Users.Where(u => u.Id == manager.Id)
                    .ExecuteUpdateAsync(s => s.SetProperty(u => u.SlackUserId, slackId), ct);
            }
            if (!ids.Contains(slackId, StringComparer.Ordinal)) ids.Add(slackId);
        }
        return ids;
    }
}
