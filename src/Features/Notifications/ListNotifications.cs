using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Http;
using Roster.Infrastructure.Http.OpenApi;
using Roster.Infrastructure.Outbox;

namespace Roster.Features.Notifications;

public sealed record OutboxRowView(Guid Id, string Kind, [property: OneOf(typeof(OutboxStatuses))] string Status, int Attempts, string? LastError,
    DateTime CreatedAt, DateTime? SentAt)
{
    public static OutboxRowView Of(NotificationOutboxRow r) => new(r.Id, r.Kind,
        r.SentAt is not null ? OutboxStatuses.Sent : r.FailedAt is not null ? OutboxStatuses.Failed : OutboxStatuses.Pending,
        r.Attempts, r.LastError, r.CreatedAt, r.SentAt);
}

/// <summary>Where an outbox row is: still to send, sent, or given up on after its last try.</summary>
public static class OutboxStatuses
{
    public const string Pending = "pending";
    public const string Sent = "sent";
    public const string Failed = "failed";
}

/// <summary>What <c>POST /api/admin/notifications/retry-failed</c> did.</summary>
public sealed record RetryFailedView(int Requeued, int LeftMayHaveBeenDelivered);

public static class ListNotifications
{
    public const string NotificationNotFailed = "notification_not_failed";

    public static RouteGroupBuilder MapNotificationAdmin(this RouteGroupBuilder admin)
    {
        admin.MapGet("/notifications", List)
            .WithTags("Notifications")
            .WithParameterDoc("status", "Only rows in this state; all rows when left out.", values: new OneOfAttribute(typeof(OutboxStatuses)).Values)
            .WithName("ListNotifications")
            .WithSummary("List outbox rows")
            .WithDescription("Platform admins only. The newest 500 notification outbox rows (Slack notifications and WorkOS writes): " +
                             "pending (still to send), sent, or failed (gave up after the last try; no automatic retry after that, " +
                             "but see the retry operations), with the attempts made and the last error.");
        admin.MapPost("/notifications/{id:guid}/retry", Retry)
            .WithTags("Notifications")
            .Answers(StatusCodes.Status404NotFound, "no such notification", ErrorCodes.NotFound)
            .Answers(StatusCodes.Status409Conflict, "the notification is not failed (pending or sent)", NotificationNotFailed)
            .WithName("RetryNotification")
            .WithSummary("Send a failed notification again")
            .WithDescription("Platform admins only. Makes one failed outbox row pending again, due now, with its tries counted from " +
                             "zero (its last error stays until it is sent). This is how a row that may have been delivered (a " +
                             "timed-out chat.postMessage) is sent again, once someone has checked it did not arrive. 409 unless the row is failed.");
        admin.MapPost("/notifications/retry-failed", RetryFailed)
            .WithTags("Notifications")
            .WithName("RetryFailedNotifications")
            .WithSummary("Send every failed notification again")
            .WithDescription("Platform admins only. Makes every failed outbox row pending again, due now — except those that may " +
                             "already have been delivered, which need someone to check and then a retry of each. Answers how many were " +
                             "requeued and how many were left.");
        return admin;
    }

    /// <summary>Outbox rows, newest first: pending (still to send), sent, or failed (gave up after the last try); paged.</summary>
    public static async Task<Results<PagedOk<OutboxRowView>, ProblemHttpResult>> List(
        string? status, string? limit, string? after, RosterDb db, CancellationToken ct)
    {
        var (page, bad) = PageRequest.ByTimeAndId("notifications", limit, after);
        if (bad is not null) return bad;
        var rows = db.NotificationOutbox.AsNoTracking();
        switch (status)
        {
            case null or "": break;
            case OutboxStatuses.Pending: rows = rows.Where(r => r.SentAt == null && r.FailedAt == null); break;
            case OutboxStatuses.Sent: rows = rows.Where(r => r.SentAt != null); break;
            case OutboxStatuses.Failed: rows = Failed(rows); break;
            default: return Problems.Validation("status", "status is pending, sent or failed.");
        }
        if (page!.HasAfter)
        {
            var (at, id) = (page.AfterTime(0), page.AfterId(1));
            rows = rows.Where(r => r.CreatedAt < at || (r.CreatedAt == at && r.Id < id));
        }
        var list = await rows.OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id).Take(page.Fetch).ToListAsync(ct);
        return page.Page(list.Select(OutboxRowView.Of).ToList(), r => PageRequest.Key(r.CreatedAt, r.Id));
    }

    /// <summary>
    /// Sends one failed row again: pending, due now, its tries counted from zero (its last error stays until it is
    /// sent). This is how a row that may have been delivered (a timed-out chat.postMessage) is sent again, once
    /// someone has checked it did not arrive.
    /// </summary>
    public static async Task<Results<Ok<OutboxRowView>, ProblemHttpResult>> Retry(Guid id, RosterDb db, TimeProvider clock, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var requeued = await Failed(db.NotificationOutbox.Where(r => r.Id == id)).ExecuteUpdateAsync(s => s
            .SetProperty(r => r.FailedAt, (DateTime?)null)
            .SetProperty(r => r.Attempts, 0)
            .SetProperty(r => r.NextAttemptAt, now), ct);
        var row = await db.NotificationOutbox.AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, ct);
        if (row is null) return Problems.NotFound("No such notification.");
        if (requeued == 0)
            return Problems.Conflict(NotificationNotFailed, $"Only a failed notification can be retried; this one is {OutboxRowView.Of(row).Status}.");
        return TypedResults.Ok(OutboxRowView.Of(row));
    }

    /// <summary>
    /// Sends every failed row again, except those that may already have been delivered: those need someone to check,
    /// then <c>POST /api/admin/notifications/{id}/retry</c> each.
    /// </summary>
    public static async Task<Ok<RetryFailedView>> RetryFailed(RosterDb db, TimeProvider clock, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var requeued = await Failed(db.NotificationOutbox)
            .Where(r => r.LastError == null || !r.LastError.StartsWith(OutboxErrors.MayHaveBeenDeliveredPrefix))
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.FailedAt, (DateTime?)null)
                .SetProperty(r => r.Attempts, 0)
                .SetProperty(r => r.NextAttemptAt, now), ct);
        var left = await Failed(db.NotificationOutbox).CountAsync(ct);
        return TypedResults.Ok(new RetryFailedView(requeued, left));
    }

    private static IQueryable<NotificationOutboxRow> Failed(IQueryable<NotificationOutboxRow> rows) =>
        rows.Where(r => r.FailedAt != null && r.SentAt == null);
}
