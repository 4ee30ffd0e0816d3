using Roster.Infrastructure.Configuration;

namespace Roster.Infrastructure.Http;

public sealed class RateLimitOptions : IValidatedSettings
{
    /// <summary>Exact-email member searches per caller per minute: search must not become a way to enumerate users.</summary>
    public int MemberSearchPerMinute { get; set; } = 30;

    public IEnumerable<string> Problems()
    {
        if (MemberSearchPerMinute < 1) yield return "RateLimits:MemberSearchPerMinute must be at least 1.";
    }
}
