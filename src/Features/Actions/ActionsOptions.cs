using Roster.Infrastructure.Configuration;

namespace Roster.Features.Actions;

/// <summary>
/// <c>Actions__Enabled</c> turns on <c>POST /webhooks/workos/actions</c>; <c>Actions__WhenStorageDown</c> (<c>allow</c> |
/// <c>deny</c>) is the verdict given when the database cannot be reached; the signing secret is
/// <c>WorkOS__ActionsSecret</c>, beside the webhook secret but a different one (WorkOS issues one per actions endpoint).
/// </summary>
public sealed class ActionsOptions : IValidatedSettings
{
    public bool Enabled { get; set; }
    public string WhenStorageDown { get; set; } = "allow";

    /// <summary>From <c>WorkOS:ActionsSecret</c>; never logged.</summary>
    public string? Secret { get; set; }

    /// <summary>The SDK's <c>actions.constructAction</c> default: a context signed longer ago than this is refused.</summary>
    public static readonly TimeSpan Tolerance = TimeSpan.FromSeconds(30);

    public bool AllowWhenStorageDown => string.Equals(WhenStorageDown, "allow", StringComparison.OrdinalIgnoreCase);

    public IEnumerable<string> Problems()
    {
        // A typo here would silently pick a side at the worst moment; the service refuses to start instead.
        if (!AllowWhenStorageDown && !string.Equals(WhenStorageDown, "deny", StringComparison.OrdinalIgnoreCase))
            yield return $"Actions:WhenStorageDown must be 'allow' or 'deny', not '{WhenStorageDown}'.";
    }
}
