using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Roster.Features.Notifications;

/// <summary>
/// A Slack Web API call that did not succeed. <see cref="IsTransient"/> says whether trying again later can help;
/// <see cref="RetryAfter"/> is what Slack asked for when it rate limited the call. The message never carries the token.
/// </summary>
public sealed class SlackApiException(string method, string error, bool isTransient, TimeSpan? retryAfter = null, Exception? inner = null)
    : OutboxSendException($"{method}: {error}", isTransient, retryAfter, inner)
{
    public string Method { get; } = method;
    public string Error { get; } = error;

    /// <summary>
    /// The <c>ok:false</c> errors worth retrying: rate limiting and Slack's own trouble. Everything else
    /// (invalid_auth, not_authed, channel_not_found, missing_scope, ...) stays wrong until someone fixes it.
    /// </summary>
    public static bool IsTransientError(string error) => error is
        "ratelimited" or "rate_limited" or "internal_error" or "fatal_error" or "service_unavailable"
        or "request_timeout" or "team_added_to_org";
}

/// <summary>The quick, in-call retries around one Slack HTTP call; the outbox is the durable retry.</summary>
public sealed class SlackResilience
{
    public SlackResilience(SlackOptions options, TimeProvider clock)
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = clock };
        if (options.InCallRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = options.InCallRetries,
                Delay = options.InCallRetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                // 429 is not retried here: the outbox reschedules the row at Retry-After instead of holding a worker.
                ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
                    .Handle<HttpRequestException>()
                    .Handle<TimeoutRejectedException>()
                    .HandleResult(r => (int)r.StatusCode >= 500 || r.StatusCode == HttpStatusCode.RequestTimeout),
            });
        }
        // Per try; the retry above is the outer strategy.
        Pipeline = builder.AddTimeout(options.RequestTimeout).Build();
    }

    public ResiliencePipeline<HttpResponseMessage> Pipeline { get; }
}

/// <summary>Typed client for the three Slack Web API methods Roster uses. Bearer = bot token, sent per request.</summary>
public sealed class SlackClient(HttpClient http, SlackOptions options, SlackResilience resilience, TimeProvider clock)
{
    private static readonly TimeSpan DefaultRetryAfter = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromHours(1);

    /// <summary>The Slack user id of whoever has this email in the workspace, or null when nobody does (users_not_found).</summary>
    public async Task<string?> LookupUserIdByEmailAsync(string email, CancellationToken ct)
    {
        const string method = "users.lookupByEmail";
        try
        {
            var body = await CallAsync(method, () => new HttpRequestMessage(HttpMethod.Get, $"{method}?email={Uri.EscapeDataString(email)}"), ct);
            return body["user"]?["id"]?.GetValue<string>() is { Length: > 0 } id
                ? id
                : throw new SlackApiException(method, "response without user.id", isTransient: false);
        }
        catch (SlackApiException ex) when (ex.Error is "users_not_found" or "user_not_found")
        {
            return null;
        }
    }

    /// <summary>Opens (or resumes) a DM with one user or a group DM with 2–8 users; returns the channel id.</summary>
    public async Task<string> OpenConversationAsync(IReadOnlyList<string> userIds, CancellationToken ct)
    {
        const string method = "conversations.open";
        if (userIds.Count is < 1 or > 8) throw new ArgumentOutOfRangeException(nameof(userIds), "conversations.open takes 1 to 8 users.");
        var payload = new JsonObject { ["users"] = string.Join(',', userIds) };
        var body = await CallAsync(method, () => Post(method, payload), ct);
        return body["channel"]?["id"]?.GetValue<string>() is { Length: > 0 } id
            ? id
            : throw new SlackApiException(method, "response without channel.id", isTransient: false);
    }

    /// <summary>Posts a message with a plain-text fallback and Block Kit blocks; returns the message ts.</summary>
    public async Task<string?> PostMessageAsync(string channel, string text, JsonArray blocks, CancellationToken ct)
    {
        const string method = "chat.postMessage";
        var payload = new JsonObject
        {
            ["channel"] = channel,
            ["text"] = text,
            ["blocks"] = blocks.DeepClone(),
            ["unfurl_links"] = false,
            ["unfurl_media"] = false,
        };
        var body = await CallAsync(method, () => Post(method, payload), ct);
        return body["ts"]?.GetValue<string>();
    }

    private static HttpRequestMessage Post(string method, JsonObject payload) => new(HttpMethod.Post, method)
    {
        // Slack wants the charset spelled out on JSON bodies.
        Content = new StringContent(payload.ToJsonString(), Encoding.UTF8, "application/json"),
    };

    private async Task<JsonObject> CallAsync(string method, Func<HttpRequestMessage> newRequest, CancellationToken ct)
    {
        if (!options.HasToken) throw new SlackApiException(method, "not_authed (Slack:BotToken is not set)", isTransient: false);

        HttpResponseMessage response;
        try
        {
            response = await resilience.Pipeline.ExecuteAsync(async token =>
            {
                using var request = newRequest();
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", options.BotToken);
                return await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, token);
            }, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (TimeoutRejectedException ex)
        {
            throw new SlackApiException(method, "timed out", isTransient: true, inner: ex);
        }
        catch (OperationCanceledException ex)
        {
            // HttpClient.Timeout surfaces as a cancellation nobody asked for.
            throw new SlackApiException(method, "timed out", isTransient: true, inner: ex);
        }
        catch (HttpRequestException ex)
        {
            throw new SlackApiException(method, $"network error: {ex.HttpRequestError}", isTransient: true, inner: ex);
        }

        using (response)
        {
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
                throw new SlackApiException(method, "ratelimited (HTTP 429)", isTransient: true, RetryAfterOf(response) ?? DefaultRetryAfter);
            if (!response.IsSuccessStatusCode)
            {
                var code = (int)response.StatusCode;
                throw new SlackApiException(method, $"HTTP {code}", isTransient: code >= 500 || code == 408);
            }

            JsonObject? body;
            try
            {
                body = JsonNode.Parse(await response.Content.ReadAsStringAsync(ct)) as JsonObject;
            }
            catch (JsonException ex)
            {
                throw new SlackApiException(method, "response is not JSON", isTransient: true, inner: ex);
            }
            if (body is null) throw new SlackApiException(method, "response is not a JSON object", isTransient: true);

            if (body["ok"] is JsonValue ok && ok.TryGetValue<bool>(out var isOk) && isOk) return body;

            var error = body["error"] is JsonValue e && e.TryGetValue<string>(out var s) && s.Length > 0 ? s : "unknown_error";
            var transient = SlackApiException.IsTransientError(error);
            var retryAfter = transient && error is "ratelimited" or "rate_limited" ? RetryAfterOf(response) ?? DefaultRetryAfter : RetryAfterOf(response);
            throw new SlackApiException(method, error, transient, retryAfter);
        }
    }

    private TimeSpan? RetryAfterOf(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        TimeSpan? wait = header?.Delta ?? (header?.Date is { } date ? date - clock.GetUtcNow() : null);
        if (wait is null) return null;
        if (wait < TimeSpan.FromSeconds(1)) return TimeSpan.FromSeconds(1);
        return wait > MaxRetryAfter ? MaxRetryAfter : wait;
    }
}
