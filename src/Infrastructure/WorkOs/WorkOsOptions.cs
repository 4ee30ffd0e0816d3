using Roster.Infrastructure.Configuration;

namespace Roster.Infrastructure.WorkOs;

/// <summary>WorkOS access (configuration section <c>WorkOS</c>): webhook and Actions verification, the API, sync and outbound writes.</summary>
public sealed class WorkOsOptions : IValidatedSettings
{
    public string? WebhookSecret { get; set; }
    public int WebhookToleranceSeconds { get; set; } = 180;
    public string? ApiKey { get; set; }
    public string BaseUrl { get; set; } = "https://api.workos.com/";

    /// <summary>Outbound writes and Events API sync happen only with an API key; without one Roster runs standalone.</summary>
    public bool IsApiConfigured => !string.IsNullOrWhiteSpace(ApiKey);

    public int MaxRetries { get; set; } = 3;
    public int RetryBaseDelayMilliseconds { get; set; } = 200;
    public int MaxRetryAfterSeconds { get; set; } = 30;

    /// <summary>How long after a webhook its organization's Events API sync runs (later webhooks push it back).</summary>
    public int SyncDebounceSeconds { get; set; } = 5;

    /// <summary>Seconds between full reconciliations of every organization through the Events API; 0 (the default) turns it off.</summary>
    public int ReconcileIntervalSeconds { get; set; }

    /// <summary>
    /// The WorkOS role slug each Roster role is written as (<c>WorkOS__RoleSlugs__owner=admin</c>, …); a role not listed is
    /// written under its own name. WorkOS environments start with <c>member</c> and <c>admin</c> only, so <c>owner</c>
    /// needs either a WorkOS role of that slug or an entry here.
    /// </summary>
    public Dictionary<string, string> RoleSlugs { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    public string RoleSlugFor(string rosterRole) =>
        RoleSlugs.TryGetValue(rosterRole, out var slug) && !string.IsNullOrWhiteSpace(slug) ? slug.Trim() : rosterRole;

    public IEnumerable<string> Problems()
    {
        if (!Settings.IsHttpUrl(BaseUrl)) yield return "WorkOS:BaseUrl must be an absolute http(s) URL.";
        if (WebhookToleranceSeconds < 1) yield return "WorkOS:WebhookToleranceSeconds must be at least 1.";
        if (MaxRetries is < 0 or > 10) yield return "WorkOS:MaxRetries must be between 0 and 10.";
        if (RetryBaseDelayMilliseconds is < 1 or > 60_000) yield return "WorkOS:RetryBaseDelayMilliseconds must be between 1 and 60000.";
        if (MaxRetryAfterSeconds is < 0 or > 3600) yield return "WorkOS:MaxRetryAfterSeconds must be between 0 and 3600.";
        if (SyncDebounceSeconds < 0) yield return "WorkOS:SyncDebounceSeconds must not be negative.";
        if (ReconcileIntervalSeconds < 0) yield return "WorkOS:ReconcileIntervalSeconds must not be negative (0 turns reconciliation off).";
        foreach (var (role, slug) in RoleSlugs)
            if (!string.IsNullOrWhiteSpace(slug) && !Memberships.RoleSlug.IsValid(slug.Trim()))
                yield return $"WorkOS:RoleSlugs:{role} must be a role slug (lowercase letters, digits, '-', '_' and ':').";
    }

    // The API key and webhook secret must never reach a log line.
    public override string ToString() => $"WorkOsOptions {{ BaseUrl = {BaseUrl}, ApiKey = {(IsApiConfigured ? "***" : "(none)")} }}";
}
