namespace Roster.Infrastructure.WorkOs;

/// <summary>WorkOS access (configuration section <c>WorkOS</c>): webhook and Actions verification, the API, sync and outbound writes.</summary>
public sealed class WorkOsOptions
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
}
