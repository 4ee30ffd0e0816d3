using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Polly;
using Polly.Retry;
using Polly.Timeout;
using Roster.Infrastructure.Outbox;

namespace Roster.Features.Notifications;

/// <summary>
/// A Slack Web API call that did not succeed: <see cref="OutboxSendException.Failure"/> says what it means for the
/// outbox row, <see cref="OutboxSendException.RetryAfter"/> is what Slack asked for when it rate limited the call.
/// The message never carries the token.
/// </summary>
public sealed class SlackApiException(string method, string error, OutboxFailure failure, TimeSpan? retryAfter = null, Exception? inner = null, string? detail = null)
    : OutboxSendException(detail is null ? $"{method}: {error}" : $"{method}: {error} ({detail})", failure, retryAfter, inner)
{
    public string Method { get; } = method;
    public string Error { get; } = error;

    /// <summary>
    /// Errors about the workspace, the app or its token rather than this message: every call fails the same way until
    /// someone fixes the installation, so delivery pauses (rows stay pending) instead of failing rows one by one.
    /// </summary>
    public static bool IsWorkspaceError(string error) => error is
        "invalid_auth" or "not_authed" or "token_revoked" or "token_expired" or "account_inactive" or "missing_scope"
        or "not_allowed_token_type";

    /// <summary>
    /// conversations.open refuses the whole call for one bad person among its users (Slack does not say which):
    /// deactivated, unknown, not visible to the bot, a bot, or an external person who cannot be grouped.
    /// </summary>
    public static bool IsRecipientError(string error) => error is
        "user_not_found" or "user_disabled" or "user_not_visible" or "cannot_dm_bot" or "invalid_user_combination";

    /// <summary>The <c>ok:false</c> errors worth retrying later: rate limiting and Slack's own trouble.</summary>
    public static bool IsTransientError(string error) => error is
        "ratelimited" or "rate_limited" or "internal_error" or "fatal_error" or "service_unavailable"
        or "request_timeout" or "team_added_to_org";

    /// <summary>Slack documents these as "it's possible some aspect of the operation succeeded".</summary>
    public static bool MayHaveActed(string error) => error is "internal_error" or "fatal_error";

    public bool IsWorkspace => IsWorkspaceError(Error);
    public bool IsRecipient => IsRecipientError(Error);
}

/// <summary>
/// The quick, in-call retries around one Slack HTTP call; the outbox is the durable retry. chat.postMessage is never
/// retried here: Slack has no idempotency key, and a try that timed out may have posted.
/// </summary>
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
        Retrying = builder.AddTimeout(options.RequestTimeout).Build();
        SingleTry = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = clock }.AddTimeout(options.RequestTimeout).Build();
    }

    /// <summary>For calls that change nothing or are idempotent (users.lookupByEmail, conversations.open).</summary>
    public ResiliencePipeline<HttpResponseMessage> Retrying { get; }

    /// <summary>For chat.postMessage: one try, bounded by the request timeout.</summary>
    public ResiliencePipeline<HttpResponseMessage> SingleTry { get; }
}

/// <summary>Who users.lookupByEmail found.</summary>
public sealed record SlackUserInfo(string Id, bool Deleted, bool IsBot)
{
    /// <summary>Deactivated people and bots cannot be told anything.</summary>
    public bool CanBeMessaged => !Deleted && !IsBot;
}

/// <summary>
/// Typed client for the three Slack Web API methods Roster uses. Every call is sent exactly as @slack/web-api 8 sends
/// it (the contract suite compares them): POST to <c>{BaseUrl}{method}</c>, the bot token as
/// <c>Authorization: Bearer</c>, arguments as an <c>application/x-www-form-urlencoded</c> body with objects (blocks) as
/// JSON text.
/// </summary>
public sealed class SlackClient(HttpClient http, SlackOptions options, SlackResilience resilience, TimeProvider clock, ILogger<SlackClient> log)
{
    private static readonly TimeSpan DefaultRetryAfter = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromHours(1);

    /// <summary>Whoever has this email in the workspace, or null when nobody does (users_not_found).</summary>
    public async Task<SlackUserInfo?> LookupUserByEmailAsync(string email, CancellationToken ct)
    {
        const string method = "users.lookupByEmail";
        try
        {
            var body = await CallAsync(method, [new("email", email)], resilience.Retrying, ct);
            var user = body["user"] as JsonObject;
            return user?["id"] is JsonValue id && id.TryGetValue<string>(out var value) && value.Length > 0
                ? new SlackUserInfo(value, Flag(user, "deleted"), Flag(user, "is_bot"))
                : throw new SlackApiException(method, "response without user.id", OutboxFailure.Transient);
        }
        catch (SlackApiException ex) when (ex.Error is "users_not_found" or "user_not_found")
        {
            return null;
        }
    }

    private static bool Flag(JsonObject user, string name) => user[name] is JsonValue v && v.TryGetValue<bool>(out var b) && b;

    /// <summary>Opens (or resumes) a DM with one user or a group DM with 2–8 users; returns the channel id.</summary>
    public async Task<string> OpenConversationAsync(IReadOnlyList<string> userIds, CancellationToken ct)
    {
        const string method = "conversations.open";
        if (userIds.Count is < 1 or > 8) throw new ArgumentOutOfRangeException(nameof(userIds), "conversations.open takes 1 to 8 users.");
        var body = await CallAsync(method, [new("users", string.Join(',', userIds))], resilience.Retrying, ct);
        return body["channel"]?["id"] is JsonValue id && id.TryGetValue<string>(out var value) && value.Length > 0
            ? value
            : throw new SlackApiException(method, "response without channel.id", OutboxFailure.Transient);
    }

    /// <summary>Posts a message with a plain-text fallback and Block Kit blocks, once; returns the message ts.</summary>
    public async Task<string?> PostMessageAsync(string channel, string text, JsonArray blocks, CancellationToken ct)
    {
        const string method = "chat.postMessage";
        var body = await CallAsync(method,
        [
            new("channel", channel),
            new("text", text),
            new("blocks", blocks.ToJsonString()),
            new("unfurl_links", "false"),
            new("unfurl_media", "false"),
        ], resilience.SingleTry, ct, mayPostTwice: true);
        return body["ts"] is JsonValue ts && ts.TryGetValue<string>(out var value) ? value : null;
    }

    /// <param name="mayPostTwice">
    /// True for chat.postMessage: whatever leaves it unknown whether Slack acted (a timeout, a broken or 5xx answer,
    /// internal_error/fatal_error) is <see cref="OutboxFailure.MayHaveBeenDelivered"/>, never retried blind.
    /// </param>
    private async Task<JsonObject> CallAsync(string method, KeyValuePair<string, string>[] args,
        ResiliencePipeline<HttpResponseMessage> pipeline, CancellationToken ct, bool mayPostTwice = false)
    {
        if (!options.HasToken) throw new SlackApiException(method, "not_authed", OutboxFailure.SenderPaused, detail: "Slack:BotToken is not set");
        var unknown = mayPostTwice ? OutboxFailure.MayHaveBeenDelivered : OutboxFailure.Transient;

        HttpResponseMessage response;
        try
        {
            response = await pipeline.ExecuteAsync(async token =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, method) { Content = new FormUrlEncodedContent(args) };
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", options.BotToken);
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
                return await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, token);
            }, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (TimeoutRejectedException ex)
        {
            throw new SlackApiException(method, "timed out", unknown, inner: ex);
        }
        catch (OperationCanceledException ex)
        {
            // HttpClient.Timeout surfaces as a cancellation nobody asked for.
            throw new SlackApiException(method, "timed out", unknown, inner: ex);
        }
        catch (HttpRequestException ex)
        {
            // Nothing reached Slack when the connection could not even be made.
            var notSent = ex.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError
                or HttpRequestError.SecureConnectionError or HttpRequestError.ProxyTunnelError;
            throw new SlackApiException(method, $"network error: {ex.HttpRequestError}", notSent ? OutboxFailure.Transient : unknown, inner: ex);
        }

        using (response)
        {
            var code = (int)response.StatusCode;
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
                throw new SlackApiException(method, "ratelimited (HTTP 429)", OutboxFailure.Transient, RetryAfterOf(response) ?? DefaultRetryAfter);
            if (!response.IsSuccessStatusCode)
                throw new SlackApiException(method, $"HTTP {code}", code >= 500 || code == 408 ? unknown : OutboxFailure.Permanent);

            JsonObject? body;
            try
            {
                body = JsonNode.Parse(await response.Content.ReadAsStringAsync(ct)) as JsonObject;
            }
            catch (JsonException ex)
            {
                throw new SlackApiException(method, "response is not JSON", unknown, inner: ex);
            }
            if (body is null) throw new SlackApiException(method, "response is not a JSON object", unknown);

            LogWarnings(method, body);
            if (body["ok"] is JsonValue ok && ok.TryGetValue<bool>(out var isOk) && isOk) return body;

            var error = body["error"] is JsonValue e && e.TryGetValue<string>(out var s) && s.Length > 0 ? s : "unknown_error";
            var failure = SlackApiException.IsWorkspaceError(error) ? OutboxFailure.SenderPaused
                : mayPostTwice && SlackApiException.MayHaveActed(error) ? OutboxFailure.MayHaveBeenDelivered
                : SlackApiException.IsTransientError(error) ? OutboxFailure.Transient
                : OutboxFailure.Permanent;
            var retryAfter = error is "ratelimited" or "rate_limited" ? RetryAfterOf(response) ?? DefaultRetryAfter : RetryAfterOf(response);
            var detail = error == "missing_scope" && body["needed"] is JsonValue needed ? $"needed: {needed}" : FirstMessage(body);
            throw new SlackApiException(method, error, failure, failure == OutboxFailure.Transient ? retryAfter : null, detail: detail);
        }
    }

    /// <summary>Slack's own explanation of an error (e.g. which block broke invalid_blocks), kept short.</summary>
    private static string? FirstMessage(JsonObject body) =>
        body["response_metadata"]?["messages"] is JsonArray { Count: > 0 } messages && messages[0] is JsonValue m && m.TryGetValue<string>(out var text)
            ? text.Length > 300 ? text[..300] : text
            : null;

    /// <summary>Slack reports deprecations and sloppy requests as <c>warning</c> / <c>response_metadata.warnings</c>: worth seeing.</summary>
    private void LogWarnings(string method, JsonObject body)
    {
        var warnings = new List<string>();
        if (body["warning"] is JsonValue w && w.TryGetValue<string>(out var single)) warnings.AddRange(single.Split(','));
        if (body["response_metadata"]?["warnings"] is JsonArray many)
            warnings.AddRange(many.OfType<JsonValue>().Select(v => v.TryGetValue<string>(out var x) ? x : null).OfType<string>());
        var distinct = warnings.Select(x => x.Trim()).Where(x => x.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        if (distinct.Count > 0) log.LogWarning("Slack {Method} answered with warning(s): {Warnings}", method, string.Join(", ", distinct));
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
