using System.Diagnostics;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Roster.Infrastructure.Http;
using Roster.Infrastructure.Http.OpenApi;
using Roster.Infrastructure.Telemetry;
using Roster.Infrastructure.WorkOs;

namespace Roster.Features.WebhookIngest;

public sealed record WebhookAnswer([property: OneOf(typeof(Infrastructure.Data.WebhookOutcomes))] string Outcome);

public static class WorkOsWebhookEndpoint
{
    public const int MaxBodyBytes = 1024 * 1024;

    public static IServiceCollection AddWebhookIngest(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddScoped<WebhookContext>();
        services.AddScoped<WebhookProcessor>();
        return services;
    }

    public static IEndpointRouteBuilder MapWorkOsWebhook(this IEndpointRouteBuilder app)
    {
        app.MapPost("/webhooks/workos", Receive)
            .AllowAnonymous()
            .WithTags("Webhooks")
            .Accepts<object>("application/json")
            .WithRequestSchema(WebhookSchemas.Event, "A WorkOS event; verified over the raw bytes before it is parsed.")
            .WithRequiredHeader("WorkOS-Signature",
                "`t=<unix ms>, v1=<hex HMAC-SHA256(secret, \"<t>.<raw body>\")>` with the endpoint's signing secret (WorkOS__WebhookSecret). " +
                "Timestamps older than WorkOS__WebhookToleranceSeconds (default 180) are refused; compared in constant time.",
                "t=1764460800000, v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd")
            .Answers(StatusCodes.Status400BadRequest, "not a WorkOS event (a JSON object with id, event and data), or data of the wrong shape", ErrorCodes.ValidationFailed)
            .Answers(StatusCodes.Status401Unauthorized, "missing, stale or invalid signature, or no secret configured", ErrorCodes.InvalidSignature)
            .Answers(StatusCodes.Status413PayloadTooLarge, "the body is over 1 MiB", ErrorCodes.PayloadTooLarge)
            .Answers(StatusCodes.Status503ServiceUnavailable, "storage, or WorkOS itself (needed to apply this event), is unavailable; WorkOS retries",
                ErrorCodes.StorageUnavailable, ErrorCodes.UpstreamUnavailable)
            .WithName("WorkOsWebhook")
            .WithSummary("Receive a WorkOS event")
            .WithDescription("WorkOS only, authenticated by the `WorkOS-Signature` header (no bearer token). Each event is applied in one " +
                             "transaction with its event record (the dedupe key is the event id) and any notification it causes, and answered " +
                             "with its outcome: `applied`; `refused` (an un-staged membership over the seat limit: not mirrored, recorded, " +
                             "owners/admins notified); `stale` (older than what Roster has seen); `ignored` (a type Roster does not handle); " +
                             "`duplicate` (already recorded). A webhook never activates a pending `owner_add`.")
            .WithRequestExample("organizationCreated", "organization.created",
                """{"id":"event_01KQF02TMBDVHY0WESGR3DPEAA","event":"organization.created","data":{"object":"organization","id":"org_01KMD54G2B6NCWFCPSMK23NYGC","name":"Acme","domains":[],"created_at":"2026-11-01T10:00:00.000Z","updated_at":"2026-11-01T10:00:00.000Z"},"created_at":"2026-11-01T10:00:00.000Z"}""")
            .WithRequestExample("membershipCreated", "organization_membership.created",
                """{"id":"event_01KQF0A1B2C3D4E5F6G7H8J9K0","event":"organization_membership.created","data":{"object":"organization_membership","id":"om_01KQF0A1B2C3D4E5F6G7H8J9K1","user_id":"user_01JD4Y6ZQ3F8Q6V9N2K7XGW4RB","organization_id":"org_01KMD54G2B6NCWFCPSMK23NYGC","status":"active","role":{"slug":"member"},"created_at":"2026-11-01T10:05:00.000Z","updated_at":"2026-11-01T10:05:00.000Z"},"created_at":"2026-11-01T10:05:00.000Z"}""");
        return app;
    }

    /// <summary>Signature first (over the raw bytes), then shape, then one transaction per event.</summary>
    public static async Task<Results<Ok<WebhookAnswer>, ProblemHttpResult>> Receive(
        HttpRequest request, WebhookProcessor processor, SyncScheduler sync, WorkOsOptions options, TimeProvider clock,
        RosterMetrics metrics, ILogger<WebhookProcessor> logger, CancellationToken ct)
    {
        if (request.ContentLength > MaxBodyBytes) return TooLarge();
        var body = await ReadCappedAsync(request.Body, ct);
        if (body is null) return TooLarge();

        if (!WorkOsSignature.IsValid(request.Headers["WorkOS-Signature"], body, options.WebhookSecret, clock.GetUtcNow(),
                TimeSpan.FromSeconds(options.WebhookToleranceSeconds)))
        {
            // Deliberately vague: the answer must not tell a forger which part was wrong.
            logger.LogWarning("Rejected a WorkOS webhook with a missing, stale or invalid signature");
            return Problems.Of(StatusCodes.Status401Unauthorized, ErrorCodes.InvalidSignature, "Invalid signature.");
        }

        // Malformed is 400 even where the bad bytes sit in a field no handler reads (the JSON reader decodes only what it reads).
        if (!System.Text.Unicode.Utf8.IsValid(body))
            return Problems.Validation("body", "The body is not valid UTF-8.");
        var evt = WorkOsEvent.Parse(body);
        if (evt is null)
            return Problems.Validation("body", "Expected a WorkOS event: a JSON object with id, event and data.");
        // The event on the request's span and on a span of its own around applying it (null: nobody is tracing).
        var requestSpan = Activity.Current;
        using var span = RosterMetrics.ActivitySource.StartActivity("WorkOS webhook " + evt.Event);
        foreach (var activity in new[] { requestSpan, span })
            activity?.SetTag(TraceTags.EventId, evt.Id).SetTag(TraceTags.EventType, evt.Event);
        try
        {
            var outcome = await processor.ProcessAsync(evt, Encoding.UTF8.GetString(body), ct);
            // Debug, not Information: a line per event cost about a tenth of the service's CPU under load (bench/RESULTS.md,
            // "logging"), and says nothing the outcome metric and the event's span do not; a refusal warns on its own.
            WebhookLog.Outcome(logger, evt.Id, evt.Event, outcome);
            foreach (var activity in new[] { requestSpan, span }) activity?.SetTag(TraceTags.Outcome, outcome);
            metrics.WebhookEvent(evt.Event, WebhookProcessor.Handles(evt.Event), outcome);
            if (outcome != Infrastructure.Data.WebhookOutcomes.Duplicate) sync.AfterWebhook(evt);
            return TypedResults.Ok(new WebhookAnswer(outcome));
        }
        catch (MalformedEventException ex)
        {
            return Problems.Validation("data", ex.Message);
        }
        catch (Exception ex) when (ex is WorkOsApiException or HttpRequestException)
        {
            // Applying this event needed WorkOS itself (see WebhookContext.PrepareAsync); WorkOS will retry.
            logger.LogWarning("WorkOS event {EventId} not applied: WorkOS could not be asked ({Error})", evt.Id, ex.Message);
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, ErrorCodes.UpstreamUnavailable, "WorkOS is unavailable; try again shortly.");
        }
    }

    private static ProblemHttpResult TooLarge() =>
        Problems.Of(StatusCodes.Status413PayloadTooLarge, ErrorCodes.PayloadTooLarge, "The request body is too large.",
            $"Webhook bodies are limited to {MaxBodyBytes} bytes.");

    /// <summary>Reads the body once, giving up (null) as soon as it passes the cap instead of buffering it all.</summary>
    internal static async Task<byte[]?> ReadCappedAsync(Stream body, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes) return null;
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }
}

/// <summary>The webhook's log lines, source-generated so a disabled level costs no formatting or boxing.</summary>
internal static partial class WebhookLog
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "WorkOS event {EventId} ({EventType}): {Outcome}")]
    public static partial void Outcome(ILogger logger, string eventId, string eventType, string outcome);
}
