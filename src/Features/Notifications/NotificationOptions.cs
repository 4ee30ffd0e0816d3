using Roster.Infrastructure.Configuration;

namespace Roster.Features.Notifications;

/// <summary>Slack Web API access (configuration section <c>Slack</c>). The bot token is a secret: never log it.</summary>
public sealed class SlackOptions : IValidatedSettings
{
    public string? BotToken { get; set; }
    public string BaseUrl { get; set; } = "https://slack.com/api/";

    /// <summary>Channel id (or name) that gets a notification when no owner or admin of the org is on Slack.</summary>
    public string? SystemErrorsChannel { get; set; }

    /// <summary>
    /// How long "this email is not on Slack" (users_not_found, or only a deactivated user or a bot) is believed before
    /// the email is looked up again; 0 asks every time. users.lookupByEmail is rate limited (Tier 3).
    /// </summary>
    public int NotFoundCacheMinutes { get; set; } = 60;

    public TimeSpan NotFoundCache => TimeSpan.FromMinutes(NotFoundCacheMinutes);

    /// <summary>
    /// Quick retries inside one Slack call (network errors, timeouts, HTTP 5xx) of users.lookupByEmail and
    /// conversations.open; never of chat.postMessage. The outbox retries beyond that.
    /// </summary>
    public int InCallRetries { get; set; } = 2;

    public TimeSpan InCallRetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Timeout of one HTTP try.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public bool HasToken => !string.IsNullOrWhiteSpace(BotToken);

    public Uri BaseUri => new(BaseUrl.EndsWith('/') ? BaseUrl : BaseUrl + "/", UriKind.Absolute);

    public IEnumerable<string> Problems()
    {
        if (!Settings.IsHttpUrl(BaseUrl)) yield return "Slack:BaseUrl must be an absolute http(s) URL.";
        if (NotFoundCacheMinutes is < 0 or > 10080) yield return "Slack:NotFoundCacheMinutes must be between 0 and 10080 (a week).";
        if (InCallRetries is < 0 or > 10) yield return "Slack:InCallRetries must be between 0 and 10.";
        if (InCallRetryDelay <= TimeSpan.Zero) yield return "Slack:InCallRetryDelay must be positive.";
        if (RequestTimeout <= TimeSpan.Zero) yield return "Slack:RequestTimeout must be positive.";
    }

    // The token must never reach a log line, even through a debugger display or an accidental interpolation.
    public override string ToString() => $"SlackOptions {{ BaseUrl = {BaseUrl}, BotToken = {(HasToken ? "***" : "(none)")} }}";
}

/// <summary>
/// Pages the messages link to (configuration section <c>Links</c>). <c>{organizationId}</c> and
/// <c>{workosOrganizationId}</c> in a URL are replaced with the organization's ids.
/// </summary>
public sealed class LinkOptions : IValidatedSettings
{
    /// <summary>
    /// The console's members page (<c>Console__PublicUrl</c>, else <c>http://localhost:5080/</c>, + <c>console/orgs/{organizationId}/members</c>):
    /// what "Manage team" opens when <c>Links__ManageTeamUrl</c> is not set.
    /// </summary>
    public static string DefaultManageTeamUrl(string? publicUrl) =>
        (string.IsNullOrWhiteSpace(publicUrl) ? "http://localhost:5080/" : publicUrl.TrimEnd('/') + "/") + "console/orgs/{organizationId}/members";

    public string? UpgradeUrl { get; set; }
    public string? ManageTeamUrl { get; set; }

    public IEnumerable<string> Problems()
    {
        foreach (var (key, value) in new[] { ("Links:UpgradeUrl", UpgradeUrl), ("Links:ManageTeamUrl", ManageTeamUrl) })
        {
            if (string.IsNullOrWhiteSpace(value)) continue;
            var probe = value.Replace("{organizationId}", "x", StringComparison.Ordinal)
                .Replace("{workosOrganizationId}", "x", StringComparison.Ordinal);
            if (!Settings.IsHttpUrl(probe)) yield return $"{key} must be an absolute http(s) URL.";
        }
    }
}
