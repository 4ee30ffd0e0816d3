using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Roster.Features.Console;

/// <summary>The person WorkOS signed in, and the tokens of their WorkOS session.</summary>
public sealed record AuthKitSession(string UserId, string Email, bool EmailVerified, string? Name, string AccessToken, string RefreshToken);

/// <summary>Why WorkOS refused a code or a refresh token (its OAuth-style <c>error</c>), or that it could not be asked.</summary>
public sealed class AuthKitException(string message) : Exception(message);

/// <summary>
/// WorkOS AuthKit's authorization-code flow, as <c>@workos-inc/node</c> 11.0.0 speaks it (the contract suite compares):
/// <see cref="AuthorizationUrl"/> is the SDK's <c>getAuthorizationUrl({provider: 'authkit', clientId, redirectUri, state})</c>,
/// <see cref="ExchangeCodeAsync"/> its <c>authenticateWithCode</c> and <see cref="RefreshAsync"/> its
/// <c>authenticateWithRefreshToken</c> for a confidential client (the API key is the client secret).
/// </summary>
public sealed class AuthKit(HttpClient http, string clientId, string apiKey)
{
    public const string HttpClientName = "roster-console-authkit";

    /// <summary>Configured when both the client id and the API key are set; otherwise only the Development sign-in exists.</summary>
    public static bool IsConfigured(string? clientId, string? apiKey) => !string.IsNullOrWhiteSpace(clientId) && !string.IsNullOrWhiteSpace(apiKey);

    public string AuthorizationUrl(string redirectUri, string state)
    {
        // The SDK sorts the parameters and encodes them as RFC 1738 (space as +); the same here, so the URLs are equal.
        var query = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["client_id"] = clientId,
            ["provider"] = "authkit",
            ["redirect_uri"] = redirectUri,
            ["response_type"] = "code",
            ["state"] = state,
        };
        var baseUrl = http.BaseAddress!.GetLeftPart(UriPartial.Authority);
        return $"{baseUrl}/user_management/authorize?" + string.Join("&", query.Select(p => $"{Rfc1738(p.Key)}={Rfc1738(p.Value)}"));
    }

    public Task<AuthKitSession> ExchangeCodeAsync(string code, CancellationToken ct) =>
        AuthenticateAsync(new Dictionary<string, string?>
        {
            ["grant_type"] = "authorization_code", ["client_id"] = clientId, ["client_secret"] = apiKey, ["code"] = code,
        }, ct);

    public Task<AuthKitSession> RefreshAsync(string refreshToken, CancellationToken ct) =>
        AuthenticateAsync(new Dictionary<string, string?>
        {
            ["grant_type"] = "refresh_token", ["client_id"] = clientId, ["client_secret"] = apiKey, ["refresh_token"] = refreshToken,
        }, ct);

    private async Task<AuthKitSession> AuthenticateAsync(Dictionary<string, string?> body, CancellationToken ct)
    {
        HttpResponseMessage response;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "user_management/authenticate") { Content = JsonContent.Create(body) };
            // The SDK also sends the API key as the bearer; WorkOS reads the client secret from the body.
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
            response = await http.SendAsync(request, ct);
        }
        catch (HttpRequestException ex)
        {
            throw new AuthKitException($"WorkOS could not be reached ({ex.Message}).");
        }
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            if (!response.IsSuccessStatusCode)
                throw new AuthKitException($"WorkOS refused the sign-in ({(int)response.StatusCode} {ErrorOf(text)}).");
            AuthenticateAnswer? answer;
            try { answer = JsonSerializer.Deserialize<AuthenticateAnswer>(text); }
            catch (JsonException) { answer = null; }
            if (answer?.User?.Id is not { Length: > 0 } userId || answer.User.Email is not { Length: > 0 } email
                || answer.AccessToken is not { Length: > 0 } access || answer.RefreshToken is not { Length: > 0 } refresh)
                throw new AuthKitException("WorkOS answered the sign-in without a user or tokens.");
            var name = string.Join(' ', new[] { answer.User.FirstName, answer.User.LastName }.Where(n => !string.IsNullOrWhiteSpace(n))).Trim();
            return new AuthKitSession(userId, email, answer.User.EmailVerified, name.Length == 0 ? null : name, access, refresh);
        }
    }

    /// <summary>WorkOS answers <c>{"error","error_description"}</c> here (OAuth style) and <c>{"code","message"}</c> elsewhere.</summary>
    private static string ErrorOf(string text)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            foreach (var name in new[] { "error", "code" })
                if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String)
                    return v.GetString()!;
        }
        catch (JsonException)
        {
        }
        return "no error code";
    }

    private static string Rfc1738(string value) =>
        Uri.EscapeDataString(value).Replace("%20", "+", StringComparison.Ordinal)
            .Replace("%28", "(", StringComparison.Ordinal).Replace("%29", ")", StringComparison.Ordinal);

    /// <summary>
    /// The claims of a token WorkOS just handed over in the code exchange (server to server over TLS, so it is read, not
    /// verified here; the API verifies it on every call the console makes with it).
    /// </summary>
    public static JsonElement? PayloadOf(string jwt)
    {
        var parts = jwt.Split('.');
        if (parts.Length != 3) return null;
        try
        {
            var padded = parts[1].Replace('-', '+').Replace('_', '/');
            padded += new string('=', (4 - padded.Length % 4) % 4);
            using var doc = JsonDocument.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(padded)));
            return doc.RootElement.Clone();
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            return null;
        }
    }

    private sealed record AuthenticateAnswer(
        [property: JsonPropertyName("user")] AuthenticatedUser? User,
        [property: JsonPropertyName("access_token")] string? AccessToken,
        [property: JsonPropertyName("refresh_token")] string? RefreshToken);

    private sealed record AuthenticatedUser(
        [property: JsonPropertyName("id")] string? Id,
        [property: JsonPropertyName("email")] string? Email,
        [property: JsonPropertyName("email_verified")] bool EmailVerified,
        [property: JsonPropertyName("first_name")] string? FirstName,
        [property: JsonPropertyName("last_name")] string? LastName);
}
