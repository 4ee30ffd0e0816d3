using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Npgsql;
using Roster.Infrastructure.Data;

namespace Roster.Tests.Reliability;

/// <summary>
/// While armed, fails statements the way a dying disk or a dropped connection does — the provider's own exception
/// (SQLITE_IOERR; an NpgsqlException over an IOException) — in the middle of a transaction: on a write after the
/// transaction's first one (the webhook's event record), or on the commit itself. Each request fails at most once
/// (the exception ends it), so every injected fault is one request that must answer 503 and leave nothing behind.
/// </summary>
public sealed class StorageFaultInjector(StorageProvider provider, double probability) : DbCommandInterceptor, IDbTransactionInterceptor
{
    private volatile bool _armed;
    private int _injected;

    public int Injected => Volatile.Read(ref _injected);

    public void Arm() => _armed = true;

    public void Disarm() => _armed = false;

    private bool ShouldFail(DbCommand command)
    {
        if (!_armed || command.Transaction is null) return false;
        var sql = command.CommandText.TrimStart();
        var isWrite = sql.StartsWith("INSERT", StringComparison.OrdinalIgnoreCase)
                      || sql.StartsWith("UPDATE", StringComparison.OrdinalIgnoreCase)
                      || sql.StartsWith("DELETE", StringComparison.OrdinalIgnoreCase);
        // The event record is the first write: failing later is what "half-applied" would come from.
        var isEventRecord = sql.StartsWith("INSERT INTO \"webhook_events\"", StringComparison.Ordinal);
        return isWrite && !isEventRecord && Random.Shared.NextDouble() < probability;
    }

    private Exception Fault()
    {
        Interlocked.Increment(ref _injected);
        return provider == StorageProvider.Sqlite
            ? new SqliteException("SQLite Error 10: 'disk I/O error' (injected by the reliability tests).", 10, 10)
            : new NpgsqlException("Exception while writing to stream (injected by the reliability tests)",
                new IOException("Broken pipe (injected by the reliability tests)"));
    }

    private void MaybeFail(DbCommand command)
    {
        if (ShouldFail(command)) throw Fault();
    }

    public override InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
    {
        MaybeFail(command);
        return result;
    }

    public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData,
        InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        MaybeFail(command);
        return ValueTask.FromResult(result);
    }

    public override InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result)
    {
        MaybeFail(command);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData,
        InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        MaybeFail(command);
        return ValueTask.FromResult(result);
    }

    public override InterceptionResult<object> ScalarExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<object> result)
    {
        MaybeFail(command);
        return result;
    }

    public override ValueTask<InterceptionResult<object>> ScalarExecutingAsync(DbCommand command, CommandEventData eventData,
        InterceptionResult<object> result, CancellationToken cancellationToken = default)
    {
        MaybeFail(command);
        return ValueTask.FromResult(result);
    }

    public InterceptionResult TransactionCommitting(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result)
    {
        if (_armed && Random.Shared.NextDouble() < probability) throw Fault();
        return result;
    }

    public ValueTask<InterceptionResult> TransactionCommittingAsync(DbTransaction transaction, TransactionEventData eventData,
        InterceptionResult result, CancellationToken cancellationToken = default)
    {
        if (_armed && Random.Shared.NextDouble() < probability) throw Fault();
        return ValueTask.FromResult(result);
    }
}
