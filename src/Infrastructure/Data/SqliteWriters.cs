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
/// A write outside a transaction (an <c>ExecuteUpdate</c>, a claim statement of a background dispatcher) is a transaction
/// of its own to SQLite, so it takes a turn too, for the one command: otherwise it polls SQLite's lock beside the queue,
/// and whenever it wins, the writer whose turn it is sleeps in SQLite's busy handler (up to 100 ms a time) while holding
/// the turn everyone else waits for (seen in bench/ as a 1.4 s mean for a dispatcher's claim and a 6 ms mean turn).
/// A turn is waited for no longer than the connection's busy timeout (<c>Default Timeout</c>), and a wait that runs
/// out fails as SQLite's own does (SQLITE_BUSY), so callers see the same "storage unavailable" either way.
/// </summary>
public sealed class SqliteWriters : DbTransactionInterceptor, IDbConnectionInterceptor, IDbCommandInterceptor
{
    /// <summary>One database file's writer turn, and how many of this process's writers wait for it.</summary>
    private sealed class Turn
    {
        public readonly SemaphoreSlim Gate = new(1, 1);
        public int Waiting;
    }

    private static readonly ConcurrentDictionary<string, Turn> Turns = new(StringComparer.Ordinal);

    /// <summary>Writers of this process waiting for a turn on this database file right now; for tests that order waiters.</summary>
    public static int WaitingOn(string databaseFile) =>
        Turns.TryGetValue(Path.GetFullPath(databaseFile), out var turn) ? Volatile.Read(ref turn.Waiting) : 0;

    /// <summary>The connection holding its database's turn, and the turn it holds.</summary>
    private static readonly ConditionalWeakTable<DbConnection, Turn> Holders = new();

    private static Turn TurnOf(SqliteConnection connection) =>
        Turns.GetOrAdd(Path.GetFullPath(connection.DataSource is { Length: > 0 } file ? file : connection.ConnectionString), _ => new Turn());

    public override InterceptionResult<DbTransaction> TransactionStarting(DbConnection connection, TransactionStartingEventData eventData,
        InterceptionResult<DbTransaction> result)
    {
        Take(connection);
        return result;
    }

    public override async ValueTask<InterceptionResult<DbTransaction>> TransactionStartingAsync(DbConnection connection,
        TransactionStartingEventData eventData, InterceptionResult<DbTransaction> result, CancellationToken cancellationToken = default)
    {
        // From here the turn is held until the transaction ends (committed, rolled back or disposed) or, should BEGIN itself
        // fail, until the connection closes (at the latest when the request's context goes back to the pool).
        await TakeAsync(connection, cancellationToken);
        return result;
    }

    private static void Take(DbConnection connection)
    {
        if (connection is not SqliteConnection sqlite || Holders.TryGetValue(connection, out _)) return;
        var turn = TurnOf(sqlite);
        Interlocked.Increment(ref turn.Waiting);
        try
        {
            if (!turn.Gate.Wait(TimeSpan.FromSeconds(sqlite.DefaultTimeout))) throw Busy();
        }
        finally
        {
            Interlocked.Decrement(ref turn.Waiting);
        }
        Holders.AddOrUpdate(connection, turn);
    }

    private static async ValueTask TakeAsync(DbConnection connection, CancellationToken ct)
    {
        if (connection is not SqliteConnection sqlite || Holders.TryGetValue(connection, out _)) return;
        var turn = TurnOf(sqlite);
        Interlocked.Increment(ref turn.Waiting);
        try
        {
            if (!await turn.Gate.WaitAsync(TimeSpan.FromSeconds(sqlite.DefaultTimeout), ct)) throw Busy();
        }
        finally
        {
            Interlocked.Decrement(ref turn.Waiting);
        }
        Holders.AddOrUpdate(connection, turn);
    }

    /// <summary>A command that may write and runs in no transaction: SQLite wraps it in one of its own.</summary>
    private static bool WritesAlone(DbCommand command) =>
        command.Transaction is null && command.Connection is SqliteConnection && !command.CommandText.AsSpan().TrimStart().StartsWith("SELECT", StringComparison.OrdinalIgnoreCase);

    // A lone write takes its turn before it runs and gives it back when it is done: at once for a non-query or a scalar,
    // when its reader closes for a statement that returns rows (SQLite ends its implicit transaction then).
    public InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
    {
        if (WritesAlone(command)) Take(command.Connection!);
        return result;
    }

    public async ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData,
        InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        if (WritesAlone(command)) await TakeAsync(command.Connection!, cancellationToken);
        return result;
    }

    public InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result)
    {
        if (WritesAlone(command)) Take(command.Connection!);
        return result;
    }

    public async ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData,
        InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        if (WritesAlone(command)) await TakeAsync(command.Connection!, cancellationToken);
        return result;
    }

    public InterceptionResult<object> ScalarExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<object> result)
    {
        if (WritesAlone(command)) Take(command.Connection!);
        return result;
    }

    public async ValueTask<InterceptionResult<object>> ScalarExecutingAsync(DbCommand command, CommandEventData eventData,
        InterceptionResult<object> result, CancellationToken cancellationToken = default)
    {
        if (WritesAlone(command)) await TakeAsync(command.Connection!, cancellationToken);
        return result;
    }

    public int NonQueryExecuted(DbCommand command, CommandExecutedEventData eventData, int result)
    {
        LeaveAlone(command);
        return result;
    }

    public ValueTask<int> NonQueryExecutedAsync(DbCommand command, CommandExecutedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        LeaveAlone(command);
        return ValueTask.FromResult(result);
    }

    public object? ScalarExecuted(DbCommand command, CommandExecutedEventData eventData, object? result)
    {
        LeaveAlone(command);
        return result;
    }

    public ValueTask<object?> ScalarExecutedAsync(DbCommand command, CommandExecutedEventData eventData, object? result, CancellationToken cancellationToken = default)
    {
        LeaveAlone(command);
        return ValueTask.FromResult(result);
    }

    public InterceptionResult DataReaderClosing(DbCommand command, DataReaderClosingEventData eventData, InterceptionResult result)
    {
        LeaveAlone(command);
        return result;
    }

    public ValueTask<InterceptionResult> DataReaderClosingAsync(DbCommand command, DataReaderClosingEventData eventData, InterceptionResult result)
    {
        LeaveAlone(command);
        return ValueTask.FromResult(result);
    }

    public InterceptionResult DataReaderDisposing(DbCommand command, DataReaderDisposingEventData eventData, InterceptionResult result)
    {
        LeaveAlone(command);
        return result;
    }

    public void CommandFailed(DbCommand command, CommandErrorEventData eventData) => LeaveAlone(command);

    public Task CommandFailedAsync(DbCommand command, CommandErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        LeaveAlone(command);
        return Task.CompletedTask;
    }

    public void CommandCanceled(DbCommand command, CommandEndEventData eventData) => LeaveAlone(command);

    public Task CommandCanceledAsync(DbCommand command, CommandEndEventData eventData, CancellationToken cancellationToken = default)
    {
        LeaveAlone(command);
        return Task.CompletedTask;
    }

    // Only a command that ran in no transaction gave its turn for itself; inside one, the transaction's end gives it back.
    private static void LeaveAlone(DbCommand command)
    {
        if (command.Transaction is null && command.Connection is { } connection && connection is SqliteConnection) Leave(connection);
    }

    /// <summary>Gives the connection's turn back, if it holds one (commit, rollback, disposal and close all call it; once counts).</summary>
    public static void Leave(DbConnection? connection)
    {
        if (connection is null) return;
        lock (Holders)
        {
            if (!Holders.TryGetValue(connection, out var turn)) return;
            Holders.Remove(connection);
            turn.Gate.Release();
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
