using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Roster.Infrastructure.Auth;

public sealed record TokenRequest(
    string Sub,
    string? Email,
    string? Name = null,
    bool EmailVerified = true,
    bool PlatformAdmin = false,
    TimeSpan? Lifetime = null,
    IReadOnlyList<string>? Permissions = null);

/// <summary>Mints RS256 tokens in the shape WorkOS issues them (sub, email, email_verified, name, permissions); without an email, a service credential (sub and permissions).</summary>
public static class TokenMinter
{
    public static string Mint(SecurityKey key, AuthOptions options, TokenRequest request, DateTime? now = null)
    {
        var issuedAt = now ?? DateTime.UtcNow;
        var claims = new Dictionary<string, object> { ["sub"] = request.Sub };
        // A service credential (no email) is a machine's: it has no email to verify.
        if (request.Email is not null)
        {
            claims["email"] = request.Email;
            claims["email_verified"] = request.EmailVerified;
        }
        if (request.Name is not null) claims["name"] = request.Name;
        var permissions = (request.PlatformAdmin ? [AuthOptions.PlatformAdminPermission] : Array.Empty<string>())
            .Concat(request.Permissions ?? []).ToArray();
        if (permissions.Length > 0) claims["permissions"] = permissions;

        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = options.Issuer,
            Audience = options.Audience,
            IssuedAt = issuedAt,
            NotBefore = issuedAt.AddSeconds(-5),
            Expires = issuedAt.Add(request.Lifetime ?? TimeSpan.FromHours(12)),
            Claims = claims,
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.RsaSha256),
        });
    }
}
