using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Roster.Tests.Support;

/// <summary>One request the fake Slack received, and what it answered.</summary>
public sealed record SlackCall(
    string HttpMethod,
    string Method,
    string? Authorization,
    string? ContentType,
    IReadOnlyDictionary<string, string> Headers,
    IReadOnlyDictionary<string, string> Query,
    IReadOnlyDictionary<string, string> Form,
    JsonObject? Json,
    string RawBody,
    int Status,
    bool Ok,
    string? Error,
    JsonObject? Answer = null,
    string? PostedTs = null)
{
    /// <summary>An argument as Slack reads it: from a JSON body, a form body, or the query string (objects as JSON text).</summary>
    public string? Arg(string name) =>
        Json?[name] is { } node ? (node is JsonValue v && v.TryGetValue<string>(out var s) ? s : node.ToJsonString())
        : Form.TryGetValue(name, out var f) ? f
        : Query.TryGetValue(name, out var q) ? q
        : null;

    /// <summary>Every argument of the call, as Slack reads them (JSON body, form body, query string).</summary>
    public IReadOnlyDictionary<string, string> Args
    {
        get
        {
            var args = new Dictionary<string, string>(Query, StringComparer.Ordinal);
            foreach (var (k, v) in Form) args[k] = v;
            if (Json is not null)
                foreach (var (k, v) in Json)
                    if (v is not null) args[k] = v is JsonValue jv && jv.TryGetValue<string>(out var s) ? s : v.ToJsonString();
            return args;
        }
    }

    /// <summary>The <c>blocks</c> argument, parsed (a form body carries it as JSON text, as the SDK sends it).</summary>
    public JsonArray? Blocks => Json?["blocks"] as JsonArray
                                ?? (Form.TryGetValue("blocks", out var raw) ? TryParse(raw) as JsonArray : null);

    public bool Succeeded => Status == 200 && Ok;

    private static JsonNode? TryParse(string raw)
    {
        try { return JsonNode.Parse(raw); } catch (System.Text.Json.JsonException) { return null; }
    }
}

/// <summary>How the fake Slack misbehaves while told to.</summary>
public abstract record SlackFault
{
    public sealed record HttpStatus(int Code) : SlackFault;

    /// <summary>HTTP 429 with Retry-After and <c>{"ok":false,"error":"ratelimited"}</c>.</summary>
    public sealed record RateLimited(int RetryAfterSeconds) : SlackFault;

    /// <summary>HTTP 200 with <c>{"ok":false,"error":code}</c>.</summary>
    public sealed record Error(string Code) : SlackFault;

    /// <summary>Does the call (a message is posted) and answers only after <paramref name="Delay"/>: a slow Slack.</summary>
    public sealed record AnswerLate(TimeSpan Delay) : SlackFault;

    /// <summary>Does the call and then answers <c>{"ok":false,"error":code}</c> (internal_error, fatal_error: "may have posted").</summary>
    public sealed record DoneThenError(string Code) : SlackFault;
}

/// <summary>A member of the fake workspace.</summary>
public sealed record SlackUser(string Id, string Email, bool Deleted = false, bool IsBot = false);

/// <summary>
/// A real Slack Web API stand-in on 127.0.0.1 (Kestrel, port chosen by the OS) serving users.lookupByEmail,
/// conversations.open and chat.postMessage. It records every request, knows the workspace's people (email → id,
/// deactivated or bot), and can be told to fail for a while.
/// <para>
/// <b>Strict</b> (the default) answers as Slack does, and the contract suite (tests/contracts/slack) proves it with
/// @slack/web-api's own calls: the token only as <c>Authorization: Bearer</c> (<c>not_authed</c> / <c>invalid_auth</c>);
/// arguments from a form body, a JSON body (<c>charset=utf-8</c>, else Slack's <c>missing_charset</c> warning) or, on
/// GET, the query string — any other body is not read; <c>users</c> of conversations.open a comma-separated string of
/// 1–8 known, active, human ids (<c>user_not_found</c>, <c>user_disabled</c>, <c>cannot_dm_bot</c>); chat.postMessage
/// only into a conversation that was opened or a channel the bot is in (<c>channel_not_found</c>,
/// <c>not_in_channel</c>); Block Kit checked (<c>invalid_blocks</c>: ≤ 50 blocks, section/context text 1–3000
/// characters, unique <c>action_id</c>s and <c>block_id</c>s, button text ≤ 75, URLs ≤ 3000, <c>verbatim</c> only on
/// mrkdwn). One rule is stricter than Slack, which only lets the SDK warn: blocks without a <c>text</c> fallback are
/// refused (<c>no_text</c>), because Roster must always send one.
/// </para>
/// </summary>
public sealed class FakeSlack : IAsyncDisposable
{
    public const string Token = "xoxb-roster-tests-not-a-real-token";
    public const int MaxBlocks = 50;
    public const int MaxSectionText = 3000;
    public const int MaxButtonText = 75;
    public const int MaxUrl = 3000;
    public const int MaxActionId = 255;
    public const int MaxMessageText = 40000;

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<SlackCall> _calls = new();
    private readonly ConcurrentDictionary<string, SlackUser> _byEmail = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, SlackUser> _byId = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _channels = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _warnings = new(StringComparer.Ordinal);
    private readonly Lock _faultLock = new();
    private SlackFault? _fault;
    private string? _faultMethod;
    private int? _faultsLeft;
    private long _ts;

    private FakeSlack(WebApplication app, bool strict) => (_app, Strict) = (app, strict);

    /// <summary>Base URL of the fake Web API, ending in <c>/api/</c> like https://slack.com/api/.</summary>
    public string BaseUrl { get; private set; } = null!;

    public bool Strict { get; }

    /// <summary>Delay before every answer (to make concurrent dispatchers overlap).</summary>
    public TimeSpan Latency { get; set; }

    public IReadOnlyList<SlackCall> Calls => _calls.ToArray();

    public IEnumerable<SlackCall> CallsTo(string method) => Calls.Where(c => c.Method == method);

    /// <summary>Messages Slack posted (chat.postMessage did it, whatever it then answered).</summary>
    public IReadOnlyList<SlackCall> Posted => CallsTo("chat.postMessage").Where(c => c.PostedTs is not null).ToList();

    public static FakeSlack Start(bool strict = true)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new FakeSlack(app, strict);
        app.Map("/api/{method}", fake.HandleAsync);
        app.StartAsync().GetAwaiter().GetResult();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        fake.BaseUrl = address.TrimEnd('/') + "/api/";
        return fake;
    }

    /// <summary>Slack knows this person by this email (a new id unless one is given).</summary>
    public string Map(string email, string? slackUserId = null)
    {
        slackUserId ??= "U" + Guid.NewGuid().ToString("N")[..10].ToUpperInvariant();
        var user = new SlackUser(slackUserId, email);
        _byEmail[email] = user;
        _byId[slackUserId] = user;
        return slackUserId;
    }

    /// <summary>An admin deactivated this person: lookups say <c>deleted: true</c>, conversations.open says user_disabled.</summary>
    public void Deactivate(string email) => Change(email, u => u with { Deleted = true });

    /// <summary>The person with this email is a bot user (lookups say <c>is_bot: true</c>; conversations.open: cannot_dm_bot).</summary>
    public void MakeBot(string email) => Change(email, u => u with { IsBot = true });

    /// <summary>The person is gone from the workspace altogether: lookups say users_not_found, their id user_not_found.</summary>
    public void Remove(string email)
    {
        if (_byEmail.TryRemove(email, out var user)) _byId.TryRemove(user.Id, out _);
    }

    private void Change(string email, Func<SlackUser, SlackUser> change)
    {
        var user = change(_byEmail[email]);
        _byEmail[email] = user;
        _byId[user.Id] = user;
    }

    /// <summary>A channel exists; the bot is a member unless told otherwise (then posting answers not_in_channel).</summary>
    public void AddChannel(string channelId, bool botIsMember = true) => _channels[channelId] = botIsMember;

    /// <summary>Successful answers of this method carry Slack's <c>warning</c> and <c>response_metadata.warnings</c>.</summary>
    public void Warn(string method, string warning) => _warnings[method] = warning;

    /// <summary>Fails calls (to one method, or all) until <see cref="Recover"/>, or only the next <paramref name="times"/>.</summary>
    public void Fail(SlackFault fault, string? method = null, int? times = null)
    {
        lock (_faultLock) (_fault, _faultMethod, _faultsLeft) = (fault, method, times);
    }

    public void Recover()
    {
        lock (_faultLock) (_fault, _faultMethod, _faultsLeft) = (null, null, null);
        _warnings.Clear();
    }

    private SlackFault? TakeFault(string method)
    {
        lock (_faultLock)
        {
            if (_fault is null || (_faultMethod is not null && _faultMethod != method)) return null;
            var fault = _fault;
            if (_faultsLeft is { } left)
            {
                if (left <= 1) (_fault, _faultMethod, _faultsLeft) = (null, null, null);
                else _faultsLeft = left - 1;
            }
            return fault;
        }
    }

    private async Task HandleAsync(HttpContext http, string method)
    {
        var request = http.Request;
        var raw = await new StreamReader(request.Body).ReadToEndAsync();
        var query = request.Query.ToDictionary(q => q.Key, q => q.Value.ToString());
        var headers = request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var form = new Dictionary<string, string>();
        JsonObject? json = null;
        string? bodyError = null;
        var mediaType = request.ContentType?.Split(';')[0].Trim().ToLowerInvariant();
        if (request.Method == "POST" && mediaType == "application/json")
        {
            try
            {
                json = JsonNode.Parse(raw) as JsonObject;
                if (json is null) bodyError = "json_not_object";
            }
            catch (System.Text.Json.JsonException) { bodyError = "invalid_json"; }
        }
        else if (request.Method == "POST" && mediaType == "application/x-www-form-urlencoded")
        {
            foreach (var (key, value) in Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(raw)) form[key] = value.ToString();
        }

        if (Latency > TimeSpan.Zero) await Task.Delay(Latency);

        // Slack reads the query string only on GET; a POST's arguments come from its body.
        var call = new SlackCall(request.Method, method, request.Headers.Authorization.ToString() is { Length: > 0 } a ? a : null,
            request.ContentType, headers, Strict && request.Method == "POST" ? new Dictionary<string, string>() : query,
            form, json, raw, 0, false, null);

        int status;
        JsonObject body;
        TimeSpan late = TimeSpan.Zero;
        string? postedTs = null;
        switch (TakeFault(method))
        {
            case SlackFault.HttpStatus s:
                status = s.Code;
                body = new JsonObject { ["ok"] = false, ["error"] = "fake_http_failure" };
                break;
            case SlackFault.RateLimited r:
                status = 429;
                http.Response.Headers.RetryAfter = r.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                body = new JsonObject { ["ok"] = false, ["error"] = "ratelimited" };
                break;
            case SlackFault.Error e:
                status = 200;
                body = Error(e.Code);
                break;
            case SlackFault.AnswerLate l:
                status = 200;
                body = bodyError is not null ? Error(bodyError) : Answer(call, request.ContentType);
                late = l.Delay;
                break;
            case SlackFault.DoneThenError d:
                status = 200;
                body = bodyError is not null ? Error(bodyError) : Answer(call, request.ContentType);
                if (body["ok"]!.GetValue<bool>())
                {
                    postedTs = body["ts"]?.GetValue<string>();
                    body = Error(d.Code);
                }
                break;
            default:
                status = 200;
                body = bodyError is not null ? Error(bodyError) : Answer(call, request.ContentType);
                break;
        }
        if (body["ok"]!.GetValue<bool>() && _warnings.TryGetValue(method, out var warning)) AddWarning(body, warning);

        var ok = body["ok"]!.GetValue<bool>();
        if (ok && method == "chat.postMessage") postedTs = body["ts"]?.GetValue<string>();
        _calls.Enqueue(call with
        {
            Status = status, Ok = ok, Error = ok ? null : body["error"]?.GetValue<string>(), Answer = (JsonObject)body.DeepClone(), PostedTs = postedTs,
        });
        if (late > TimeSpan.Zero)
        {
            try { await Task.Delay(late, http.RequestAborted); }
            catch (OperationCanceledException) { return; }
        }
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json; charset=utf-8";
        await http.Response.WriteAsync(body.ToJsonString());
    }

    private static void AddWarning(JsonObject body, string warning)
    {
        body["warning"] = warning;
        body["response_metadata"] = new JsonObject { ["warnings"] = new JsonArray(warning) };
    }

    private JsonObject Answer(SlackCall call, string? contentType)
    {
        if (call.Authorization is null) return Error("not_authed");
        if (call.Authorization != $"Bearer {Token}") return Error("invalid_auth");

        var answer = call.Method switch
        {
            "users.lookupByEmail" => LookupByEmail(call),
            "conversations.open" => Open(call),
            "chat.postMessage" => PostMessage(call),
            _ => Error("unknown_method"),
        };
        // Slack's own warning for a JSON body that does not say its charset.
        if (Strict && answer["ok"]!.GetValue<bool>() && call.Json is not null
            && contentType?.Contains("charset=utf-8", StringComparison.OrdinalIgnoreCase) != true)
            AddWarning(answer, "missing_charset");
        return answer;
    }

    private JsonObject LookupByEmail(SlackCall call)
    {
        var email = call.Arg("email");
        if (string.IsNullOrEmpty(email)) return Error("invalid_arguments");
        if (!_byEmail.TryGetValue(email, out var user)) return Error("users_not_found");
        return new JsonObject
        {
            ["ok"] = true,
            ["user"] = new JsonObject
            {
                ["id"] = user.Id,
                ["team_id"] = "T0ROSTER",
                ["name"] = user.Email.Split('@')[0],
                ["deleted"] = user.Deleted,
                ["is_bot"] = user.IsBot,
                ["profile"] = new JsonObject { ["email"] = user.Email },
            },
        };
    }

    private JsonObject Open(SlackCall call)
    {
        if (Strict && call.Json?["users"] is { } node && node is not JsonValue) return Error("invalid_arguments");
        var users = (call.Arg("users") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (users.Length == 0) return Error("users_list_not_supplied");
        if (users.Length > 8) return Error("too_many_users");
        foreach (var id in users)
        {
            if (!_byId.TryGetValue(id, out var user)) return Error("user_not_found");
            if (user.Deleted) return Error("user_disabled");
            if (user.IsBot) return Error("cannot_dm_bot");
        }
        var channel = users.Length == 1
            ? "D" + users[0]
            : "G" + string.Join(",", users.Distinct().Order(StringComparer.Ordinal)).GetHashCode().ToString("X8");
        _channels[channel] = true;
        return new JsonObject { ["ok"] = true, ["channel"] = new JsonObject { ["id"] = channel } };
    }

    private JsonObject PostMessage(SlackCall call)
    {
        var channel = call.Arg("channel");
        if (string.IsNullOrEmpty(channel)) return Error("channel_not_found");
        if (Strict)
        {
            if (!_channels.TryGetValue(channel, out var member)) return Error("channel_not_found");
            if (!member) return Error("not_in_channel");
        }
        var text = call.Arg("text");
        var rawBlocks = call.Arg("blocks");
        if (string.IsNullOrEmpty(text) && rawBlocks is null) return Error("no_text");
        if (text is { Length: > MaxMessageText }) return Error("msg_too_long");
        if (Strict && rawBlocks is not null)
        {
            if (call.Blocks is not { } blocks) return Error("invalid_blocks_format");
            if (BlockKit.Check(blocks) is { } problem)
                return new JsonObject
                {
                    ["ok"] = false,
                    ["error"] = "invalid_blocks",
                    ["errors"] = new JsonArray(problem),
                    ["response_metadata"] = new JsonObject { ["messages"] = new JsonArray($"[ERROR] {problem}") },
                };
            // Stricter than Slack (which posts, while the SDK warns): a message with blocks must carry its fallback.
            if (string.IsNullOrEmpty(text)) return Error("no_text");
        }
        var ts = $"{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}.{Interlocked.Increment(ref _ts):D6}";
        return new JsonObject { ["ok"] = true, ["channel"] = channel, ["ts"] = ts };
    }

    private static JsonObject Error(string code) => new() { ["ok"] = false, ["error"] = code };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>The Block Kit limits Slack enforces on the blocks Roster sends (returns the first problem, or null).</summary>
    public static class BlockKit
    {
        public static string? Check(JsonArray blocks)
        {
            if (blocks.Count is 0 or > MaxBlocks) return $"must have 1 to {MaxBlocks} blocks [json-pointer:/blocks]";
            var actionIds = new HashSet<string>(StringComparer.Ordinal);
            var blockIds = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < blocks.Count; i++)
            {
                var at = $"/blocks/{i}";
                if (blocks[i] is not JsonObject block) return $"must be an object [json-pointer:{at}]";
                if (block["block_id"] is { } blockId && (!Str(blockId, out var id) || id.Length > 255 || !blockIds.Add(id)))
                    return $"block_id must be unique and at most 255 characters [json-pointer:{at}/block_id]";
                switch (Str(block["type"]))
                {
                    case "section":
                        if (TextObject(block["text"], MaxSectionText, $"{at}/text") is { } sectionProblem) return sectionProblem;
                        break;
                    case "context":
                        if (block["elements"] is not JsonArray { Count: > 0 and <= 10 } context)
                            return $"context must have 1 to 10 elements [json-pointer:{at}/elements]";
                        for (var j = 0; j < context.Count; j++)
                            if (TextObject(context[j], MaxSectionText, $"{at}/elements/{j}") is { } contextProblem) return contextProblem;
                        break;
                    case "actions":
                        if (block["elements"] is not JsonArray { Count: > 0 and <= 25 } elements)
                            return $"actions must have 1 to 25 elements [json-pointer:{at}/elements]";
                        for (var j = 0; j < elements.Count; j++)
                        {
                            var e = elements[j] as JsonObject;
                            var ep = $"{at}/elements/{j}";
                            if (e is null || Str(e["type"]) != "button") return $"only buttons are expected here [json-pointer:{ep}]";
                            if (e["text"] is not JsonObject t || Str(t["type"]) != "plain_text" || Str(t["text"]) is not { Length: > 0 and <= MaxButtonText })
                                return $"button text must be plain_text of 1 to {MaxButtonText} characters [json-pointer:{ep}/text]";
                            if (e["action_id"] is { } a && (!Str(a, out var actionId) || actionId.Length is 0 or > MaxActionId || !actionIds.Add(actionId)))
                                return $"action_id must be unique and 1 to {MaxActionId} characters [json-pointer:{ep}/action_id]";
                            if (e["url"] is { } u && (!Str(u, out var url) || url.Length is 0 or > MaxUrl))
                                return $"url must be 1 to {MaxUrl} characters [json-pointer:{ep}/url]";
                            if (e["style"] is { } style && Str(style) is not ("primary" or "danger"))
                                return $"style must be primary or danger [json-pointer:{ep}/style]";
                        }
                        break;
                    case "divider":
                        break;
                    default:
                        return $"unsupported block type [json-pointer:{at}/type]";
                }
            }
            return null;
        }

        private static string? TextObject(JsonNode? node, int max, string at)
        {
            if (node is not JsonObject text) return $"must provide a text object [json-pointer:{at}]";
            var type = Str(text["type"]);
            if (type is not ("mrkdwn" or "plain_text")) return $"text type must be mrkdwn or plain_text [json-pointer:{at}/type]";
            if (Str(text["text"]) is not { } value || value.Length == 0)
                return $"must be more than 0 characters [json-pointer:{at}]";
            if (value.Length > max) return $"must be less than {max + 1} characters [json-pointer:{at}]";
            if (text["verbatim"] is { } verbatim && (type != "mrkdwn" || verbatim.GetValueKind() is not (System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False)))
                return $"verbatim is a boolean of mrkdwn text [json-pointer:{at}/verbatim]";
            return null;
        }

        private static string? Str(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

        private static bool Str(JsonNode? node, out string value)
        {
            value = Str(node) ?? "";
            return Str(node) is not null;
        }
    }
}
