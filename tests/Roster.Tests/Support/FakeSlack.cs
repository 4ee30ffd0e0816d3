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
    IReadOnlyDictionary<string, string> Query,
    IReadOnlyDictionary<string, string> Form,
    JsonObject? Json,
    string RawBody,
    int Status,
    bool Ok,
    string? Error)
{
    /// <summary>An argument as Slack reads it: from a JSON body, a form body, or the query string.</summary>
    public string? Arg(string name) =>
        Json?[name] is JsonValue value && value.TryGetValue<string>(out var s) ? s
        : Form.TryGetValue(name, out var f) ? f
        : Query.TryGetValue(name, out var q) ? q
        : null;

    public bool Succeeded => Status == 200 && Ok;
}

/// <summary>How the fake Slack misbehaves while told to.</summary>
public abstract record SlackFault
{
    public sealed record HttpStatus(int Code) : SlackFault;

    /// <summary>HTTP 429 with Retry-After and <c>{"ok":false,"error":"ratelimited"}</c>.</summary>
    public sealed record RateLimited(int RetryAfterSeconds) : SlackFault;

    /// <summary>HTTP 200 with <c>{"ok":false,"error":code}</c>.</summary>
    public sealed record Error(string Code) : SlackFault;
}

/// <summary>
/// A real Slack Web API stand-in on 127.0.0.1 (Kestrel, port chosen by the OS) serving users.lookupByEmail,
/// conversations.open and chat.postMessage the way Slack documents them. It records every request, knows a map
/// email → Slack user id, checks the bearer token, and can be told to fail for a while.
/// </summary>
public sealed class FakeSlack : IAsyncDisposable
{
    public const string Token = "xoxb-roster-tests-not-a-real-token";

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<SlackCall> _calls = new();
    private readonly ConcurrentDictionary<string, string> _users = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _faultLock = new();
    private SlackFault? _fault;
    private string? _faultMethod;
    private int? _faultsLeft;
    private long _ts;

    private FakeSlack(WebApplication app) => _app = app;

    /// <summary>Base URL of the fake Web API, ending in <c>/api/</c> like https://slack.com/api/.</summary>
    public string BaseUrl { get; private set; } = null!;

    /// <summary>Delay before every answer (to make concurrent dispatchers overlap).</summary>
    public TimeSpan Latency { get; set; }

    public IReadOnlyList<SlackCall> Calls => _calls.ToArray();

    public IEnumerable<SlackCall> CallsTo(string method) => Calls.Where(c => c.Method == method);

    /// <summary>Messages Slack accepted (chat.postMessage answered ok).</summary>
    public IReadOnlyList<SlackCall> Posted => CallsTo("chat.postMessage").Where(c => c.Succeeded).ToList();

    public static FakeSlack Start()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new FakeSlack(app);
        app.Map("/api/{method}", fake.HandleAsync);
        app.StartAsync().GetAwaiter().GetResult();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        fake.BaseUrl = address.TrimEnd('/') + "/api/";
        return fake;
    }

    /// <summary>Slack knows this person by this email.</summary>
    public string Map(string email, string? slackUserId = null)
    {
        slackUserId ??= "U" + Guid.NewGuid().ToString("N")[..10].ToUpperInvariant();
        _users[email] = slackUserId;
        return slackUserId;
    }

    /// <summary>Fails calls (to one method, or all) until <see cref="Recover"/>, or only the next <paramref name="times"/>.</summary>
    public void Fail(SlackFault fault, string? method = null, int? times = null)
    {
        lock (_faultLock) (_fault, _faultMethod, _faultsLeft) = (fault, method, times);
    }

    public void Recover()
    {
        lock (_faultLock) (_fault, _faultMethod, _faultsLeft) = (null, null, null);
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
        var form = new Dictionary<string, string>();
        JsonObject? json = null;
        if (request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) == true)
        {
            try { json = JsonNode.Parse(raw) as JsonObject; } catch (System.Text.Json.JsonException) { }
        }
        else if (request.ContentType?.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase) == true)
        {
            foreach (var (key, value) in Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(raw)) form[key] = value.ToString();
        }

        if (Latency > TimeSpan.Zero) await Task.Delay(Latency);

        var call = new SlackCall(request.Method, method, request.Headers.Authorization.ToString() is { Length: > 0 } a ? a : null,
            request.ContentType, query, form, json, raw, 0, false, null);

        int status;
        JsonObject body;
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
                body = new JsonObject { ["ok"] = false, ["error"] = e.Code };
                break;
            default:
                status = 200;
                body = Answer(call);
                break;
        }

        var ok = body["ok"]!.GetValue<bool>();
        _calls.Enqueue(call with { Status = status, Ok = ok, Error = ok ? null : body["error"]?.GetValue<string>() });
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json; charset=utf-8";
        await http.Response.WriteAsync(body.ToJsonString());
    }

    private JsonObject Answer(SlackCall call)
    {
        if (call.Authorization is null) return Error("not_authed");
        if (call.Authorization != $"Bearer {Token}") return Error("invalid_auth");

        switch (call.Method)
        {
            case "users.lookupByEmail":
            {
                var email = call.Arg("email");
                if (string.IsNullOrEmpty(email)) return Error("invalid_arguments");
                return _users.TryGetValue(email, out var id)
                    ? new JsonObject { ["ok"] = true, ["user"] = new JsonObject { ["id"] = id, ["profile"] = new JsonObject { ["email"] = email } } }
                    : Error("users_not_found");
            }
            case "conversations.open":
            {
                var users = (call.Arg("users") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                if (users.Length == 0) return Error("users_list_not_supplied");
                if (users.Length > 8) return Error("too_many_users");
                if (users.Any(u => !_users.Values.Contains(u))) return Error("user_not_found");
                var channel = users.Length == 1 ? "D" + users[0] : "G" + string.Join("", users.Order(StringComparer.Ordinal)).GetHashCode().ToString("X8");
                return new JsonObject { ["ok"] = true, ["channel"] = new JsonObject { ["id"] = channel } };
            }
            case "chat.postMessage":
            {
                var channel = call.Arg("channel");
                if (string.IsNullOrEmpty(channel)) return Error("channel_not_found");
                if (string.IsNullOrEmpty(call.Arg("text")) && call.Json?["blocks"] is null) return Error("no_text");
                var ts = $"{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}.{Interlocked.Increment(ref _ts):D6}";
                return new JsonObject { ["ok"] = true, ["channel"] = channel, ["ts"] = ts };
            }
            default:
                return Error("unknown_method");
        }
    }

    private static JsonObject Error(string code) => new() { ["ok"] = false, ["error"] = code };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
