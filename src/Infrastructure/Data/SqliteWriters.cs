using System.Collections.Concurrent;
using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.EntityFrameworkCore.Update;

namespace Roster.Infrastructure.Data;

/// <summary>
/// One SQLite writer at a time per database file in this process, queued fairly. SQLite lets one transaction write at a
/// time anyway (Microsoft.Data.Sqlite begins them IMMEDIATE, taking the write lock at BEGIN); without a queue every
/// waiting connection polls that lock with back-off sleeps, so under load writers thrash and a few wait for seconds
/// while others get through (bench/RESULTS.md, figure 1, SQLite). Here a write transaction first waits its turn on a
/// <see cref="SemaphoreSlim"/> (asynchronous waiters are served in arrival order), then begins; the turn passes on at
/// commit, rollback or disposal. Readers never take a turn: WAL lets them read beside the writer.
/// A turn is waited for no longer than the connection's busy timeout (<c>Default Timeout</c>), and a wait that runs
/// out fails as SQLite's own does (SQLITE_BUSY), so callers see the same "storage unavailable" either way.
/// </summary>
public sealed class SqliteWriters : DbTransactionInterceptor, IDbConnectionInterceptor
{
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Turns = new(StringComparer.Ordinal);

    /// <summary>The connection holding its database's turn, and the turn it holds.</summary>
    private static readonly ConditionalWeakTable<DbConnection, SemaphoreSlim> Holders = new();

    private static SemaphoreSlim TurnOf(SqliteConnection connection) =>
        Turns.GetOrAdd(Path.GetFullPath(connection.DataSource is { Length: > 0 } file ? file : connection.ConnectionString), _ => new SemaphoreSlim(1, 1));

    public override InterceptionResult<DbTransaction> TransactionStarting(DbConnection connection, TransactionStartingEventData eventData,
        InterceptionResult<DbTransaction> result)
    {
        if (connection is not SqliteConnection sqlite || Holders.TryGetValue(connection, out _)) return result;
        var turn = TurnOf(sqlite);
        if (!turn.Wait(TimeSpan.FromSeconds(sqlite.DefaultTimeout))) throw Busy();
        Holders.AddOrUpdate(connection, turn);
        return result;
    }

    public override async ValueTask<InterceptionResult<DbTransaction>> TransactionStartingAsync(DbConnection connection,
        TransactionStartingEventData eventData, InterceptionResult<DbTransaction> result, CancellationToken cancellationToken = default)
    {
        if (connection is not SqliteConnection sqlite || Holders.TryGetValue(connection, out _)) return result;
        var turn = TurnOf(sqlite);
        if (!await turn.WaitAsync(TimeSpan.FromSeconds(sqlite.DefaultTimeout), cancellationToken)) throw Busy();
        // From here the turn is held until the transaction ends (committed, rolled back or disposed) or, should BEGIN itself
        // fail, until the connection closes (at the latest when the request's context goes back to the pool).
        Holders.AddOrUpdate(connection, turn);
        return result;
    }

    /// <summary>Gives the connection's turn back, if it holds one (commit, rollback, disposal and close all call it; once counts).</summary>
    public static void Leave(DbConnection? connection)
    {
        if (connection is null) return;
        lock (Holders)
        {
            if (!Holders.TryGetValue(connection, out var turn)) return;
            Holders.Remove(connection);
            turn.Release();
        }
    }

    public override void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => Leave(ConnectionOf(eventData));

    public override Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Leave(ConnectionOf(eventData));
        return Task.CompletedTask;
    }

    public override void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => Leave(ConnectionOf(eventData));

    public override Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Leave(ConnectionOf(eventData));
        return Task.CompletedTask;
    }

    // The transaction has let go of its connection by now (SqliteTransaction.Connection is null once it ends).
    private static DbConnection? ConnectionOf(TransactionEventData eventData) => eventData.Context?.Database.GetDbConnection();

    public void ConnectionClosed(DbConnection connection, ConnectionEndEventData eventData) => Leave(connection);

    public Task ConnectionClosedAsync(DbConnection connection, ConnectionEndEventData eventData)
    {
        Leave(connection);
        return Task.CompletedTask;
    }

    private static SqliteException Busy() => new("database is locked: waited the busy timeout for this process's writer queue", 5);
}

/// <summary>Transactions that give the SQLite writer turn back when disposed without a commit or rollback (an early return).</summary>
public sealed class SqliteWriterTransactionFactory(RelationalTransactionFactoryDependencies dependencies) : RelationalTransactionFactory(dependencies)
{
    public override RelationalTransaction Create(IRelationalConnection connection, DbTransaction transaction, Guid transactionId,
        Microsoft.EntityFrameworkCore.Diagnostics.IDiagnosticsLogger<Microsoft.EntityFrameworkCore.DbLoggerCategory.Database.Transaction> logger,
        bool transactionOwned) =>
        new Transaction(connection, transaction, transactionId, logger, transactionOwned, Dependencies.SqlGenerationHelper);

    private sealed class Transaction(IRelationalConnection connection, DbTransaction transaction, Guid transactionId,
        Microsoft.EntityFrameworkCore.Diagnostics.IDiagnosticsLogger<Microsoft.EntityFrameworkCore.DbLoggerCategory.Database.Transaction> logger,
        bool transactionOwned, ISqlGenerationHelper sqlGenerationHelper)
        : RelationalTransaction(connection, transaction, transactionId, logger, transactionOwned, sqlGenerationHelper)
    {
        private readonly DbConnection _connection = connection.DbConnection;

        public override void Dispose()
        {
            base.Dispose();
            SqliteWriters.Leave(_connection);
        }

        public override async ValueTask DisposeAsync()
        {
            await base.DisposeAsync();
            SqliteWriters.Leave(_connection);
        }
    }
}

/// <summary>
/// SaveChanges as one command on SQLite too (EF Core's SQLite provider sends one command per row): the statements run
/// one after another inside the engine either way, but each command is a call through the provider with its own
/// preparation, and ingest writes several rows per event (bench/RESULTS.md, figure 1).
/// </summary>
public sealed class SqliteBatchFactory(ModificationCommandBatchFactoryDependencies dependencies) : IModificationCommandBatchFactory
{
    public ModificationCommandBatch Create() => new Batch(dependencies);

    private sealed class Batch(ModificationCommandBatchFactoryDependencies dependencies) : AffectedCountModificationCommandBatch(dependencies, maxBatchSize: 64);
}
