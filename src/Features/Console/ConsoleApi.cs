using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Roster.Features.Console;

/// <summary>A problem document the API answered: what the console shows next to the action that failed.</summary>
public sealed record ApiProblem(int Status, string Code, string? Title, string? Detail, IReadOnlyDictionary<string, string[]>? Errors)
{
    /// <summary>The sentence to show: the detail, else the first field error, else the title.</summary>
    public string Message => Detail is { Length: > 0 } detail ? detail
        : Errors?.SelectMany(e => e.Value).FirstOrDefault() is { } first ? first
        : Title ?? $"The request failed ({Status}).";
}

/// <summary>What one API call answered: the value, or the problem; and the cursor of the next page when the list has one.</summary>
public sealed record ApiResult<T>(int Status, T? Value, ApiProblem? Problem, string? NextAfter)
{
    public bool Ok => Problem is null;
}

/// <summary>
/// The console's only way to read or change anything: the service's own HTTP API, called over loopback with the signed-in
/// person's bearer token. Every rule (consent, seats, last owner, authorization, validation, rate limits, idempotency) and
/// every code and detail is therefore exactly the API's — the console holds no copy of any of them. An AuthKit session
/// whose access token has expired is refreshed with its refresh token once; when WorkOS refuses that, the session ends.
/// </summary>
public sealed class ConsoleApi(IHttpContextAccessor accessor, IHttpClientFactory clients, IServer server, ConsoleOptions options,
    IServiceProvider services, ILogger<ConsoleApi> logger)
{
    public const string HttpClientName = "roster-console-api";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public Task<ApiResult<T>> GetAsync<T>(string path, CancellationToken ct = default) => SendAsync<T>(HttpMethod.Get, path, null, ct);

    public Task<ApiResult<JsonElement>> PostAsync(string path, object? body = null, CancellationToken ct = default) =>
        SendAsync<JsonElement>(HttpMethod.Post, path, body, ct);

    public Task<ApiResult<JsonElement>> PutAsync(string path, object? body = null, CancellationToken ct = default) =>
        SendAsync<JsonElement>(HttpMethod.Put, path, body, ct);

    public Task<ApiResult<JsonElement>> PatchAsync(string path, object? body, CancellationToken ct = default) =>
        SendAsync<JsonElement>(HttpMethod.Patch, path, body, ct);

    public Task<ApiResult<JsonElement>> DeleteAsync(string path, CancellationToken ct = default) =>
        SendAsync<JsonElement>(HttpMethod.Delete, path, null, ct);

    public async Task<ApiResult<T>> SendAsync<T>(HttpMethod method, string path, object? body, CancellationToken ct)
    {
        var http = accessor.HttpContext ?? throw new InvalidOperationException("The console calls the API from a request only.");
        var session = await http.AuthenticateAsync(ConsoleSession.Scheme);
        if (!session.Succeeded || session.Properties is null || ConsoleSession.AccessToken(session.Properties) is not { } token)
            throw new ConsoleSessionEndedException("Not signed in.");

        if (IsExpired(token)) token = await RefreshAsync(http, session, ct);
        var response = await CallAsync(method, path, body, token, ct);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            // A token the API no longer takes: refreshed once (an AuthKit session); otherwise the session is over.
            response.Dispose();
            token = await RefreshAsync(http, session, ct);
            response = await CallAsync(method, path, body, token, ct);
            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                response.Dispose();
                throw new ConsoleSessionEndedException("The API refused the session's token.");
            }
        }
        using (response) return await ReadAsync<T>(response, ct);
    }

    private async Task<HttpResponseMessage> CallAsync(HttpMethod method, string path, object? body, string token, CancellationToken ct)
    {
        var client = clients.CreateClient(HttpClientName);
        using var request = new HttpRequestMessage(method, new Uri(ApiBase(), path.TrimStart('/')));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (body is not null) request.Content = JsonContent.Create(body, body.GetType(), options: Json);
        return await client.SendAsync(request, ct);
    }

    private static async Task<ApiResult<T>> ReadAsync<T>(HttpResponseMessage response, CancellationToken ct)
    {
        var status = (int)response.StatusCode;
        var text = await response.Content.ReadAsStringAsync(ct);
        if (status >= 400) return new ApiResult<T>(status, default, ProblemOf(status, text), null);
        var value = text.Length == 0 ? default : JsonSerializer.Deserialize<T>(text, Json);
        return new ApiResult<T>(status, value, null, NextAfterOf(response));
    }

    private static ApiProblem ProblemOf(int status, string text)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement;
            string? Text(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            Dictionary<string, string[]>? errors = null;
            if (root.TryGetProperty("errors", out var e) && e.ValueKind == JsonValueKind.Object)
                errors = e.EnumerateObject().ToDictionary(p => p.Name,
                    p => p.Value.ValueKind == JsonValueKind.Array ? [.. p.Value.EnumerateArray().Select(x => x.ToString())] : new[] { p.Value.ToString() });
            return new ApiProblem(status, Text("code") ?? "unknown", Text("title"), Text("detail"), errors);
        }
        catch (JsonException)
        {
            return new ApiProblem(status, "unknown", null, $"The request failed ({status}).", null);
        }
    }

    /// <summary>The <c>after</c> cursor of the <c>Link: &lt;…&gt;; rel="next"</c> header (RFC 8288), when there is a next page.</summary>
    private static string? NextAfterOf(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Link", out var links)) return null;
        foreach (var link in links.SelectMany(l => l.Split(',')))
        {
            if (!link.Contains("rel=\"next\"", StringComparison.Ordinal)) continue;
            var start = link.IndexOf('<');
            var end = link.IndexOf('>');
            if (start < 0 || end <= start) continue;
            var target = link[(start + 1)..end];
            var query = target.Contains('?') ? target[(target.IndexOf('?') + 1)..] : "";
            var after = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(query).TryGetValue("after", out var a) ? a.ToString() : null;
            if (!string.IsNullOrEmpty(after)) return after;
        }
        return null;
    }

    private async Task<string> RefreshAsync(HttpContext http, AuthenticateResult session, CancellationToken ct)
    {
        var properties = session.Properties!;
        var refreshToken = ConsoleSession.RefreshToken(properties);
        var authKit = services.GetService<AuthKit>();
        if (refreshToken is null || authKit is null)
            throw new ConsoleSessionEndedException("The session's token expired.");
        AuthKitSession refreshed;
        try
        {
            refreshed = await authKit.RefreshAsync(refreshToken, ct);
        }
        catch (AuthKitException ex)
        {
            logger.LogInformation("Console session ended: {Reason}", ex.Message);
            throw new ConsoleSessionEndedException(ex.Message);
        }
        ConsoleSession.StoreTokens(properties, refreshed.AccessToken, refreshed.RefreshToken);
        // The cookie is written again with the new tokens (WorkOS rotates the refresh token: the old one is spent).
        await http.SignInAsync(ConsoleSession.Scheme, session.Principal!, properties);
        return refreshed.AccessToken;
    }

    /// <summary>An access token past its <c>exp</c> (with 30 s to spare) is refreshed before the call rather than after a 401.</summary>
    private static bool IsExpired(string token) =>
        AuthKit.PayloadOf(token) is { } payload && payload.TryGetProperty("exp", out var exp) && exp.TryGetInt64(out var seconds)
        && DateTimeOffset.FromUnixTimeSeconds(seconds) <= DateTimeOffset.UtcNow.AddSeconds(30);

    private Uri? _apiBase;

    /// <summary>Console__ApiBaseUrl, else the address this process listens on (a wildcard host becomes loopback).</summary>
    private Uri ApiBase()
    {
        if (_apiBase is not null) return _apiBase;
        if (!string.IsNullOrWhiteSpace(options.ApiBaseUrl)) return _apiBase = new Uri(options.ApiBaseUrl.TrimEnd('/') + "/");
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var address = addresses.FirstOrDefault(a => a.StartsWith("http://", StringComparison.OrdinalIgnoreCase)) ?? addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("The service listens on no address the console can call; set Console__ApiBaseUrl.");
        var uri = new UriBuilder(address.Replace("://+", "://127.0.0.1", StringComparison.Ordinal).Replace("://*", "://127.0.0.1", StringComparison.Ordinal));
        if (uri.Host is "0.0.0.0") uri.Host = "127.0.0.1";
        if (uri.Host is "[::]" or "::") uri.Host = "[::1]";
        uri.Path = "/";
        return _apiBase = uri.Uri;
    }
}
