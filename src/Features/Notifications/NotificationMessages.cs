using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Outbox;
using Roster.Infrastructure.Seats;

namespace Roster.Features.Notifications;

/// <summary>
/// What to post: a fallback text (notifications, screen readers) and the Block Kit blocks. <paramref name="OrganizationNameMrkdwn"/>
/// is the organization's name already made safe for mrkdwn (<see cref="Mrkdwn.Text"/>).
/// </summary>
public sealed record SlackMessage(Guid OrganizationId, string OrganizationNameMrkdwn, string Text, JsonArray Blocks);

/// <summary>
/// Text Roster did not write (names, emails, seat types), made safe for Slack mrkdwn in one place: escaped first
/// (<c>&amp; &lt; &gt;</c> as entities; <c>* _ ~ `</c>, which would format, as look-alikes <c>∗ ˍ ∼ ˋ</c> — except an
/// underscore between two letters or digits, which Slack never reads as italics; line breaks
/// and other control characters as spaces, so nobody can forge a line of the message), then clipped to a length on
/// grapheme boundaries, never inside an entity, an emoji or a combining sequence. Lengths are UTF-16 code units,
/// which is at least what Slack counts. Identifiers Roster or WorkOS mint (<c>user_…</c>, seat types such as
/// <c>community_only</c>) keep their underscores (<c>formatting: false</c>): inside a word they cannot format.
/// </summary>
public static class Mrkdwn
{
    public const string Ellipsis = "…";

    public static string Text(string value, int maxLength, bool formatting = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 2);
        var graphemes = new List<string>();
        var elements = StringInfo.GetTextElementEnumerator(value);
        while (elements.MoveNext()) graphemes.Add(elements.GetTextElement());
        var pieces = new List<string>(graphemes.Count);
        var total = 0;
        for (var i = 0; i < graphemes.Count; i++)
        {
            // An underscore inside a word (john_doe@…) cannot start or end italics: it stays, so emails read as they are.
            var inWord = graphemes[i] == "_" && i > 0 && i < graphemes.Count - 1 && IsWordCharacter(graphemes[i - 1]) && IsWordCharacter(graphemes[i + 1]);
            var piece = Escape(graphemes[i], formatting && !inWord);
            pieces.Add(piece);
            total += piece.Length;
        }
        if (total <= maxLength) return string.Concat(pieces);

        var clipped = new StringBuilder(maxLength);
        foreach (var piece in pieces)
        {
            if (clipped.Length + piece.Length > maxLength - Ellipsis.Length) break;
            clipped.Append(piece);
        }
        return clipped.Append(Ellipsis).ToString();
    }

    private static bool IsWordCharacter(string grapheme) => char.IsLetterOrDigit(grapheme, 0);

    /// <summary>One grapheme, escaped (a CR LF pair is one grapheme: it becomes one space).</summary>
    private static string Escape(string grapheme, bool formatting)
    {
        if (grapheme is "\r\n") return " ";
        StringBuilder? sb = null;
        for (var i = 0; i < grapheme.Length; i++)
        {
            var c = grapheme[i];
            var replacement = c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '*' when formatting => "\u2217",
                '_' when formatting => "\u02CD",
                '~' when formatting => "\u223C",
                '`' when formatting => "\u02CB",
                '\u2028' or '\u2029' or '\u0085' => " ",
                _ when char.IsControl(c) => " ",
                _ => null,
            };
            if (replacement is null && sb is null) continue;
            sb ??= new StringBuilder(grapheme, 0, i, grapheme.Length + 8);
            if (replacement is null) sb.Append(c);
            else sb.Append(replacement);
        }
        return sb?.ToString() ?? grapheme;
    }
}

/// <summary>
/// Turns an outbox row into the Slack message for it. Every value Roster did not write goes through
/// <see cref="Mrkdwn.Text"/> with a budget, so the section stays far inside Block Kit's 3000 characters whatever the
/// names hold, and the mrkdwn texts are <c>verbatim</c> (no auto-linked URLs, channels or mentions).
/// </summary>
public sealed class NotificationMessages(LinkOptions links)
{
    private const int MaxName = 200;
    private const int MaxEmail = 254;
    private const int MaxSeatType = 100;
    private const int MaxId = 100;

    /// <summary>Block Kit's limit for a section's (and a context element's) text, and for a button's URL.</summary>
    public const int MaxBlockText = 3000;
    public const int MaxUrl = 3000;

    public SlackMessage For(NotificationOutboxRow row) => row.Kind switch
    {
        NotificationKinds.MembershipRefused => MembershipRefused(Outbox.Read<MembershipRefusedNotification>(row)),
        NotificationKinds.SeatWarning => SeatWarning(Outbox.Read<SeatWarningNotification>(row)),
        _ => throw new NotSupportedException($"unknown notification kind '{row.Kind}'"),
    };

    public SlackMessage MembershipRefused(MembershipRefusedNotification n)
    {
        var person = PersonOf(n);
        var org = Mrkdwn.Text(n.OrganizationName, MaxName);
        var seatType = Mrkdwn.Text(n.SeatType, MaxSeatType, formatting: false);
        var seats = SeatsOf(seatType, n.Used, n.Limit);
        var signIn = n.Via == "sign_in";
        var what = signIn ? "could not sign in to" : "was not added to";
        var text = $"{person} {what} {org}: {seats}." + LinksText(n.OrganizationId, n.WorkosOrganizationId);
        var section = $":no_entry: *{person}* {what} *{org}*.\n"
                      + (signIn
                          ? $"They tried to sign in, but the organization's *{seatType}* seats are all taken "
                            + $"({n.Used}/{LimitText(n.Limit)} used), so Roster denied the sign-in. "
                            + "Upgrade the plan or free a seat; they can then sign in again."
                          : $"WorkOS added them, but the organization's *{seatType}* seats are all taken "
                            + $"({n.Used}/{LimitText(n.Limit)} used), so Roster refused the membership. "
                            + "Upgrade the plan or free a seat, then add them again.");
        return new SlackMessage(n.OrganizationId, org, text, Blocks(section, n.OrganizationId, n.WorkosOrganizationId));
    }

    public SlackMessage SeatWarning(SeatWarningNotification n)
    {
        var org = Mrkdwn.Text(n.OrganizationName, MaxName);
        var seatType = Mrkdwn.Text(n.SeatType, MaxSeatType, formatting: false);
        var seats = SeatsOf(seatType, n.Used, n.Limit);
        var full = n.Limit >= 0 && n.Used >= n.Limit;
        var headline = full
            ? $"{org} has no {seatType} seats left: {seats}."
            : $"{org} has used {n.ThresholdPercent.ToString(CultureInfo.InvariantCulture)}% of its {seatType} seats: {seats}.";
        var section = (full ? ":warning: " : ":information_source: ") + headline
                      + (full ? "\nNobody else can join with this seat type until the plan is upgraded or a seat is freed." : "");
        return new SlackMessage(n.OrganizationId, org, headline + LinksText(n.OrganizationId, n.WorkosOrganizationId),
            Blocks(section, n.OrganizationId, n.WorkosOrganizationId));
    }

    /// <summary>The same message, prefixed for the system-errors channel (nobody at the org could be reached).</summary>
    public static SlackMessage ForSystemErrors(SlackMessage message)
    {
        var note = $"No owner or admin of {message.OrganizationNameMrkdwn} ({message.OrganizationId}) could be reached on Slack, so this went to the system-errors channel.";
        var blocks = new JsonArray(new JsonObject
        {
            ["type"] = "context",
            ["elements"] = new JsonArray(MrkdwnText(note)),
        });
        foreach (var block in message.Blocks) blocks.Add(block!.DeepClone());
        return message with { Text = $"{note} {message.Text}", Blocks = blocks };
    }

    private static JsonObject MrkdwnText(string text) => new() { ["type"] = "mrkdwn", ["text"] = text, ["verbatim"] = true };

    private static string PersonOf(MembershipRefusedNotification n)
    {
        var name = string.IsNullOrWhiteSpace(n.Name) ? null : Mrkdwn.Text(n.Name, MaxName);
        var email = string.IsNullOrWhiteSpace(n.Email) ? null : Mrkdwn.Text(n.Email, MaxEmail);
        var id = Mrkdwn.Text(n.WorkosUserId, MaxId, formatting: false);
        return (name, email) switch
        {
            ({ } nm, { } em) => $"{nm} ({em})",
            ({ } nm, null) => $"{nm} ({id})",
            (null, { } em) => em,
            _ => id,
        };
    }

    private static string SeatsOf(string seatTypeMrkdwn, int used, int limit) =>
        $"{used}/{LimitText(limit)} {seatTypeMrkdwn} seats used";

    private static string LimitText(int limit) => limit < 0 ? "unlimited" : limit.ToString(CultureInfo.InvariantCulture);

    private JsonArray Blocks(string sectionMrkdwn, Guid organizationId, string? workosOrganizationId)
    {
        var blocks = new JsonArray(new JsonObject { ["type"] = "section", ["text"] = MrkdwnText(sectionMrkdwn) });
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

    /// <summary>The link, or none when it would break Block Kit's URL limit (a button is better missing than the message lost).</summary>
    private static string? Url(string? template, Guid organizationId, string? workosOrganizationId)
    {
        if (string.IsNullOrWhiteSpace(template)) return null;
        var url = template
            .Replace("{organizationId}", Uri.EscapeDataString(organizationId.ToString()), StringComparison.Ordinal)
            .Replace("{workosOrganizationId}", Uri.EscapeDataString(workosOrganizationId ?? organizationId.ToString()), StringComparison.Ordinal);
        return LinkTarget(url).Length <= MaxUrl ? url : null;
    }

    private static string LinkTarget(string url) =>
        url.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "%3C", StringComparison.Ordinal)
            .Replace(">", "%3E", StringComparison.Ordinal).Replace("|", "%7C", StringComparison.Ordinal);
}
