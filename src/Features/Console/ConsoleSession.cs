using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;

namespace Roster.Features.Console;

/// <summary>
/// A console session: who is signed in and the bearer token the console calls the API with, kept in the session cookie
/// (encrypted and signed with ASP.NET Core Data Protection, HttpOnly, Secure, SameSite=Lax). The token never reaches a
/// page or a script; only this server reads it.
/// </summary>
public static class ConsoleSession
{
    public const string Scheme = "RosterConsole";
    public const string CookieName = "roster_console";

    public const string KindClaim = "roster_console_kind";
    public const string DevKind = "dev";
    public const string AuthKitKind = "authkit";
    public const string AdminClaim = "roster_console_admin";

    private const string AccessTokenName = "access_token";
    private const string RefreshTokenName = "refresh_token";

    public static ClaimsPrincipal Principal(string kind, string sub, string email, string? name, bool platformAdmin)
    {
        var claims = new List<Claim> { new("sub", sub), new("email", email), new(KindClaim, kind) };
        if (!string.IsNullOrWhiteSpace(name)) claims.Add(new Claim("name", name));
        if (platformAdmin) claims.Add(new Claim(AdminClaim, "true"));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, Scheme, "name", null));
    }

    public static Task SignInAsync(HttpContext http, ClaimsPrincipal principal, string accessToken, string? refreshToken)
    {
        var properties = new AuthenticationProperties { IsPersistent = false, AllowRefresh = true };
        StoreTokens(properties, accessToken, refreshToken);
        return http.SignInAsync(Scheme, principal, properties);
    }

    public static void StoreTokens(AuthenticationProperties properties, string accessToken, string? refreshToken)
    {
        var tokens = new List<AuthenticationToken> { new() { Name = AccessTokenName, Value = accessToken } };
        if (refreshToken is not null) tokens.Add(new AuthenticationToken { Name = RefreshTokenName, Value = refreshToken });
        properties.StoreTokens(tokens);
    }

    public static string? AccessToken(AuthenticationProperties properties) => properties.GetTokenValue(AccessTokenName);

    public static string? RefreshToken(AuthenticationProperties properties) => properties.GetTokenValue(RefreshTokenName);

    public static bool IsPlatformAdmin(ClaimsPrincipal user) => user.HasClaim(AdminClaim, "true");

    public static string DisplayName(ClaimsPrincipal user) =>
        user.FindFirst("name")?.Value is { Length: > 0 } name ? name : user.FindFirst("email")?.Value ?? "";
}

/// <summary>The session can no longer call the API (WorkOS ended it, or its token expired): the person signs in again.</summary>
public sealed class ConsoleSessionEndedException(string reason) : Exception(reason);
