using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Roster.Features.Changes;
using Roster.Infrastructure.Changes;
using Roster.Infrastructure.Data;

namespace Roster.Features.WebhookSubscriptions;

/// <summary>
/// Turns newly placed changes into deliveries, in the sequencer's transaction (so a change is queued for every
/// subscription that wants it exactly when it gets its position, and never twice). Disabled subscriptions still get
/// them queued: re-enabled, they resume where they stopped.
/// </summary>
public sealed class WebhookFanOut(TimeProvider clock) : IChangeFanOut
{
    public async Task PlacedAsync(RosterDb db, IReadOnlyList<ChangeRow> placed, CancellationToken ct)
    {
        var subscriptions = await db.WebhookSubscriptions.AsNoTracking().Where(s => s.DeletedAt == null).ToListAsync(ct);
        if (subscriptions.Count == 0) return;
        var wanted = subscriptions.Select(s => (s.Id, s.OrganizationId, Types: WebhookTypes.Read(s.Types))).ToList();
        var matches = (from change in placed.OrderBy(c => c.Position)
                       from s in wanted
                       where (s.OrganizationId is null || s.OrganizationId == change.OrganizationId) && (s.Types.Count == 0 || s.Types.Contains(change.Type))
                       select (Subscription: s.Id, Change: change)).ToList();
        if (matches.Count == 0) return;
        await EnqueueAsync(db, matches.Select(m => (m.Subscription, m.Change.Id, m.Change.OrganizationId, m.Change.Position!.Value)).ToList(),
            replay: false, clock.GetUtcNow().UtcDateTime, ct);
    }

    /// <summary>
    /// Appends deliveries in the given order. Ordinals come from one counter moved under its row lock and held to the
    /// commit, so each line's ordinals are in commit order: a dispatcher never sees a later one before an earlier one.
    /// </summary>
    public static async Task EnqueueAsync(RosterDb db, IReadOnlyList<(Guid Subscription, Guid Change, Guid Organization, long Position)> items,
        bool replay, DateTime now, CancellationToken ct)
    {
        if (items.Count == 0) return;
        var last = (await db.Database.SqlQuery<long>(
                $"UPDATE change_feed_counters SET value = value + {(long)items.Count} WHERE name = {FeedCounters.Delivery} RETURNING value AS \"Value\"")
            .ToListAsync(ct)).Single();
        var ordinal = last - items.Count;
        foreach (var item in items)
        {
            db.WebhookDeliveries.Add(new WebhookDelivery
            {
                Id = Guid.CreateVersion7(),
                SubscriptionId = item.Subscription,
                ChangeId = item.Change,
                OrganizationId = item.Organization,
                Position = item.Position,
                Ordinal = ++ordinal,
                Replay = replay,
                Status = DeliveryStatus.Pending,
                NextAttemptAt = now,
                CreatedAt = now,
            });
        }
    }
}

public static class WebhookTypes
{
    public static IReadOnlySet<string> Read(string json) =>
        new HashSet<string>(JsonSerializer.Deserialize<string[]>(json) ?? [], StringComparer.Ordinal);

    public static string Write(IEnumerable<string> types) => JsonSerializer.Serialize(types.Distinct(StringComparer.Ordinal).ToArray());
}
