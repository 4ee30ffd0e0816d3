using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Roster.Infrastructure.Data;
using Roster.Tests.Support;

namespace Roster.Tests.Telemetry;

/// <summary>A host that serves its metrics for Prometheus at /metrics.</summary>
public sealed class PrometheusApp() : RosterApp(StorageProvider.Sqlite)
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Telemetry:PrometheusEnabled"] = "true" };
}

/// <summary>A host exporting over OTLP (http/protobuf) to a fake collector on 127.0.0.1.</summary>
public sealed class OtlpApp : RosterApp
{
    public OtlpApp() : base(StorageProvider.Sqlite) => Collector = FakeCollector.Start();

    public FakeCollector Collector { get; }

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Collector.BaseUrl,
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
    };

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) Collector.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }
}

/// <summary>Accepts OTLP/HTTP exports and remembers which signal paths received how many bytes.</summary>
public sealed class FakeCollector : IAsyncDisposable
{
    private readonly WebApplication _app;
    public ConcurrentQueue<(string Path, int Bytes, string? ContentType)> Exports { get; } = new();
    public string BaseUrl { get; }

    private FakeCollector(WebApplication app, string baseUrl) => (_app, BaseUrl) = (app, baseUrl);

    public static FakeCollector Start()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        FakeCollector? collector = null;
        app.MapPost("/v1/{signal}", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            collector!.Exports.Enqueue((request.Path.Value!, (int)body.Length, request.ContentType));
            return Results.Ok();
        });
        app.StartAsync().GetAwaiter().GetResult();
        var address = app.Urls.Single();
        collector = new FakeCollector(app, address);
        return collector;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}

public sealed class ExportTests(PrometheusApp prometheus, OtlpApp otlp, SqliteApp plain)
    : IClassFixture<PrometheusApp>, IClassFixture<OtlpApp>, IClassFixture<SqliteApp>
{
    [Fact]
    public async Task PrometheusScrapesRequestAndRosterMetricsAtMetrics()
    {
        var client = prometheus.CreateClient();
        Assert.Equal("applied", await client.DeliverOk(WorkOs.Envelope("organization.created", WorkOs.Organization(WorkOs.NewId("org"), "Scraped"))));
        await (await client.GetAsync("/health/ready")).ShouldBe(HttpStatusCode.OK);

        using var response = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("roster_webhook_events_total{", text, StringComparison.Ordinal);
        Assert.Contains("workos_event_type=\"organization.created\"", text, StringComparison.Ordinal);
        Assert.Contains("http_server_request_duration_seconds_bucket{", text, StringComparison.Ordinal);
        Assert.Contains("roster_outbox_pending", text, StringComparison.Ordinal);

        // Without the setting there is no /metrics.
        using var off = await plain.CreateClient().GetAsync("/metrics");
        await off.ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task TracesAndMetricsGoOverOtlpWhenTheEndpointIsSet()
    {
        await (await otlp.CreateClient().PostJson("/api/organizations", new { name = "x" })).ShouldBe(HttpStatusCode.Unauthorized);
        using var listener = new OtelErrors();
        var flushed = otlp.Services.GetRequiredService<TracerProvider>().ForceFlush(10_000)
                      & otlp.Services.GetRequiredService<MeterProvider>().ForceFlush(10_000);
        Assert.True(flushed, "not flushed; the collector got: " + string.Join(", ", otlp.Collector.Exports) + "\n" + string.Join("\n", listener.Messages));
        var paths = otlp.Collector.Exports.Where(e => e.Bytes > 0).Select(e => e.Path).ToHashSet();
        Assert.Contains("/v1/traces", paths);
        Assert.Contains("/v1/metrics", paths);
        Assert.All(otlp.Collector.Exports, e => Assert.Equal("application/x-protobuf", e.ContentType));
    }

    [Fact]
    public void WithoutAnExporterNothingIsCollected()
    {
        // An unobserved service pays nothing: no tracer or meter provider is built.
        Assert.Null(plain.Services.GetService<TracerProvider>());
        Assert.Null(plain.Services.GetService<MeterProvider>());
    }
}

/// <summary>
/// The service as deployed, a child process writing JSON console logs (Logging__Console__FormatterName=json) at the most
/// verbose level, with every secret configured and used: each line is one JSON object, and no secret or token is in any.
/// </summary>
public sealed class JsonLogTests
{
    private const string WebhookSecret = "whsec_json_log_test_SECRET_9f2c";
    private const string ApiKey = "sk_test_json_log_test_SECRET_41aa";
    private const string SlackToken = "xoxb-json-log-test-SECRET-77d1";

    [Fact]
    public async Task JsonConsoleLogsAreOneObjectPerLineAndNeverPrintSecretsOrTokens()
    {
        var folder = Directory.CreateTempSubdirectory("roster-json-logs-");
        var port = FreePort();
        var user = RosterApp.NewUser("logged");
        var token = RosterApp.TokenFor(user);
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = folder.FullName,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Roster.dll"));
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add($"http://127.0.0.1:{port}");
        foreach (var (key, value) in new Dictionary<string, string>
                 {
                     ["ASPNETCORE_ENVIRONMENT"] = "Production",
                     ["Storage__ConnectionString"] = $"Data Source={Path.Combine(folder.FullName, "roster.db")}",
                     ["Auth__DevSigningKey"] = RosterApp.SigningKeyPem,
                     ["Auth__Issuer"] = "roster-tests",
                     ["Auth__Audience"] = "roster-tests-api",
                     ["WorkOS__WebhookSecret"] = WebhookSecret,
                     ["WorkOS__ApiKey"] = ApiKey,
                     ["WorkOS__BaseUrl"] = $"http://127.0.0.1:{FreePort()}/",
                     ["WorkOS__SyncDebounceSeconds"] = "0",
                     ["WorkOS__MaxRetries"] = "0",
                     ["Slack__BotToken"] = SlackToken,
                     ["Slack__BaseUrl"] = $"http://127.0.0.1:{FreePort()}/api/",
                     ["Notifications__PollSeconds"] = "0.2",
                     ["Logging__Console__FormatterName"] = "json",
                     ["Logging__Console__FormatterOptions__IncludeScopes"] = "true",
                     ["Logging__LogLevel__Default"] = "Trace",
                     ["Logging__Console__LogLevel__Default"] = "Trace",
                 })
            start.Environment[key] = value;

        using var process = Process.Start(start)!;
        // Whole lines only: the process is killed below while it may be writing one (the console writes a long line in
        // pieces), and what it had written of that one is kept apart (still searched for secrets, not parsed as a line).
        var lines = new ConcurrentQueue<string>();
        var cutOff = new StringBuilder();
        var reader = Task.Run(async () =>
        {
            var buffer = new char[4096];
            int read;
            while ((read = await process.StandardOutput.ReadAsync(buffer)) > 0)
            {
                cutOff.Append(buffer, 0, read);
                var text = cutOff.ToString();
                var end = text.LastIndexOf('\n');
                if (end < 0) continue;
                foreach (var line in text[..end].Split('\n')) lines.Enqueue(line.TrimEnd('\r'));
                cutOff.Clear().Append(text[(end + 1)..]);
            }
        });
        var errors = process.StandardError.ReadToEndAsync();
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(20) };
            await WaitUntilLiveAsync(client);

            // A valid token, a forged one, a signed webhook, a badly signed one; the refusal it causes makes the outbox
            // try Slack, and the webhook makes the sync try WorkOS (both unreachable: their errors are logged).
            using (var mine = new HttpRequestMessage(HttpMethod.Get, "/api/membership-requests/mine"))
            {
                mine.Headers.Authorization = new("Bearer", token);
                Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(mine)).StatusCode);
            }
            using (var forged = new HttpRequestMessage(HttpMethod.Get, "/api/membership-requests/mine"))
            {
                forged.Headers.Authorization = new("Bearer", token[..^4] + "AAAA");
                Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(forged)).StatusCode);
            }
            var workosOrg = WorkOs.NewId("org");
            await DeliverAsync(client, WorkOs.Envelope("organization.created", WorkOs.Organization(workosOrg, "Logged")), WebhookSecret, HttpStatusCode.OK);
            await DeliverAsync(client, WorkOs.Envelope("organization.created", WorkOs.Organization(workosOrg, "Logged")), "whsec_wrong", HttpStatusCode.Unauthorized);
            // individual_academic has no contributor seats and one community_only seat: the second un-staged add is refused.
            using (var plan = new HttpRequestMessage(HttpMethod.Put, $"/api/organizations/{workosOrg}/plan"))
            {
                plan.Headers.Authorization = new("Bearer", RosterApp.TokenFor(RosterApp.NewUser("admin", admin: true)));
                plan.Content = new StringContent("""{"plan":"individual_academic"}""", Encoding.UTF8, "application/json");
                Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(plan)).StatusCode);
            }
            for (var i = 0; i < 2; i++)
                await DeliverAsync(client, WorkOs.Envelope("organization_membership.created",
                    WorkOs.Membership(WorkOs.NewId("om"), WorkOs.NewId("user"), workosOrg)), WebhookSecret, HttpStatusCode.OK);

            // Until the outbox has tried Slack (the refusal's notification) and the sync has tried WorkOS.
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (DateTime.UtcNow < deadline
                   && !(lines.Any(l => l.Contains("Roster.Infrastructure.Outbox", StringComparison.Ordinal) && l.Contains("attempt", StringComparison.Ordinal))
                        && lines.Any(l => l.Contains("System.Net.Http.HttpClient", StringComparison.Ordinal) && l.Contains("127.0.0.1", StringComparison.Ordinal))))
                await Task.Delay(200);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            await reader;
            folder.Delete(recursive: true);
        }

        var output = lines.ToArray();
        Assert.True(output.Length > 20, $"Too few log lines:\n{string.Join("\n", output)}\n{await errors}");
        foreach (var line in output.Where(l => l.Length > 0))
        {
            using var json = JsonDocument.Parse(line); // one JSON object per line
            Assert.Equal(JsonValueKind.Object, json.RootElement.ValueKind);
            Assert.True(json.RootElement.TryGetProperty("LogLevel", out _) && json.RootElement.TryGetProperty("Category", out _), line);
        }
        // What was exercised is in the logs…
        var all = string.Join("\n", output.Append(cutOff.ToString()));
        Assert.Contains("Rejected a WorkOS webhook", all, StringComparison.Ordinal);
        Assert.Contains("seats full", all, StringComparison.Ordinal);
        Assert.Contains("\"TraceId\"", all, StringComparison.Ordinal);
        // …and no secret: not the token, nor its signature, nor a configured key, secret or token.
        var signature = token.Split('.')[2];
        var keyLine = RosterApp.SigningKeyPem.Split('\n')[2];
        foreach (var secret in new[] { token, signature, WebhookSecret, ApiKey, SlackToken, keyLine })
            Assert.DoesNotContain(secret, all, StringComparison.Ordinal);
    }

    private static async Task DeliverAsync(HttpClient client, string json, string secret, HttpStatusCode expected)
    {
        using var request = WorkOs.SignedRequest(json, secret: secret);
        using var response = await client.SendAsync(request);
        Assert.Equal(expected, response.StatusCode);
    }

    private static async Task WaitUntilLiveAsync(HttpClient client)
    {
        for (var attempt = 0; attempt < 150; attempt++)
        {
            try
            {
                if ((await client.GetAsync("/health/live")).IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            await Task.Delay(200);
        }
        throw new TimeoutException("The service did not start within 30 s.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

public sealed class OtelErrors : System.Diagnostics.Tracing.EventListener
{
    public ConcurrentQueue<string> Messages { get; } = new();
    protected override void OnEventSourceCreated(System.Diagnostics.Tracing.EventSource source)
    {
        if (source.Name.StartsWith("OpenTelemetry", StringComparison.Ordinal)) EnableEvents(source, System.Diagnostics.Tracing.EventLevel.Warning);
    }
    protected override void OnEventWritten(System.Diagnostics.Tracing.EventWrittenEventArgs e) =>
        Messages.Enqueue($"{e.EventSource.Name} {e.EventName}: {string.Format(System.Globalization.CultureInfo.InvariantCulture, e.Message ?? "", e.Payload?.ToArray() ?? [])}");
}
