using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Roster.Tests.Support;

/// <summary>
/// AuthKit's authorization-code flow on the fake: <c>GET /user_management/authorize</c> (the browser arrives with
/// <c>provider=authkit</c>, <c>client_id</c>, <c>redirect_uri</c>, <c>response_type=code</c>, <c>state</c> and is sent back to
/// <c>redirect_uri</c> with a one-time <c>code</c> and the same <c>state</c>, signed in as the user a test queued with
/// <see cref="SignInNext"/>), and <c>POST /user_management/authenticate</c> (the code, or a refresh token, plus the client id
/// and the API key as client secret → the user, an access token and a rotated refresh token). tests/contracts/authkit proves
/// both against <c>@workos-inc/node</c>'s <c>getAuthorizationUrl</c>, <c>authenticateWithCode</c> and <c>authenticateWithRefreshToken</c>.
/// </summary>
public sealed partial class FakeWorkOs
{
    private readonly Queue<string> _signIns = new();
    private readonly Dictionary<string, (string UserId, string ClientId, DateTime Expires)> _codes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _refreshTokens = new(StringComparer.Ordinal);

    /// <summary>The AuthKit client id the fake's environment has (<c>client_id</c> must equal it).</summary>
    public string AuthKitClientId { get; set; } = "client_01FAKEAUTHKIT";

    /// <summary>Mints the access token of a session (a test makes it a token Roster trusts); unset, an unsigned JWT-shaped token.</summary>
    public Func<FakeUser, string>? AccessTokenFor { get; set; }

    /// <summary>The next browser that arrives at the authorize endpoint signs in as this user (queued, one per sign-in).</summary>
    public void SignInNext(string userId)
    {
        lock (_gate)
        {
            Get(_users, userId);
            _signIns.Enqueue(userId);
        }
    }

    /// <summary>Ends every session: their refresh tokens are refused from now on (WorkOS revoked them, or they expired).</summary>
    public void EndSessions()
    {
        lock (_gate) _refreshTokens.Clear();
    }

    private static bool IsAuthKitRoute(HttpRequest request) =>
        request.Path.Value is "/user_management/authorize" or "/user_management/authenticate";

    private Reply Authorize(IQueryCollection query)
    {
        var clientId = Single(query, "client_id");
        var redirectUri = Single(query, "redirect_uri");
        if (Single(query, "response_type") != "code") return Error(400, "invalid_request", "response_type must be code.");
        if (Single(query, "provider") != "authkit") return Error(400, "invalid_request", "provider must be authkit here.");
        if (clientId != AuthKitClientId) return Error(400, "invalid_client", $"Unknown client_id '{clientId}'.");
        if (redirectUri is null || !Uri.TryCreate(redirectUri, UriKind.Absolute, out var target) || target.Scheme is not ("http" or "https"))
            return Error(400, "invalid_request", "redirect_uri must be an absolute http(s) URL.");
        if (!_signIns.TryDequeue(out var userId)) return Error(400, "no_sign_in", "No sign-in is queued on the fake (SignInNext).");

        var code = "code_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        _codes[code] = (userId, clientId, DateTime.UtcNow.AddMinutes(10));
        var state = Single(query, "state");
        var location = redirectUri + (redirectUri.Contains('?') ? "&" : "?") + "code=" + Uri.EscapeDataString(code)
                       + (state is null ? "" : "&state=" + Uri.EscapeDataString(state));
        return new Reply(302, null, Location: location);
    }

    private Reply Authenticate(string body)
    {
        if (ParseBody(body, out var json) is { } bad) return bad;
        string? Text(string name) => json[name] is JsonValue v && v.TryGetValue(out string? s) ? s : null;
        if (Text("client_id") != AuthKitClientId) return OAuthError(401, "invalid_client", "Unknown client_id.");
        if (Text("client_secret") != ApiKey) return OAuthError(401, "invalid_client", "client_secret must be the API key.");

        string userId;
        switch (Text("grant_type"))
        {
            case "authorization_code":
                var code = Text("code") ?? "";
                if (!_codes.Remove(code, out var issued) || issued.Expires < DateTime.UtcNow || issued.ClientId != AuthKitClientId)
                    return OAuthError(400, "invalid_grant", "The code is invalid, expired or already used.");
                userId = issued.UserId;
                break;
            case "refresh_token":
                if (!_refreshTokens.Remove(Text("refresh_token") ?? "", out var owner))
                    return OAuthError(400, "invalid_grant", "Session has already ended.");
                userId = owner;
                break;
            default:
                return OAuthError(400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token.");
        }
        if (!_users.TryGetValue(userId, out var user)) return OAuthError(400, "invalid_grant", "The user no longer exists.");
        var refresh = "refresh_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        _refreshTokens[refresh] = userId;
        return new Reply(200, new JsonObject
        {
            ["user"] = Render(user),
            ["organization_id"] = null,
            ["access_token"] = (AccessTokenFor ?? UnsignedAccessToken)(user),
            ["refresh_token"] = refresh,
            ["authentication_method"] = "Password",
        });
    }

    /// <summary>WorkOS answers the authenticate endpoint's refusals OAuth-style: <c>{"error","error_description"}</c>.</summary>
    private static Reply OAuthError(int status, string error, string description) =>
        new(status, new JsonObject { ["error"] = error, ["error_description"] = description });

    private static string UnsignedAccessToken(FakeUser user)
    {
        static string Part(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var exp = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds();
        return $"{Part("""{"alg":"none","typ":"JWT"}""")}.{Part($$"""{"sub":"{{user.Id}}","exp":{{exp}}}""")}.";
    }
}
