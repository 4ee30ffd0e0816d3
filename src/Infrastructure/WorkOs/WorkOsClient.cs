using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Polly;
using Polly.Retry;

namespace Roster.Infrastructure.WorkOs;

public sealed class WorkOsApiException(HttpStatusCode status, string? code, string message)
    : Exception($"WorkOS answered {(int)status} {code}: {message}")
{
    public HttpStatusCode Status { get; } = status;
    public string? Code { get; } = code;
}

/// <summary>One page of the Events API: the events with their raw JSON (kept as the event record's payload).</summary>
public sealed record EventsPage(IReadOnlyList<(WorkOsEvent Event, string Raw)> Events, string? After);

public sealed record WorkOsList<T>(IReadOnlyList<T> Data, string? After);

/// <summary>
/// The few WorkOS endpoints Roster uses, over a typed HttpClient with the API key as bearer. Transient failures
/// (429 honouring Retry-After, 5xx, network) are retried a few times with backoff and jitter before giving up.
/// </summary>
public sealed class WorkOsClient
{
    private static readonly JsonSerializerOptions Json = WorkOsEvent.Json;
    private readonly HttpClient _http;
    private readonly ResiliencePipeline<HttpResponseMessage> _retry;

    public WorkOsClient(HttpClient http, WorkOsOptions options)
    {
        _http = http;
        _http.BaseAddress ??= new Uri(options.BaseUrl.EndsWith('/') ? options.BaseUrl : options.BaseUrl + "/");
        if (!string.IsNullOrEmpty(options.ApiKey))
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.ApiKey);
        // WorkOS:MaxRetries = 0 means one try and no retry (Polly's retry strategy itself refuses 0 attempts).
        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage>();
        if (options.MaxRetries > 0)
            pipeline.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(options.RetryBaseDelayMilliseconds),
                ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
                    .Handle<HttpRequestException>()
                    .HandleResult(r => r.StatusCode == HttpStatusCode.TooManyRequests || (int)r.StatusCode >= 500),
                DelayGenerator = args => ValueTask.FromResult(
                    args.Outcome.Result?.Headers.RetryAfter?.Delta is { } wait && wait <= TimeSpan.FromSeconds(options.MaxRetryAfterSeconds)
                        ? (TimeSpan?)wait
                        : null),
            });
        _retry = pipeline.Build();
    }

    public async Task<EventsPage> ListEventsAsync(IEnumerable<string> types, string? organizationId, string? after, DateTime? rangeStart, int limit, CancellationToken ct)
    {
        // The names comma-joined in one parameter, as @workos-inc/node sends them (WorkOS also takes events[]=a&events[]=b).
        var query = new List<string> { $"events={Uri.EscapeDataString(string.Join(',', types))}" };
        if (!string.IsNullOrEmpty(organizationId)) query.Add($"organization_id={Uri.EscapeDataString(organizationId)}");
        if (!string.IsNullOrEmpty(after)) query.Add($"after={Uri.EscapeDataString(after)}");
        if (rangeStart is { } start) query.Add($"range_start={Uri.EscapeDataString(start.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'"))}");
        query.Add($"limit={limit}");

        using var document = await GetJsonAsync($"events?{string.Join('&', query)}", ct);
        var events = new List<(WorkOsEvent, string)>();
        foreach (var item in document.RootElement.GetProperty("data").EnumerateArray())
        {
            var raw = item.GetRawText();
            var evt = WorkOsEvent.Parse(System.Text.Encoding.UTF8.GetBytes(raw))
                      ?? throw new WorkOsApiException(HttpStatusCode.OK, "malformed_event", "The Events API returned an event without id, event or data.");
            events.Add((evt, raw));
        }
        return new EventsPage(events, After(document));
    }

    public async Task<WorkOsUser?> GetUserAsync(string userId, CancellationToken ct)
    {
        try
        {
            using var document = await GetJsonAsync($"user_management/users/{Uri.EscapeDataString(userId)}", ct);
            return document.RootElement.Deserialize<WorkOsUser>(Json);
        }
        catch (WorkOsApiException ex) when (ex.Status == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>Every status a membership can have: without <c>statuses</c> WorkOS lists active memberships only.</summary>
    public static readonly string[] AllMembershipStatuses = ["active", "inactive", "pending"];

    /// <summary>
    /// <c>GET /user_management/organization_memberships</c> with the parameters as <c>@workos-inc/node</c>'s
    /// <c>listOrganizationMemberships</c> sends them (statuses comma-joined, newest first).
    /// </summary>
    public async Task<WorkOsList<WorkOsMembership>> ListMembershipsAsync(string organizationId, string? userId, string? after, CancellationToken ct,
        IReadOnlyCollection<string>? statuses = null)
    {
        var query = new List<string>();
        if (userId is not null) query.Add($"user_id={Uri.EscapeDataString(userId)}");
        query.Add($"organization_id={Uri.EscapeDataString(organizationId)}");
        if (statuses is { Count: > 0 }) query.Add($"statuses={Uri.EscapeDataString(string.Join(',', statuses))}");
        query.Add("limit=100");
        if (after is not null) query.Add($"after={Uri.EscapeDataString(after)}");
        query.Add("order=desc");
        using var document = await GetJsonAsync($"user_management/organization_memberships?{string.Join('&', query)}", ct);
        return new WorkOsList<WorkOsMembership>(document.RootElement.GetProperty("data").Deserialize<List<WorkOsMembership>>(Json) ?? [], After(document));
    }

    /// <summary><c>GET /organizations</c>, one page (newest first, as the SDK's <c>listOrganizations</c> asks).</summary>
    public async Task<WorkOsList<WorkOsOrganization>> ListOrganizationsAsync(string? after, CancellationToken ct)
    {
        var query = "organizations?limit=100" + (after is null ? "" : $"&after={Uri.EscapeDataString(after)}") + "&order=desc";
        using var document = await GetJsonAsync(query, ct);
        return new WorkOsList<WorkOsOrganization>(document.RootElement.GetProperty("data").Deserialize<List<WorkOsOrganization>>(Json) ?? [], After(document));
    }

    /// <summary>The slugs of every role that applies in the organization: the environment's and its own.</summary>
    public async Task<IReadOnlySet<string>> ListOrganizationRoleSlugsAsync(string organizationId, CancellationToken ct)
    {
        using var document = await GetJsonAsync($"authorization/organizations/{Uri.EscapeDataString(organizationId)}/roles", ct);
        return document.RootElement.GetProperty("data").EnumerateArray()
            .Select(r => r.TryGetProperty("slug", out var slug) ? slug.GetString() : null).OfType<string>().ToHashSet(StringComparer.Ordinal);
    }

    public async Task<WorkOsMembership?> GetMembershipAsync(string membershipId, CancellationToken ct)
    {
        try
        {
            using var document = await GetJsonAsync($"user_management/organization_memberships/{Uri.EscapeDataString(membershipId)}", ct);
            return document.RootElement.Deserialize<WorkOsMembership>(Json);
        }
        catch (WorkOsApiException ex) when (ex.Status == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <param name="idempotencyKey">Sent as <c>Idempotency-Key</c> (as the SDK does on every create), stable across retries of
    /// one write, so a create retried after a lost answer gets WorkOS's first answer instead of a second membership.</param>
    public async Task<WorkOsMembership> CreateMembershipAsync(string userId, string organizationId, IReadOnlyList<string> roleSlugs,
        string idempotencyKey, CancellationToken ct)
    {
        using var response = await SendAsync(() =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "user_management/organization_memberships")
            {
                Content = JsonContent.Create(new { organization_id = organizationId, user_id = userId, role_slugs = roleSlugs }),
            };
            request.Headers.Add("Idempotency-Key", idempotencyKey);
            return request;
        }, ct);
        return await ReadAsync<WorkOsMembership>(response, ct);
    }

    /// <summary>Replaces all of the membership's roles with <paramref name="roleSlugs"/>.</summary>
    public async Task<WorkOsMembership> UpdateMembershipRolesAsync(string membershipId, IReadOnlyList<string> roleSlugs, CancellationToken ct)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Put, $"user_management/organization_memberships/{Uri.EscapeDataString(membershipId)}")
        {
            Content = JsonContent.Create(new { role_slugs = roleSlugs }),
        }, ct);
        return await ReadAsync<WorkOsMembership>(response, ct);
    }

    /// <returns>False when WorkOS no longer has the membership (already gone is as good as deleted).</returns>
    public async Task<bool> DeleteMembershipAsync(string membershipId, CancellationToken ct)
    {
        try
        {
            using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Delete, $"user_management/organization_memberships/{Uri.EscapeDataString(membershipId)}"), ct);
            return true;
        }
        catch (WorkOsApiException ex) when (ex.Status == HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    /// <summary>PUT /organizations/{id} with the new name (WorkOS's update organization).</summary>
    public async Task UpdateOrganizationNameAsync(string organizationId, string name, CancellationToken ct)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Put, $"organizations/{Uri.EscapeDataString(organizationId)}")
        {
            Content = JsonContent.Create(new { name }),
        }, ct);
    }

    public async Task<IReadOnlyList<WorkOsRole>> ListRolesAsync(CancellationToken ct)
    {
        using var document = await GetJsonAsync("authorization/roles", ct);
        return document.RootElement.GetProperty("data").Deserialize<List<WorkOsRole>>(Json) ?? [];
    }

    private async Task<JsonDocument> GetJsonAsync(string path, CancellationToken ct)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, path), ct);
        return await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(ct), cancellationToken: ct);
    }

    private async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> request, CancellationToken ct)
    {
        var response = await _retry.ExecuteAsync(async token => await _http.SendAsync(request(), token), ct);
        if (response.IsSuccessStatusCode) return response;
        using (response)
        {
            string? code = null, message = null;
            try
            {
                using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
                code = error.RootElement.TryGetProperty("code", out var c) ? c.GetString() : null;
                message = error.RootElement.TryGetProperty("message", out var m) ? m.GetString() : null;
            }
            catch (JsonException)
            {
            }
            throw new WorkOsApiException(response.StatusCode, code, message ?? response.ReasonPhrase ?? "request failed");
        }
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken ct) =>
        await response.Content.ReadFromJsonAsync<T>(Json, ct) ?? throw new WorkOsApiException(response.StatusCode, null, "empty response");

    private static string? After(JsonDocument document) =>
        document.RootElement.TryGetProperty("list_metadata", out var meta) && meta.TryGetProperty("after", out var after)
        && after.ValueKind == JsonValueKind.String ? after.GetString() : null;
}
