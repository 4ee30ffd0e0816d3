using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Http;

namespace Roster.Infrastructure.Outbox;

/// <summary>
/// The notifier is degraded while a pending row waits on a paused sender (its last error says so, see
/// <see cref="OutboxErrors.PausedPrefix"/>). Read from the database, so every instance reports the same.
/// </summary>
public sealed class NotifierHealth(RosterDb db) : IDegradationCheck
{
    public string Name => "notifier";

    public Task<string?> DegradedBecauseAsync(CancellationToken ct) =>
        db.NotificationOutbox.AsNoTracking()
            .Where(r => r.SentAt == null && r.FailedAt == null && r.LastError != null && r.LastError.StartsWith(OutboxErrors.PausedPrefix))
            .OrderByDescending(r => r.NextAttemptAt)
            .Select(r => r.LastError)
            .FirstOrDefaultAsync(ct);
}
