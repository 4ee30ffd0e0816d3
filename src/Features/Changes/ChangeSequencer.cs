using Roster.Infrastructure.Changes;
using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;

namespace Roster.Features.Changes;

/// <summary>
/// Gives committed changes their global position. A position is handed out only to rows the sequencer sees committed,
/// under the lock of the position counter (one sequencer at a time across instances), so positions appear in the order
/// they are handed out: a consumer that reads after position p never misses a row that later gets a smaller one.
/// Within an organization positions follow the sequence (an organization's rows are committed in sequence order, under
/// its row lock, so the sequencer never sees n+1 without n). In the same transaction every new position fans out to
/// the webhook subscriptions that want it (<see cref="IChangeFanOut"/>). It also drops changes past the retention.
/// </summary>
public sealed class ChangeSequencer(IServiceScopeFactory scopes, ChangesOptions options, TimeProvider clock, ILogger<ChangeSequencer> log)
    : BackgroundService
{
    public const int BatchSize = 500;

    /// <summary>Places every committed change that has no position yet; returns how many it placed.</summary>
    public async Task<int> SequenceAsync(CancellationToken ct)
    {
        var total = 0;
        for (var round = 0; round < 100; round++)
        {
            var placed = await SequenceBatchAsync(ct);
            total += placed;
            if (placed < BatchSize) break;
        }
        return total;
    }

    private async Task<int> SequenceBatchAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RosterDb>();
        // Cheap look first (no lock): most rounds find nothing.
        if (!await db.Changes.AnyAsync(c => c.Position == null, ct)) return 0;

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var last = (await db.Database.SqlQuery<long>(
            $"UPDATE change_feed_counters SET value = value WHERE name = {FeedCounters.Position} RETURNING value AS \"Value\"").ToListAsync(ct)).Single();
        // Each organization's unplaced rows in sequence order; a batch cut at the limit still holds a prefix of each. Only
        // what placing and fanning out need, untracked: the positions are written by one statement below.
        var rows = await db.Changes.AsNoTracking().Where(c => c.Position == null)
            .OrderBy(c => c.OrganizationId).ThenBy(c => c.Sequence).Take(BatchSize)
            .Select(c => new ChangeRow { Id = c.Id, OrganizationId = c.OrganizationId, Sequence = c.Sequence, At = c.At, Type = c.Type })
            .ToListAsync(ct);
        if (rows.Count == 0) return 0;

        // Interleave organizations by time, each kept in its own sequence order.
        var lines = rows.GroupBy(r => r.OrganizationId).Select(g => new Queue<ChangeRow>(g)).ToList();
        var placed = new List<ChangeRow>(rows.Count);
        var first = last + 1;
        while (lines.Count > 0)
        {
            var next = lines.MinBy(l => (l.Peek().At, l.Peek().OrganizationId))!;
            var row = next.Dequeue();
            row.Position = ++last;
            placed.Add(row);
            if (next.Count == 0) lines.Remove(next);
        }
        // One statement for the whole batch (not an UPDATE per row): the placed ids in position order, each row taking
        // the first position plus its index in that list.
        await PlaceAsync(db, first, placed.Select(r => r.Id).ToArray(), ct);
        await db.ChangeFeedCounters.Where(c => c.Name == FeedCounters.Position).ExecuteUpdateAsync(s => s.SetProperty(c => c.Value, last), ct);
        foreach (var fanOut in scope.ServiceProvider.GetServices<IChangeFanOut>())
            await fanOut.PlacedAsync(db, placed, ct);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return placed.Count;
    }

    private static Task<int> PlaceAsync(RosterDb db, long first, Guid[] ids, CancellationToken ct)
    {
        if (db.Database.IsNpgsql())
            return db.Database.ExecuteSqlAsync(
                $"UPDATE changes AS c SET position = {first} + v.ordinal - 1 FROM unnest({ids}) WITH ORDINALITY AS v(id, ordinal) WHERE c.id = v.id AND c.position IS NULL", ct);
        // SQLite has no arrays: a JSON array of the ids (as EF Core stores them, uppercase text); json_each's key is the index.
        var json = System.Text.Json.JsonSerializer.Serialize(ids.Select(i => i.ToString().ToUpperInvariant()));
        return db.Database.ExecuteSqlAsync(
            $"UPDATE changes SET position = {first} + (SELECT j.key FROM json_each({json}) AS j WHERE j.value = changes.id) WHERE id IN (SELECT value FROM json_each({json})) AND position IS NULL", ct);
    }

    /// <summary>Deletes the placed changes older than the retention (a prefix of positions); returns how many.</summary>
    public async Task<int> PruneAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RosterDb>();
        var cutoff = clock.GetUtcNow().UtcDateTime.AddDays(-options.RetentionDays);
        var through = await db.Changes.Where(c => c.Position != null && c.At < cutoff).MaxAsync(c => c.Position, ct);
        if (through is null) return 0;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.ChangeFeedCounters.Where(c => c.Name == FeedCounters.PrunedPosition && c.Value < through)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.Value, through.Value), ct);
        var deleted = await db.Changes.Where(c => c.Position != null && c.Position <= through).ExecuteDeleteAsync(ct);
        await tx.CommitAsync(ct);
        if (deleted > 0) log.LogInformation("Dropped {Count} changes older than {Days} days (through position {Position})", deleted, options.RetentionDays, through);
        return deleted;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromMilliseconds(options.SequencerIntervalMilliseconds);
        var lastPrune = DateTime.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SequenceAsync(stoppingToken);
                if (clock.GetUtcNow().UtcDateTime - lastPrune > TimeSpan.FromMinutes(1))
                {
                    await PruneAsync(stoppingToken);
                    lastPrune = clock.GetUtcNow().UtcDateTime;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // Typically the database being away, or another instance's sequencer in the way; the next round catches up.
                log.LogWarning(ex, "The change sequencer failed; trying again in {Interval}", interval);
            }
            try
            {
                // Woken by a commit that staged changes: give it a moment to commit, then look.
                if (await ChangeCommitSignal.WaitAsync(interval, stoppingToken)) await Task.Delay(20, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }
}

