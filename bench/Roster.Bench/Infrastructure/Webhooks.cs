using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Roster.Infrastructure.WorkOs;

namespace Roster.Bench.Infrastructure;

/// <summary>WorkOS events with the real field names (as tests/Roster.Tests/Support/WorkOsEvents.cs builds them), signed per request.</summary>
public static class Webhooks
{
    private static long _sequence;
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    /// <summary>Time-ordered like WorkOS's ULIDs and unique across runs on one database.</summary>
    public static string NextEventId() =>
        $"event_{DateTime.UtcNow.Ticks:D19}{Interlocked.Increment(ref _sequence) % 10_000_000:D7}";

    public static string Iso(DateTime at) => at.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static string MembershipCreated(string eventId, string omId, string userId, string orgId, string orgName, DateTime at)
    {
        var t = Iso(at);
        return "{\"id\":\"" + eventId + "\",\"event\":\"organization_membership.created\",\"data\":{\"object\":\"organization_membership\",\"id\":\"" + omId
               + "\",\"user_id\":\"" + userId + "\",\"organization_id\":\"" + orgId + "\",\"organization_name\":\"" + orgName
               + "\",\"status\":\"active\",\"role\":{\"slug\":\"member\"},\"roles\":[{\"slug\":\"member\"}],\"directory_managed\":false,\"custom_attributes\":{},\"created_at\":\""
               + Iso(at.AddMinutes(-5)) + "\",\"updated_at\":\"" + t + "\"},\"created_at\":\"" + t + "\"}";
    }

    public static string OrganizationCreated(string eventId, string orgId, string name, DateTime at)
    {
        var t = Iso(at);
        return "{\"id\":\"" + eventId + "\",\"event\":\"organization.created\",\"data\":{\"object\":\"organization\",\"id\":\"" + orgId + "\",\"name\":\"" + name
               + "\",\"domains\":[],\"external_id\":null,\"metadata\":{},\"created_at\":\"" + Iso(at.AddHours(-1)) + "\",\"updated_at\":\"" + t + "\"},\"created_at\":\"" + t + "\"}";
    }

    public static HttpRequestMessage Signed(string secret, string json)
    {
        var body = Encoding.UTF8.GetBytes(json);
        var request = new HttpRequestMessage(HttpMethod.Post, "webhooks/workos") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = Json;
        request.Headers.TryAddWithoutValidation("WorkOS-Signature", WorkOsSignature.Header(secret, DateTimeOffset.UtcNow, body));
        return request;
    }

    /// <summary>Delivers and checks the outcome the service answered with.</summary>
    public static async Task<bool> DeliverAsync(HttpClient client, string secret, string json, string expectedOutcome, CancellationToken ct)
    {
        using var request = Signed(secret, json);
        using var response = await client.SendAsync(request, ct);
        if (!response.IsSuccessStatusCode) return false;
        var text = await response.Content.ReadAsStringAsync(ct);
        return text.Contains("\"" + expectedOutcome + "\"", StringComparison.Ordinal);
    }
}

public static class Http
{
    /// <summary>A client for the load driver: one pooled connection per concurrent worker, no cookies, no proxy.</summary>
    public static HttpClient Client(Uri baseAddress, int connections) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = connections,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
        UseCookies = false,
        UseProxy = false,
        AllowAutoRedirect = false,
    })
    {
        BaseAddress = baseAddress,
        Timeout = TimeSpan.FromSeconds(60),
    };

    public static async Task<bool> GetOkAsync(HttpClient client, string path, string token, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
        return response.IsSuccessStatusCode;
    }
}
