using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Roster.Infrastructure.Data;

namespace Roster.Infrastructure.Changes;

/// <summary>Wakes the change sequencer (Features/Changes) when a transaction that saved changes commits, so the feed and webhooks follow at once.</summary>
public sealed class ChangeCommitSignal : DbTransactionInterceptor
{
    public static readonly ChangeCommitSignal Instance = new();

    public override Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Committed(eventData);
        return Task.CompletedTask;
    }

    public override void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => Committed(eventData);

    public override Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        if (eventData.Context is RosterDb db) db.ChangesAwaitCommit = false;
        return Task.CompletedTask;
    }

    private static void Committed(TransactionEndEventData eventData)
    {
        if (eventData.Context is not RosterDb { ChangesAwaitCommit: true } db) return;
        db.ChangesAwaitCommit = false;
        Nudge();
    }

    private static readonly SemaphoreSlim Signal = new(0, 1);

    /// <summary>A commit made changes: the sequencer looks soon instead of at its next interval (any host in this process).</summary>
    public static void Nudge()
    {
        if (Signal.CurrentCount == 0)
        {
            try { Signal.Release(); }
            catch (SemaphoreFullException) { }
        }
    }

    /// <summary>Waits for a nudge, at most <paramref name="timeout"/>; true when nudged.</summary>
    public static Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => Signal.WaitAsync(timeout, ct);
}
