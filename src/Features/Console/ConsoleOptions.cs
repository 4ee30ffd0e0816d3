using Roster.Infrastructure.Configuration;

namespace Roster.Features.Console;

/// <summary>
/// The console's settings (configuration section <c>Console</c>). The WorkOS API key is <c>WorkOS__ApiKey</c>, shared with
/// the rest of the service; the AuthKit sign-in needs it and <see cref="WorkOsClientId"/>.
/// </summary>
public sealed class ConsoleOptions : IValidatedSettings
{
    /// <summary>WorkOS client id (<c>client_…</c>) of the AuthKit application; without it only the Development sign-in exists.</summary>
    public string? WorkOsClientId { get; set; }

    /// <summary>
    /// The address people reach the service at (e.g. <c>https://roster.example.com/</c>): the AuthKit <c>redirect_uri</c> is
    /// built on it, and <c>Links__ManageTeamUrl</c> defaults to its members page. Unset, the request's own address is used
    /// for the redirect and <c>http://localhost:5080/</c> for the default link.
    /// </summary>
    public string? PublicUrl { get; set; }

    /// <summary>
    /// Where the console sends its API calls (the service's own API). Unset, the address this process listens on
    /// (loopback), so a console page never reaches another instance or a proxy.
    /// </summary>
    public string? ApiBaseUrl { get; set; }

    /// <summary>How long a console session lasts without use (sliding); a WorkOS session also ends when WorkOS ends it.</summary>
    public int SessionMinutes { get; set; } = 480;

    public IEnumerable<string> Problems()
    {
        foreach (var (key, value) in new[] { ("Console:PublicUrl", PublicUrl), ("Console:ApiBaseUrl", ApiBaseUrl) })
            if (!string.IsNullOrWhiteSpace(value) && !(Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
                yield return $"{key} must be an absolute http(s) address.";
        if (SessionMinutes is < 1 or > 10080) yield return "Console:SessionMinutes must be between 1 and 10080 (a week).";
    }
}
