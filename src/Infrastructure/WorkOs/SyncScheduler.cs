using System.Collections.Concurrent;

namespace Roster.Infrastructure.WorkOs;

/// <summary>
/// Debounces the syncs webhooks ask for: a burst of events for one organization becomes one Events API sync,
/// run a few seconds after the last of them.
/// </summary>
public sealed class SyncScheduler(WorkOsOptions options, TimeProvider clock)
{
    /// <summary>The sync key of environment-wide role events (no organization).</summary>
    public const string EnvironmentKey = "";

    /// <summary>The sync key of the users' own Events API stream (user.* events).</summary>
    public const string UsersKey = "users";

    private readonly ConcurrentDictionary<string, DateTime> _due = new(StringComparer.Ordinal);

    public void AfterWebhook(WorkOsEvent evt)
    {
        if (!options.IsApiConfigured) return;
        var (organization, user) = Targets(evt);
        if (organization is not null) Schedule("org:" + organization);
        if (user is not null) Schedule("user:" + user);
    }

    public void Schedule(string key) => _due[key] = clock.GetUtcNow().UtcDateTime.AddSeconds(options.SyncDebounceSeconds);

    /// <summary>Removes and returns the keys whose quiet period is over.</summary>
    public IReadOnlyList<string> TakeDue()
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var due = new List<string>();
        foreach (var (key, at) in _due)
            if (at <= now && _due.TryRemove(new KeyValuePair<string, DateTime>(key, at))) due.Add(key);
        return due;
    }

    /// <summary>The sync key (an organization, "" for environment roles, "users" for user events) and, for user events, the user a webhook concerns.</summary>
    public static (string? Organization, string? User) Targets(WorkOsEvent evt)
    {
        string? Field(string name) => evt.Data.TryGetProperty(name, out var v) && v.ValueKind == System.Text.Json.JsonValueKind.String ? v.GetString() : null;
        var family = evt.Event[..Math.Max(0, evt.Event.LastIndexOf('.'))];
        return family switch
        {
            "organization" => (Field("id"), null),
            "organization_membership" or "organization_role" or "invitation" => (Field("organization_id"), null),
            "role" => (EnvironmentKey, null),
            // A user event also wakes the users' own Events API stream, which catches the user.* webhooks that were lost.
            "user" => (UsersKey, Field("id")),
            _ => (null, null),
        };
    }
}
