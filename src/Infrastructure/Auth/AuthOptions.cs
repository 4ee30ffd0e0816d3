namespace Roster.Infrastructure.Auth;

public sealed class AuthOptions
{
    public string Issuer { get; set; } = "roster-dev";
    public string Audience { get; set; } = "roster";

    /// <summary>JWKS document of the identity provider (WorkOS AuthKit or another) whose tokens are trusted.</summary>
    public string? JwksUrl { get; set; }

    /// <summary>An RSA private key (PEM, or base64 PKCS#8) whose tokens are trusted and that dev-token signs with.</summary>
    public string? DevSigningKey { get; set; }

    public const string PlatformAdminPermission = "roster:admin";
}
