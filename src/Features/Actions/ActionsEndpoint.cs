using Microsoft.AspNetCore.Http.HttpResults;
using Roster.Features.WebhookIngest;
using Roster.Infrastructure.Configuration;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Http;
using Roster.Infrastructure.Http.OpenApi;
using Roster.Infrastructure.WorkOs;

namespace Roster.Features.Actions;

public static class ActionsEndpoint
{
    public static IServiceCollection AddWorkOsActions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSettings<ActionsOptions>("Actions")
            // The secret sits with the other WorkOS secrets in configuration (WorkOS__ActionsSecret).
            .Configure(options => options.Secret = configuration["WorkOS:ActionsSecret"]);
        services.AddSingleton<ActionsMetrics>();
        services.AddScoped<ActionGate>();
        return services;
    }

    public static IEndpointRouteBuilder MapWorkOsActions(this IEndpointRouteBuilder app)
    {
        app.MapPost("/webhooks/workos/actions", Receive)
            .AllowAnonymous()
            .WithTags("Webhooks")
            .Accepts<object>("application/json")
            .WithRequestSchema(WebhookSchemas.ActionContext, "A WorkOS action context; verified over the raw bytes before it is read.")
            .WithResponseSchema(StatusCodes.Status200OK, WebhookSchemas.ActionResponse,
                "The verdict (Allow or Deny, with the message the person sees), signed. Without the database: Actions__WhenStorageDown's verdict, still signed.")
            .WithRequiredHeader("WorkOS-Signature",
                "`t=<unix ms>, v1=<hex HMAC-SHA256(secret, \"<t>.<raw body>\")>` with the actions secret (WorkOS__ActionsSecret).",
                "t=1764460800000, v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd")
            .Answers(StatusCodes.Status400BadRequest, "not an action context Roster reads", ErrorCodes.ValidationFailed)
            .Answers(StatusCodes.Status401Unauthorized, "missing, stale or invalid signature, or no actions secret configured", ErrorCodes.InvalidSignature)
            .Answers(StatusCodes.Status404NotFound, "WorkOS Actions are not enabled (Actions__Enabled)", ErrorCodes.NotFound)
            .Answers(StatusCodes.Status413PayloadTooLarge, "the body is over 1 MiB", ErrorCodes.PayloadTooLarge)
            .WithoutStorage()
            .WithName("WorkOsAction")
            .WithSummary("Decide a WorkOS sign-in or sign-up")
            .WithDescription("WorkOS only (AuthKit Actions), authenticated by the `WorkOS-Signature` header (no bearer token). A sign-in " +
                             "or sign-up into an organization whose seat type is full — by the webhook's own seat rule — is denied with a " +
                             "message naming the organization, recorded beside refusals and notified; anything else is allowed. Without " +
                             "the database the answer is Actions__WhenStorageDown's verdict (never a 503: a person is waiting).")
            .WithRequestExample("signIn", "A sign-in into an organization",
                """{"id":"01KQF0ACTION0000000000000000","object":"authentication_action_context","user":{"id":"user_01JD4Y6ZQ3F8Q6V9N2K7XGW4RB","email":"bob@example.com","first_name":"Bob","last_name":"Stone"},"organization":{"id":"org_01KMD54G2B6NCWFCPSMK23NYGC","name":"Acme"}}""");
        return app;
    }

    /// <summary>
    /// Signature first (over the raw bytes, with the actions secret), then the context, then one short transaction; the
    /// answer is a verdict signed the way the SDK's signResponse signs it. Without the database the answer is
    /// <c>Actions:WhenStorageDown</c>'s verdict, still signed, because WorkOS is waiting on a person's sign-in.
    /// </summary>
    public static async Task<Results<FileContentHttpResult, ProblemHttpResult>> Receive(
        HttpRequest request, ActionsOptions options, ActionGate gate, ActionsMetrics metrics, TimeProvider clock, ILogger<ActionGate> logger,
        CancellationToken ct)
    {
        if (!options.Enabled) return Problems.NotFound("WorkOS Actions are not enabled on this Roster (Actions__Enabled).");
        if (request.ContentLength > WorkOsWebhookEndpoint.MaxBodyBytes) return TooLarge();
        var body = await WorkOsWebhookEndpoint.ReadCappedAsync(request.Body, ct);
        if (body is null) return TooLarge();

        if (!WorkOsSignature.IsValid(request.Headers["WorkOS-Signature"], body, options.Secret, clock.GetUtcNow(), ActionsOptions.Tolerance))
        {
            // As vague as the webhook's: nothing tells a forger which part was wrong.
            logger.LogWarning("Rejected a WorkOS action with a missing, stale or invalid signature");
            return Problems.Of(StatusCodes.Status401Unauthorized, ErrorCodes.InvalidSignature, "Invalid signature.");
        }

        var context = ActionContext.Parse(body);
        if (context is null)
            return Problems.Validation("body", "Expected a WorkOS action context: authentication_action_context (with user.id) or " +
                                               "user_registration_action_context (with user_data.email), with an id.");

        ActionDecision decision;
        try
        {
            decision = await gate.DecideAsync(context, ct);
        }
        catch (Exception ex) when (DbErrors.IsUnavailable(ex))
        {
            decision = options.AllowWhenStorageDown
                ? ActionDecision.Allow("storage_unavailable")
                : ActionDecision.Deny("Signing in is not possible right now. Please try again in a few minutes.", "storage_unavailable");
            metrics.StorageUnavailable(context.ActionType, decision.Verdict);
            logger.LogWarning("WorkOS action {ActionId} ({ActionType}) answered {Verdict} without the database (Actions:WhenStorageDown={WhenStorageDown}): {Error}",
                context.Id, context.ActionType, decision.Verdict, options.WhenStorageDown, ex.Message);
        }

        metrics.Answered(context.ActionType, decision);
        logger.LogInformation("WorkOS action {ActionId} ({ActionType}): {Verdict} ({Reason})", context.Id, context.ActionType, decision.Verdict, decision.Reason);
        var response = ActionResponse.Sign(context.ActionType, decision.Verdict, decision.Message, clock.GetUtcNow().ToUnixTimeMilliseconds(), options.Secret!);
        return TypedResults.File(response, "application/json");
    }

    private static ProblemHttpResult TooLarge() =>
        Problems.Of(StatusCodes.Status413PayloadTooLarge, ErrorCodes.PayloadTooLarge, "The request body is too large.",
            $"Action bodies are limited to {WorkOsWebhookEndpoint.MaxBodyBytes} bytes.");
}
