using System.Globalization;
using System.Text.Json.Nodes;
using Roster.Infrastructure.Data;

namespace Roster.Features.Notifications;

/// <summary>What to post: a plain fallback text (notifications, screen readers) and the Block Kit blocks.</summary>
public sealed record SlackMessage(Guid OrganizationId, string OrganizationName, string Text, JsonArray Blocks);

/// <summary>Turns an outbox row into the Slack message for it.</summary>
public sealed class NotificationMessages(LinkOptions links)
{
    private const int MaxNameLength = 200;

    public SlackMessage For(NotificationOutboxRow row) => row.Kind switch
    {
        NotificationKinds.MembershipRefused => MembershipRefused(Outbox.Read<MembershipRefusedNotification>(row)),
        NotificationKinds.SeatWarning => SeatWarning(Outbox.Read<SeatWarningNotification>(row)),
        _ => throw new NotSupportedException($"unknown notification kind '{row.Kind}'"),
    };

    public SlackMessage MembershipRefused(MembershipRefusedNotification n)
    {
        n = n with { OrganizationName = Clip(n.OrganizationName), Name = n.Name is null ? null : Clip(n.Name), SeatType = Clip(n.SeatType) };
        var person = PersonOf(n);
        var seats = SeatsOf(n.SeatType, n.Used, n.Limit);
        var text = $"{Escape(person)} was not added to {Escape(n.OrganizationName)}: {seats}." + LinksText(n.OrganizationId, n.WorkosOrganizationId);
        var section = $":no_entry: *{Escape(person)}* was not added to *{Escape(n.OrganizationName)}*.\n"
                      + $"WorkOS added them, but the organization's *{Escape(n.SeatType)}* seats are all taken "
                      + $"({n.Used}/{LimitText(n.Limit)} used), so Roster refused the membership. "
                      + "Upgrade the plan or free a seat, then add them again.";
        return new SlackMessage(n.OrganizationId, n.OrganizationName, text, Blocks(section, n.OrganizationId, n.WorkosOrganizationId));
    }

    public SlackMessage SeatWarning(SeatWarningNotification n)
    {
        n = n with { OrganizationName = Clip(n.OrganizationName), SeatType = Clip(n.SeatType) };
        var seats = SeatsOf(n.SeatType, n.Used, n.Limit);
        var full = n.Limit >= 0 && n.Used >= n.Limit;
        var headline = full
            ? $"{Escape(n.OrganizationName)} has no {Escape(n.SeatType)} seats left: {seats}."
            : $"{Escape(n.OrganizationName)} has used {n.ThresholdPercent.ToString(CultureInfo.InvariantCulture)}% of its {Escape(n.SeatType)} seats: {seats}.";
        var section = (full ? ":warning: " : ":information_source: ") + headline
                      + (full ? "\nNobody else can join with this seat type until the plan is upgraded or a seat is freed." : "");
        return new SlackMessage(n.OrganizationId, n.OrganizationName, headline + LinksText(n.OrganizationId, n.WorkosOrganizationId),
            Blocks(section, n.OrganizationId, n.WorkosOrganizationId));
    }

    /// <summary>The same message, prefixed for the system-errors channel (nobody at the org could be reached).</summary>
    public static SlackMessage ForSystemErrors(SlackMessage message)
    {
        var note = $"No owner or admin of {Escape(message.OrganizationName)} ({message.OrganizationId}) could be found on Slack, so this went to the system-errors channel.";
        var blocks = new JsonArray(new JsonObject
        {
            ["type"] = "context",
            ["elements"] = new JsonArray(new JsonObject { ["type"] = "mrkdwn", ["text"] = note }),
        });
        foreach (var block in message.Blocks) blocks.Add(block!.DeepClone());
        return message with { Text = $"{note} {message.Text}", Blocks = blocks };
    }

    /// <summary>Keeps names short enough that a section stays under Slack's 3000-character limit.</summary>
    private static string Clip(string value) => value.Length <= MaxNameLength ? value : value[..(MaxNameLength - 1)] + "…";

    private static string PersonOf(MembershipRefusedNotification n) => (n.Name, n.Email) switch
    {
        ({ Length: > 0 } name, { Length: > 0 } email) => $"{name} ({email})",
        ({ Length: > 0 } name, _) => $"{name} ({n.WorkosUserId})",
        (_, { Length: > 0 } email) => email,
        _ => n.WorkosUserId,
    };

    private static string SeatsOf(string seatType, int used, int limit) =>
        $"{used}/{LimitText(limit)} {seatType} seats used";

    private static string LimitText(int limit) => limit < 0 ? "unlimited" : limit.ToString(CultureInfo.InvariantCulture);

    private JsonArray Blocks(string sectionMrkdwn, Guid organizationId, string? workosOrganizationId)
    {
        var blocks = new JsonArray(new JsonObject
        {
            ["type"] = "section",
            ["text"] = new JsonObject { ["type"] = "mrkdwn", ["text"] = sectionMrkdwn },
        });
        var buttons = new JsonArray();
        if (Url(links.UpgradeUrl, organizationId, workosOrganizationId) is { } upgrade)
            buttons.Add(Button("Upgrade plan", "roster_upgrade", upgrade, primary: true));
        if (Url(links.ManageTeamUrl, organizationId, workosOrganizationId) is { } manage)
            buttons.Add(Button("Manage team", "roster_manage_team", manage, primary: false));
        if (buttons.Count > 0) blocks.Add(new JsonObject { ["type"] = "actions", ["elements"] = buttons });
        return blocks;
    }

    private static JsonObject Button(string label, string actionId, string url, bool primary)
    {
        var button = new JsonObject
        {
            ["type"] = "button",
            ["text"] = new JsonObject { ["type"] = "plain_text", ["text"] = label },
            ["action_id"] = actionId,
            ["url"] = url,
        };
        if (primary) button["style"] = "primary";
        return button;
    }

    private string LinksText(Guid organizationId, string? workosOrganizationId)
    {
        var parts = new List<string>();
        if (Url(links.UpgradeUrl, organizationId, workosOrganizationId) is { } upgrade) parts.Add($"Upgrade: <{LinkTarget(upgrade)}|upgrade the plan>");
        if (Url(links.ManageTeamUrl, organizationId, workosOrganizationId) is { } manage) parts.Add($"Manage team: <{LinkTarget(manage)}|manage the team>");
        return parts.Count == 0 ? "" : " " + string.Join(" · ", parts);
    }

    private static string? Url(string? template, Guid organizationId, string? workosOrganizationId) =>
        string.IsNullOrWhiteSpace(template)
            ? null
            : template
                .Replace("{organizationId}", Uri.EscapeDataString(organizationId.ToString()), StringComparison.Ordinal)
                .Replace("{workosOrganizationId}", Uri.EscapeDataString(workosOrganizationId ?? organizationId.ToString()), StringComparison.Ordinal);

    /// <summary>Slack mrkdwn treats &amp;, &lt; and &gt; as control characters; everything Roster did not write is escaped.</summary>
    public static string Escape(string value) =>
        value.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    private static string LinkTarget(string url) =>
        url.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "%3C", StringComparison.Ordinal)
            .Replace(">", "%3E", StringComparison.Ordinal).Replace("|", "%7C", StringComparison.Ordinal);
}
