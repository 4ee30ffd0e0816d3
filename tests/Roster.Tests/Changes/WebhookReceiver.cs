using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Roster.Tests.Changes;

/// <summary>One request a receiver got, and what it answered: <see cref="At"/> when it arrived, <see cref="AnsweredAt"/> when the answer went back.</summary>
public sealed record ReceivedWebhook(string Path, string? Id, string? Timestamp, string? Signature, string Body, int Answered, DateTime At,
    DateTime AnsweredAt = default)
{
    public JsonNode Json => JsonNode.Parse(Body)!;
}

/// <summary>
/// A Standard Webhooks receiver on 127.0.0.1: records every request and answers what <see cref="Answer"/> says for it
/// (200 unless told otherwise), so a test can take it down, rate-limit it or fail one delivery.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedWebhook> _received = new();

    /// <summary>Decides the answer to a request: status, and an optional Retry-After (seconds) or Location.</summary>
    public Func<ReceivedWebhook, (int Status, string? RetryAfter, string? Location)> Answer { get; set; } = _ => (200, null, null);

    /// <summary>How long the receiver takes to answer a request (a slow receiver); none by default.</summary>
    public Func<ReceivedWebhook, TimeSpan> Slowness { get; set; } = _ => TimeSpan.Zero;

    public Uri BaseAddress { get; }

    public IReadOnlyList<ReceivedWebhook> Received => [.. _received];

    /// <summary>The requests answered 2xx, in arrival order.</summary>
    public IReadOnlyList<ReceivedWebhook> Accepted => [.. _received.Where(r => r.Answered is >= 200 and < 300)];

    private WebhookReceiver(WebApplication app, Uri baseAddress) => (_app, BaseAddress) = (app, baseAddress);

    /// <param name="port">0 for any free port; a given one to start listening where a subscription already points.</param>
    public static async Task<WebhookReceiver> StartAsync(int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        WebhookReceiver? self = null;
        app.Run(async http =>
        {
            using var reader = new StreamReader(http.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var call = new ReceivedWebhook(http.Request.Path, http.Request.Headers["webhook-id"], http.Request.Headers["webhook-timestamp"],
                http.Request.Headers["webhook-signature"], body, 0, DateTime.UtcNow);
            var (status, retryAfter, location) = self!.Answer(call);
            if (self.Slowness(call) is { Ticks: > 0 } slowness) await Task.Delay(slowness);
            self._received.Enqueue(call with { Answered = status, AnsweredAt = DateTime.UtcNow });
            http.Response.StatusCode = status;
            if (retryAfter is not null) http.Response.Headers.RetryAfter = retryAfter;
            if (location is not null) http.Response.Headers.Location = location;
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        self = new WebhookReceiver(app, new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal)));
        return self;
    }

    public string Url(string path = "/hooks") => new Uri(BaseAddress, path).ToString();

    /// <summary>A loopback port nothing listens on (just now): where a receiver that is down would be.</summary>
    public static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Waits until <paramref name="done"/> holds for what was received (at most <paramref name="seconds"/>).</summary>
    public async Task WaitUntilAsync(Func<IReadOnlyList<ReceivedWebhook>, bool> done, int seconds = 30, string? what = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!done(Received))
        {
            if (DateTime.UtcNow > deadline)
                throw new Xunit.Sdk.XunitException($"the receiver did not get {what ?? "what was expected"} within {seconds} s; it got {Received.Count} request(s): " +
                                                   string.Join(", ", Received.Select(r => $"{r.Id}→{r.Answered}")));
            await Task.Delay(50);
        }
    }

    /// <summary>Verifies a delivery the way the Standard Webhooks specification says a receiver does; true when any v1 signature matches.</summary>
    public static bool Verifies(ReceivedWebhook call, string secret)
    {
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var expected = Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{call.Id}.{call.Timestamp}.{call.Body}")));
        return (call.Signature ?? "").Split(' ').Any(s => s.StartsWith("v1,", StringComparison.Ordinal)
                                                          && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(s[3..]), Encoding.ASCII.GetBytes(expected)));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
