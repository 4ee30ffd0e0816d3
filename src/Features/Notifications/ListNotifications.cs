using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Http;

namespace Roster.Features.Notifications;

public sealed record OutboxRowView(Guid Id, string Kind, string Status, int Attempts, string? LastError, DateTime CreatedAt, DateTime? SentAt);

public static class ListNotifications
{
    public static RouteGroupBuilder MapNotificationAdmin(this RouteGroupBuilder admin)
    {
        admin.MapGet("/notifications", List)
            .WithTags("Notifications")
            .ProducesValidationProblem()
            .WithName("ListNotifications");
        return admin;
    }

    /// <summary>Outbox rows, newest first: pending (still to send), sent, or failed (gave up after the last try).</summary>
    public static async Task<Results<Ok<List<OutboxRowView>>, ProblemHttpResult>> List(string? status, RosterDb db, CancellationToken ct)
    {
        var rows = db.NotificationOutbox.AsNoTracking();
        switch (status)
        {
            case null or "": break;
            case "pending": rows = rows.Where(r => r.SentAt == null && r.FailedAt == null); break;
            case "sent": rows = rows.Where(r => r.SentAt != null); break;
            case "failed": rows = rows.Where(r => r.FailedAt != null && r.SentAt == null); break;
            default: return Problems.Validation("status", "status is pending, sent or failed.");
        }
        var list = await rows.OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id).Take(500).ToListAsync(ct);
        return TypedResults.Ok(list.Select(r => new OutboxRowView(r.Id, r.Kind,
            r.SentAt is not null ? "sent" : r.FailedAt is not null ? "failed" : "pending",
            r.Attempts, r.LastError, r.CreatedAt, r.SentAt)).ToList());
    }
}
