using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Outbox;
using Roster.Infrastructure.Seats;

namespace Roster.Features.Notifications;

/// <summary>Where a notification went.</summary>
public sealed record SlackDelivery(string Channel, int Recipients, string? Ts);

/// <summary>One owner or admin Slack can reach: Roster's user id and their Slack id.</summary>
public sealed record SlackRecipient(Guid UserId, string SlackUserId);

/// <summary>
/// Delivers one outbox row to Slack: a DM to the organization's only reachable owner/admin, a group DM to 2–8 of
/// them (owners first), or the system-errors channel when none of them can be reached — so a notice always reaches
/// someone. Someone Slack refuses in conversations.open (deactivated, unknown, a bot, …) is dropped, their cached id
/// cleared, and the rest are tried again.
/// </summary>
public sealed class SlackNotifier(RosterDb db, SlackClient slack, SlackOptions options, NotificationMessages messages,
    TimeProvider clock, ILogger<SlackNotifier> log) : IOutboxSender
{
    public IReadOnlyCollection<string> Kinds { get; } = [NotificationKinds.MembershipRefused, NotificationKinds.SeatWarning];

    public bool IsConfigured => options.HasToken;

    public string ConfiguredBy => "Slack:BotToken";

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

        var recipients = (await RecipientsAsync(message.OrganizationId, ct)).ToList();
        var channel = await OpenAsync(recipients, ct);
        if (channel is null)
        {
            if (string.IsNullOrWhiteSpace(options.SystemErrorsChannel))
                throw new UndeliverableNotificationException(
                    "no owner or admin of the organization can be reached on Slack and Slack:SystemErrorsChannel is not set");
            var fallback = NotificationMessages.ForSystemErrors(message);
            var ts = await slack.PostMessageAsync(options.SystemErrorsChannel, fallback.Text, fallback.Blocks, ct);
            return new SlackDelivery(options.SystemErrorsChannel, 0, ts);
        }

        var sent = await slack.PostMessageAsync(channel, message.Text, message.Blocks, ct);
        return new SlackDelivery(channel, recipients.Count, sent);
    }

    /// <summary>
    /// Opens the DM or group DM of whoever of <paramref name="recipients"/> Slack accepts (the list is narrowed to
    /// them), or returns null when nobody is left. conversations.open refuses the whole call for one bad id without
    /// saying which, so after such a refusal each person is tried alone (a 1:1 open changes nothing anyone sees).
    /// </summary>
    private async Task<string?> OpenAsync(List<SlackRecipient> recipients, CancellationToken ct)
    {
        // Each round drops at least one person or ends, so this runs at most MaxGroupSize + 1 times.
        while (recipients.Count > 0)
        {
            SlackApiException refusal;
            try
            {
                return await slack.OpenConversationAsync(recipients.Select(r => r.SlackUserId).ToList(), ct);
            }
            catch (SlackApiException ex) when (ex.IsRecipient)
            {
                refusal = ex;
            }

            if (recipients.Count == 1)
            {
                await ForgetAsync(recipients[0], refusal.Error, ct);
                recipients.Clear();
                break;
            }

            var refused = new List<SlackRecipient>();
            foreach (var recipient in recipients)
            {
                try
                {
                    await slack.OpenConversationAsync([recipient.SlackUserId], ct);
                }
                catch (SlackApiException ex) when (ex.IsRecipient)
                {
                    await ForgetAsync(recipient, ex.Error, ct);
                    refused.Add(recipient);
                }
            }
            if (refused.Count == 0)
            {
                // Everyone can be reached alone but not together (invalid_user_combination): the first, an owner if any, is told.
                log.LogWarning("Slack refused a group DM ({Error}) though each member can be messaged alone; only the first is told", refusal.Error);
                recipients.RemoveRange(1, recipients.Count - 1);
                continue;
            }
            recipients.RemoveAll(refused.Contains);
        }
        return null;
    }

    /// <summary>Slack will not let this person be messaged: their cached id goes, and "not on Slack" is remembered for a while.</summary>
    private async Task ForgetAsync(SlackRecipient recipient, string error, CancellationToken ct)
    {
        log.LogWarning("Slack refused user {UserId} (Slack id {SlackUserId}): {Error}; dropped from this notice and their Slack id cleared",
            recipient.UserId, recipient.SlackUserId, error);
        var now = clock.GetUtcNow().UtcDateTime;
        await db.Users.Where(u => u.Id == recipient.UserId && u.SlackUserId == recipient.SlackUserId)
            .ExecuteUpdateAsync(s => s
                .SetProperty(u => u.SlackUserId, (string?)null)
                .SetProperty(u => u.SlackNotFoundAt, now), ct);
    }

    /// <summary>
    /// The organization's active owners and admins that Slack can reach, owners first, at most <see cref="MaxGroupSize"/>.
    /// A cached Slack id counts only for the email it was looked up with; otherwise the email is looked up (and the
    /// answer kept on the user). Nobody by that email, or only a deactivated user or a bot, is "not on Slack", believed
    /// for <see cref="SlackOptions.NotFoundCacheMinutes"/>.
    /// </summary>
    public async Task<IReadOnlyList<SlackRecipient>> RecipientsAsync(Guid organizationId, CancellationToken ct)
    {
        var managers = await (
                from m in db.Memberships
                join u in db.Users on m.UserId equals u.Id
                where m.OrganizationId == organizationId && m.DeletedAt == null && m.Status == MembershipStatus.Active
                      && (m.Role == Roles.Owner || m.Role == Roles.Admin) && u.DeletedAt == null
                orderby m.Role == Roles.Owner ? 0 : 1, m.CreatedAt, u.Id
                select new { u.Id, u.Email, u.SlackUserId, u.SlackLookupEmail, u.SlackNotFoundAt })
            .AsNoTracking()
            .ToListAsync(ct);

        var now = clock.GetUtcNow().UtcDateTime;
        var recipients = new List<SlackRecipient>();
        foreach (var manager in managers.DistinctBy(m => m.Id))
        {
            if (recipients.Count == MaxGroupSize) break;
            var sameEmail = string.Equals(manager.SlackLookupEmail, manager.Email, StringComparison.OrdinalIgnoreCase);
            string? slackId;
            if (sameEmail && !string.IsNullOrEmpty(manager.SlackUserId))
            {
                slackId = manager.SlackUserId;
            }
            else if (sameEmail && manager.SlackNotFoundAt is { } notFoundAt && now - notFoundAt < options.NotFoundCache)
            {
                continue;
            }
            else
            {
                var found = await slack.LookupUserByEmailAsync(manager.Email, ct);
                slackId = found is { CanBeMessaged: true } ? found.Id : null;
                var email = manager.Email;
                DateTime? notFound = slackId is null ? now : null;
                // Only while the email is still the one looked up: a change meanwhile is looked up next time.
                await db.Users.Where(u => u.Id == manager.Id && u.Email == email)
                    .ExecuteUpdateAsync(s => s
                        .SetProperty(u => u.SlackUserId, slackId)
                        .SetProperty(u => u.SlackLookupEmail, email)
                        .SetProperty(u => u.SlackNotFoundAt, notFound), ct);
                if (slackId is null) continue;
            }
            if (!recipients.Any(r => r.SlackUserId == slackId)) recipients.Add(new SlackRecipient(manager.Id, slackId));
        }
        return recipients;
    }
}
