using Microsoft.AspNetCore.Http.HttpResults;
using Roster.Features.WebhookIngest;
using Roster.Infrastructure.Configuration;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Http;

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
            .Produces(StatusCodes.Status200OK, contentType: "application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .WithName("WorkOsAction");
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
