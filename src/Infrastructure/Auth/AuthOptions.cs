using Roster.Infrastructure.Configuration;

namespace Roster.Infrastructure.Auth;

public sealed class AuthOptions : IValidatedSettings
{
    public string Issuer { get; set; } = "roster-dev";
    public string Audience { get; set; } = "roster";

    /// <summary>JWKS document of the identity provider (WorkOS AuthKit or another) whose tokens are trusted.</summary>
    public string? JwksUrl { get; set; }

    /// <summary>An RSA private key (PEM, or base64 PKCS#8) whose tokens are trusted and that dev-token signs with.</summary>
    public string? DevSigningKey { get; set; }

    public const string PlatformAdminPermission = "roster:admin";

    public IEnumerable<string> Problems()
    {
        if (string.IsNullOrWhiteSpace(Issuer)) yield return "Auth:Issuer must be set.";
        if (string.IsNullOrWhiteSpace(Audience)) yield return "Auth:Audience must be set.";
        if (!string.IsNullOrWhiteSpace(JwksUrl) && !(Uri.TryCreate(JwksUrl, UriKind.Absolute, out var jwks) && jwks.Scheme is "https" or "http"))
            yield return "Auth:JwksUrl must be an absolute http(s) address.";
        if (!string.IsNullOrWhiteSpace(DevSigningKey) && Roster.Infrastructure.Auth.DevSigningKey.TryParse(DevSigningKey) is null)
            yield return "Auth:DevSigningKey is not an RSA private key (PEM, or base64 PKCS#8)."; // never echo the value: it is a secret
    }
}
