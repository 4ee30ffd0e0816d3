using System.ComponentModel;
using System.Globalization;
using System.Net;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Roster.Features.Changes;
using Roster.Infrastructure.Changes;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Http;
using Roster.Infrastructure.Http.OpenApi;
using Roster.Infrastructure.Memberships;

namespace Roster.Features.WebhookSubscriptions;

public sealed record CreateWebhookSubscriptionRequest(
    [property: RequiredInBody, Description("Where deliveries go: an https address (in Development also http to a loopback host).")] string? Url,
    [property: Description("The change types wanted (see the README's list); left out or empty: every type.")] string[]? Types,
    [property: Description("Only this organization's changes (Roster id or WorkOS org_ id); left out: every organization.")] string? OrganizationId,
    [property: Description("A note for operators, up to 500 characters.")] string? Description);

[AtLeastOneOf("url", "types", "organizationId", "description", "enabled", "rotateSecret")]
public sealed record UpdateWebhookSubscriptionRequest(
    [property: Description("A new address (same rules as when made).")] string? Url,
    [property: Description("The change types wanted; empty: every type.")] string[]? Types,
    [property: Description("Only this organization's changes; an empty string: every organization.")] string? OrganizationId,
    [property: Description("A note for operators; an empty string clears it.")] string? Description,
    [property: Description("true re-enables a disabled subscription (what it missed waits in order); false disables it.")] bool? Enabled,
    [property: Description("true makes a new signing secret, answered once in `secret`; the old one keeps signing too for secretOverlapMinutes.")] bool? RotateSecret,
    [property: Description("With rotateSecret: minutes the old secret keeps signing (default Webhooks__SecretOverlapHours × 60; 0 stops it at once).")] int? SecretOverlapMinutes);

public sealed record ReplayRequest(
    [property: RequiredInBody, Description("Re-send every retained change from this global position on, in order, with their original webhook-ids.")] long? FromPosition);

/// <summary>
/// A subscription. <c>secret</c> is present only in the answer that made it (or rotated it): store it then. <c>status</c> is
/// <c>active</c> or <c>disabled</c> (by an operator, or after failing for Webhooks__DisableAfterHours: see <c>disabledReason</c>).
/// </summary>
public sealed record WebhookSubscriptionView(
    Guid Id, string Url, IReadOnlyList<string> Types, Guid? OrganizationId, string? Description,
    [property: OneOf(typeof(SubscriptionStatuses))] string Status, DateTime? DisabledAt, string? DisabledReason, DateTime? FailingSince,
    DateTime? PreviousSecretExpiresAt, DateTime CreatedAt, DateTime UpdatedAt, string? Secret)
{
    public static WebhookSubscriptionView Of(WebhookSubscription s, bool withSecret = false) => new(
        s.Id, s.Url, WebhookTypes.Read(s.Types).Order(StringComparer.Ordinal).ToList(), s.OrganizationId, s.Description,
        s.DisabledAt is null ? SubscriptionStatuses.Active : SubscriptionStatuses.Disabled, s.DisabledAt, s.DisabledReason, s.FailingSince,
        s.PreviousSecretExpiresAt, s.CreatedAt, s.UpdatedAt, withSecret ? s.Secret : null);
}

public static class SubscriptionStatuses
{
    public const string Active = "active";
    public const string Disabled = "disabled";
}

/// <summary>One delivery of the log: the change it carries (its id is the webhook-id), its tries and the last answer.</summary>
public sealed record WebhookDeliveryView(
    Guid Id, Guid ChangeId, Guid OrganizationId, long Position, long Ordinal, bool Replay,
    [property: OneOf(typeof(DeliveryStatus))] string Status, int Attempts, DateTime? NextAttemptAt, DateTime? LastAttemptAt,
    int? ResponseCode, int? LatencyMs, string? LastError, DateTime CreatedAt, DateTime? CompletedAt)
{
    public static WebhookDeliveryView Of(WebhookDelivery d) => new(d.Id, d.ChangeId, d.OrganizationId, d.Position, d.Ordinal, d.Replay,
        d.Status, d.Attempts, d.Status == DeliveryStatus.Pending ? d.NextAttemptAt : null, d.LastAttemptAt, d.ResponseCode, d.LatencyMs,
        d.LastError, d.CreatedAt, d.CompletedAt);
}

/// <summary>What a replay queued.</summary>
public sealed record ReplayView(int Queued, long FromPosition, long? ThroughPosition);

/// <summary>The address rule: https; in Development also http to a loopback host (a receiver on the developer's machine).</summary>
public sealed class WebhookUrlRule(IHostEnvironment environment)
{
    public string? Problem(string? url)
    {
        if (string.IsNullOrWhiteSpace(url)) return "url is required.";
        if (url.Length > 2000) return "url is at most 2000 characters.";
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") || string.IsNullOrEmpty(uri.Host))
            return "url is an absolute https address.";
        if (!string.IsNullOrEmpty(uri.UserInfo)) return "url carries no user name or password.";
        if (!string.IsNullOrEmpty(uri.Fragment)) return "url has no fragment.";
        if (uri.Scheme == "http" && !(environment.IsDevelopment() && IsLoopback(uri)))
            return environment.IsDevelopment() ? "url is https, or http to a loopback host (localhost, 127.0.0.1, ::1)." : "url is https.";
        return null;
    }

    private static bool IsLoopback(Uri uri) => uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
}

internal static class WebhookRules
{
    public static IRuleBuilderOptions<T, string[]?> KnownTypes<T>(this IRuleBuilder<T, string[]?> rule) => rule
        .Must(types => types is null || (types.Length <= ChangeTypes.All.Count * 2 && types.All(t => t is not null && ChangeTypes.IsKnown(t))))
        .WithMessage("types are change types from the documented list (e.g. membership.added).");

    public static IRuleBuilderOptions<T, string?> Note<T>(this IRuleBuilder<T, string?> rule) => rule
        .Must(d => d is null || (d.Length <= 500 && !d.Any(char.IsControl))).WithMessage("description is at most 500 characters, with no control characters.");
}

public sealed class CreateWebhookSubscriptionValidator : AbstractValidator<CreateWebhookSubscriptionRequest>
{
    public CreateWebhookSubscriptionValidator(WebhookUrlRule urls)
    {
        RuleFor(r => r.Url).Custom((url, ctx) => { if (urls.Problem(url) is { } p) ctx.AddFailure(p); });
        RuleFor(r => r.Types).KnownTypes();
        RuleFor(r => r.Description).Note();
        RuleFor(r => r.OrganizationId).Must(o => o is null || (o.Length is > 0 and <= 100)).WithMessage("organizationId is a Roster id or a WorkOS org_ id.");
    }
}

public sealed class UpdateWebhookSubscriptionValidator : AbstractValidator<UpdateWebhookSubscriptionRequest>
{
    public UpdateWebhookSubscriptionValidator(WebhookUrlRule urls)
    {
        RuleFor(r => r).Must(r => r.Url is not null || r.Types is not null || r.OrganizationId is not null || r.Description is not null
                                  || r.Enabled is not null || r.RotateSecret is not null)
            .WithName("body").OverridePropertyName("body").WithMessage("Say what to change: url, types, organizationId, description, enabled or rotateSecret.");
        RuleFor(r => r.Url).Custom((url, ctx) => { if (url is not null && urls.Problem(url) is { } p) ctx.AddFailure(p); });
        RuleFor(r => r.Types).KnownTypes();
        RuleFor(r => r.Description).Note();
        RuleFor(r => r.OrganizationId).Must(o => o is null || o.Length <= 100).WithMessage("organizationId is a Roster id, a WorkOS org_ id, or empty.");
        RuleFor(r => r.SecretOverlapMinutes).InclusiveBetween(0, 43200).WithMessage("secretOverlapMinutes is from 0 to 43200.");
        RuleFor(r => r.SecretOverlapMinutes).Null().When(r => r.RotateSecret != true).WithMessage("secretOverlapMinutes goes with rotateSecret: true.");
    }
}

public sealed class ReplayRequestValidator : AbstractValidator<ReplayRequest>
{
    public ReplayRequestValidator()
    {
        RuleFor(r => r.FromPosition).NotNull().WithMessage("fromPosition is required.")
            .GreaterThanOrEqualTo(1).WithMessage("fromPosition is a position, 1 or more.");
    }
}

public static class WebhookSubscriptionsEndpoints
{
    private const string Tag = "Webhook subscriptions";

    public static RouteGroupBuilder MapWebhookSubscriptions(this RouteGroupBuilder admin)
    {
        admin.MapPost("/webhook-subscriptions", Create)
            .WithTags(Tag)
            .WithValidation<CreateWebhookSubscriptionRequest>()
            .Answers(StatusCodes.Status404NotFound, "organizationId names no organization", ErrorCodes.NotFound)
            .WithRequestExample("one organization's seats", "Membership changes of one organization",
                """{"url":"https://crm.example.com/hooks/roster","types":["membership.added","membership.accepted","membership.removed"],"organizationId":"org_01HXYZ","description":"CRM sync"}""")
            .WithRequestExample("everything", "Every change of every organization", """{"url":"https://billing.example.com/roster"}""")
            .WithName("CreateWebhookSubscription")
            .WithSummary("Subscribe an endpoint to changes")
            .WithDescription("Platform admins only. Every matching change committed from now on is delivered to `url` as a Standard Webhooks " +
                             "request (`webhook-id` = the change id, `webhook-timestamp`, `webhook-signature: v1,<base64>`), in order per " +
                             "organization. The answer carries the signing secret (`whsec_…`) — the only time it is shown. https only " +
                             "(in Development also http to a loopback host).");
        admin.MapGet("/webhook-subscriptions", List)
            .WithTags(Tag)
            .WithIntegerParameterDoc("limit", $"Subscriptions per page (default {PageRequest.DefaultLimit}).", 1, PageRequest.MaxLimit)
            .WithParameterDoc("after", "The cursor of the next page, from the `Link: <…>; rel=\"next\"` header of the previous one.")
            .WithName("ListWebhookSubscriptions")
            .WithSummary("List webhook subscriptions")
            .WithDescription("Platform admins only. Live subscriptions, oldest first, paged (Link rel=\"next\"); secrets are never shown here.");
        admin.MapGet("/webhook-subscriptions/{id:guid}", Get)
            .WithTags(Tag)
            .Answers(StatusCodes.Status404NotFound, "no such subscription", ErrorCodes.NotFound)
            .WithName("GetWebhookSubscription")
            .WithSummary("Read a webhook subscription")
            .WithDescription("Platform admins only. The subscription, its status (active or disabled, and why) and since when its deliveries fail.");
        admin.MapPatch("/webhook-subscriptions/{id:guid}", Update)
            .WithTags(Tag)
            .WithValidation<UpdateWebhookSubscriptionRequest>()
            .Answers(StatusCodes.Status404NotFound, "no such subscription (or, for organizationId, no such organization)", ErrorCodes.NotFound)
            .WithRequestExample("rotate", "Rotate the secret; the old one signs too for an hour", """{"rotateSecret":true,"secretOverlapMinutes":60}""")
            .WithRequestExample("re-enable", "Re-enable after fixing the receiver", """{"enabled":true}""")
            .WithRequestExample("types", "Change the types wanted", """{"types":["membership.added","membership.removed"]}""")
            .WithName("UpdateWebhookSubscription")
            .WithSummary("Change, re-enable or rotate a webhook subscription")
            .WithDescription("Platform admins only. Changes the address, types, organization or note; `enabled` disables or re-enables it " +
                             "(re-enabled, it resumes where it stopped, in order); `rotateSecret` makes a new secret (answered once in `secret`) " +
                             "while the old one keeps signing for `secretOverlapMinutes`, so receivers can switch without missing a delivery.");
        admin.MapDelete("/webhook-subscriptions/{id:guid}", Delete)
            .WithTags(Tag)
            .Answers(StatusCodes.Status404NotFound, "no such subscription", ErrorCodes.NotFound)
            .WithName("DeleteWebhookSubscription")
            .WithSummary("Delete a webhook subscription")
            .WithDescription("Platform admins only. Stops all deliveries to it (pending ones are not sent); its delivery log stays.");
        admin.MapGet("/webhook-subscriptions/{id:guid}/deliveries", Deliveries)
            .WithTags(Tag)
            .WithParameterDoc("status", "Only deliveries in this state; all when left out.", values: new OneOfAttribute(typeof(DeliveryStatus)).Values)
            .WithIntegerParameterDoc("limit", $"Deliveries per page (default {PageRequest.DefaultLimit}).", 1, PageRequest.MaxLimit)
            .WithParameterDoc("after", "The cursor of the next page, from the `Link: <…>; rel=\"next\"` header of the previous one.")
            .Answers(StatusCodes.Status404NotFound, "no such subscription", ErrorCodes.NotFound)
            .WithName("ListWebhookDeliveries")
            .WithSummary("A subscription's delivery log")
            .WithDescription("Platform admins only. Newest first: each delivery's change (the webhook-id), status (pending, sent, failed = " +
                             "given up after Webhooks__MaxAttempts), attempts, the last answer's status code and latency, and the last error.");
        admin.MapPost("/webhook-subscriptions/{id:guid}/replay", Replay)
            .WithTags(Tag)
            .WithValidation<ReplayRequest>()
            .Answers(StatusCodes.Status404NotFound, "no such subscription", ErrorCodes.NotFound)
            .Answers(StatusCodes.Status410Gone, "fromPosition is older than the retention; `oldestAvailablePosition` says where to start", ErrorCodes.CursorExpired)
            .WithRequestExample("replay", "Re-send from position 1200 on", """{"fromPosition":1200}""")
            .WithName("ReplayWebhookSubscription")
            .WithSummary("Re-send changes from a position")
            .WithDescription("Platform admins only. Queues every retained change from `fromPosition` on that the subscription wants, in " +
                             "order after what is already queued, each with its original `webhook-id` (the change id) so receivers dedupe. " +
                             "Answers 202 with how many were queued.");
        return admin;
    }

    private static async Task<(Guid? Id, ProblemHttpResult? Problem)> OrganizationAsync(RosterDb db, string? orgId, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(orgId)) return (null, null);
        var organization = await OrgAccess.FindOrganizationAsync(db, orgId, ct);
        return organization is null ? (null, Problems.NotFound("No such organization.")) : (organization.Id, null);
    }

    public static async Task<Results<Created<WebhookSubscriptionView>, ProblemHttpResult>> Create(
        CreateWebhookSubscriptionRequest request, RosterDb db, TimeProvider clock, CancellationToken ct)
    {
        var (organizationId, problem) = await OrganizationAsync(db, request.OrganizationId, ct);
        if (problem is not null) return problem;
        var now = ChangeLog.Micros(clock.GetUtcNow().UtcDateTime);
        var subscription = new WebhookSubscription
        {
            Id = Guid.CreateVersion7(),
            Url = request.Url!,
            Types = WebhookTypes.Write(request.Types ?? []),
            OrganizationId = organizationId,
            Description = string.IsNullOrEmpty(request.Description) ? null : request.Description,
            Secret = StandardWebhookSignature.NewSecret(),
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.WebhookSubscriptions.Add(subscription);
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/api/admin/webhook-subscriptions/{subscription.Id}", WebhookSubscriptionView.Of(subscription, withSecret: true));
    }

    public static async Task<Results<PagedOk<WebhookSubscriptionView>, ProblemHttpResult>> List(string? limit, string? after, RosterDb db, CancellationToken ct)
    {
        var (page, bad) = PageRequest.ByTimeAndId("webhook-subscriptions", limit, after);
        if (bad is not null) return bad;
        var rows = db.WebhookSubscriptions.AsNoTracking().Where(s => s.DeletedAt == null);
        if (page!.HasAfter)
        {
            var (at, id) = (page.AfterTime(0), page.AfterId(1));
            rows = rows.Where(s => s.CreatedAt > at || (s.CreatedAt == at && s.Id > id));
        }
        var list = await rows.OrderBy(s => s.CreatedAt).ThenBy(s => s.Id).Take(page.Fetch).ToListAsync(ct);
        return page.Page(list.Select(s => WebhookSubscriptionView.Of(s)).ToList(), s => PageRequest.Key(s.CreatedAt, s.Id));
    }

    public static async Task<Results<Ok<WebhookSubscriptionView>, ProblemHttpResult>> Get(Guid id, RosterDb db, CancellationToken ct)
    {
        var subscription = await db.WebhookSubscriptions.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id && s.DeletedAt == null, ct);
        return subscription is null ? NoSuchSubscription() : TypedResults.Ok(WebhookSubscriptionView.Of(subscription));
    }

    private static ProblemHttpResult NoSuchSubscription() => Problems.NotFound("No such webhook subscription.");

    public static async Task<Results<Ok<WebhookSubscriptionView>, ProblemHttpResult>> Update(
        Guid id, UpdateWebhookSubscriptionRequest request, RosterDb db, WebhooksOptions options, TimeProvider clock, CancellationToken ct)
    {
        var subscription = await db.WebhookSubscriptions.FirstOrDefaultAsync(s => s.Id == id && s.DeletedAt == null, ct);
        if (subscription is null) return NoSuchSubscription();
        var now = ChangeLog.Micros(clock.GetUtcNow().UtcDateTime);
        if (request.OrganizationId is not null)
        {
            var (organizationId, problem) = await OrganizationAsync(db, request.OrganizationId, ct);
            if (problem is not null) return problem;
            subscription.OrganizationId = organizationId;
        }
        if (request.Url is not null) subscription.Url = request.Url;
        if (request.Types is not null) subscription.Types = WebhookTypes.Write(request.Types);
        if (request.Description is not null) subscription.Description = request.Description.Length == 0 ? null : request.Description;
        if (request.Enabled == true && subscription.DisabledAt is not null)
        {
            subscription.DisabledAt = null;
            subscription.DisabledReason = null;
            subscription.FailingSince = null; // a fresh start: the disable clock counts from the next failure
        }
        else if (request.Enabled == false && subscription.DisabledAt is null)
        {
            subscription.DisabledAt = now;
            subscription.DisabledReason = "disabled by a platform admin";
        }
        var rotated = request.RotateSecret == true;
        if (rotated)
        {
            var overlap = TimeSpan.FromMinutes(request.SecretOverlapMinutes ?? options.SecretOverlapHours * 60);
            subscription.PreviousSecret = overlap > TimeSpan.Zero ? subscription.Secret : null;
            subscription.PreviousSecretExpiresAt = overlap > TimeSpan.Zero ? now + overlap : null;
            subscription.Secret = StandardWebhookSignature.NewSecret();
        }
        subscription.UpdatedAt = now;
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(WebhookSubscriptionView.Of(subscription, withSecret: rotated));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Delete(Guid id, RosterDb db, TimeProvider clock, CancellationToken ct)
    {
        var now = ChangeLog.Micros(clock.GetUtcNow().UtcDateTime);
        var deleted = await db.WebhookSubscriptions.Where(s => s.Id == id && s.DeletedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.DeletedAt, now).SetProperty(x => x.UpdatedAt, now), ct);
        return deleted == 0 ? NoSuchSubscription() : TypedResults.NoContent();
    }

    public static async Task<Results<PagedOk<WebhookDeliveryView>, ProblemHttpResult>> Deliveries(
        Guid id, string? status, string? limit, string? after, RosterDb db, CancellationToken ct)
    {
        var (page, bad) = PageRequest.Parse("webhook-deliveries", limit, after, 1);
        if (bad is not null) return bad;
        long afterOrdinal = 0;
        if (page!.HasAfter && !long.TryParse(page.AfterText(0), NumberStyles.None, CultureInfo.InvariantCulture, out afterOrdinal))
            return Problems.Validation("after", "after is a cursor from this list's Link header (rel=\"next\"); this one is not.");
        if (status is not (null or "" or DeliveryStatus.Pending or DeliveryStatus.Sent or DeliveryStatus.Failed))
            return Problems.Validation("status", "status is pending, sent or failed.");
        if (!await db.WebhookSubscriptions.AnyAsync(s => s.Id == id && s.DeletedAt == null, ct)) return NoSuchSubscription();
        var rows = db.WebhookDeliveries.AsNoTracking().Where(d => d.SubscriptionId == id);
        if (!string.IsNullOrEmpty(status)) rows = rows.Where(d => d.Status == status);
        if (page.HasAfter) rows = rows.Where(d => d.Ordinal < afterOrdinal);
        var list = await rows.OrderByDescending(d => d.Ordinal).Take(page.Fetch).ToListAsync(ct);
        return page.Page(list.Select(WebhookDeliveryView.Of).ToList(), d => PageRequest.Key(d.Ordinal.ToString(CultureInfo.InvariantCulture)));
    }

    public static async Task<Results<Accepted<ReplayView>, ProblemHttpResult>> Replay(
        Guid id, ReplayRequest request, RosterDb db, TimeProvider clock, CancellationToken ct)
    {
        var subscription = await db.WebhookSubscriptions.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id && s.DeletedAt == null, ct);
        if (subscription is null) return NoSuchSubscription();
        var from = request.FromPosition!.Value;
        var pruned = await db.ChangeFeedCounters.AsNoTracking().Where(c => c.Name == FeedCounters.PrunedPosition).Select(c => c.Value).SingleAsync(ct);
        if (from <= pruned)
            return TypedResults.Problem(statusCode: StatusCodes.Status410Gone, title: "Gone.",
                detail: $"Changes before position {pruned + 1} are no longer kept; replay from there.",
                extensions: new Dictionary<string, object?> { ["code"] = ErrorCodes.CursorExpired, ["oldestAvailablePosition"] = pruned + 1 });

        var types = WebhookTypes.Read(subscription.Types);
        var now = ChangeLog.Micros(clock.GetUtcNow().UtcDateTime);
        var queued = 0;
        long? through = null;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // In pages, so a replay of a long history never holds it all in memory; all in one transaction, in position order.
        for (var cursor = from - 1; ;)
        {
            var batch = await db.Changes.AsNoTracking()
                .Where(c => c.Position != null && c.Position > cursor)
                .Where(c => subscription.OrganizationId == null || c.OrganizationId == subscription.OrganizationId)
                .OrderBy(c => c.Position).Take(1000)
                .Select(c => new { c.Id, c.OrganizationId, c.Type, Position = c.Position!.Value }).ToListAsync(ct);
            if (batch.Count == 0) break;
            var wanted = batch.Where(c => types.Count == 0 || types.Contains(c.Type))
                .Select(c => (subscription.Id, c.Id, c.OrganizationId, c.Position)).ToList();
            await WebhookFanOut.EnqueueAsync(db, wanted, replay: true, now, ct);
            await db.SaveChangesAsync(ct);
            db.ChangeTracker.Clear();
            queued += wanted.Count;
            cursor = batch[^1].Position;
            if (wanted.Count > 0) through = wanted[^1].Position;
        }
        await tx.CommitAsync(ct);
        return TypedResults.Accepted($"/api/admin/webhook-subscriptions/{id}/deliveries", new ReplayView(queued, from, through));
    }
}
