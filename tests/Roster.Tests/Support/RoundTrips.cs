using System.Collections.Concurrent;
using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Roster.Infrastructure.Data;

namespace Roster.Tests.Support;

/// <summary>
/// Counts the database round trips each DbContext lease makes, with the statements, for tests that pin how many an
/// operation may cost (Webhooks/RoundTripTests). What counts as one round trip:
/// <list type="bullet">
/// <item>every command executed (reader, non-query, scalar) — once, however many statements it carries: EF Core's
/// SaveChanges batches its INSERT/UPDATEs into one command, and Npgsql sends a multi-statement command in one
/// round trip (on SQLite a command is one call into the in-process engine, statements and all);</item>
/// <item>COMMIT, ROLLBACK, RELEASE SAVEPOINT and ROLLBACK TO SAVEPOINT — each a round trip on both providers;</item>
/// <item>BEGIN and SAVEPOINT — a round trip on SQLite (Microsoft.Data.Sqlite executes them at once), none on
/// PostgreSQL: Npgsql writes them in front of the next command and sends them with it.</item>
/// </list>
/// Not counted: opening a pooled connection (Npgsql's reset, DISCARD ALL, also travels with the next command).
/// Commands are grouped by the DbContext lease that ran them (<see cref="DbContextId"/>), so background services of the
/// same host (outbox, sweeper) never mix into what a request did.
/// </summary>
public sealed class RoundTripCounter : IDbCommandInterceptor, IDbTransactionInterceptor
{
    private readonly ConcurrentDictionary<DbContextId, ConcurrentQueue<string>> _byLease = new();
    private volatile bool _recording;
    private bool _postgres;

    public void Start(bool postgres)
    {
        _postgres = postgres;
        _byLease.Clear();
        _recording = true;
    }

    /// <summary>Stops recording; the leases seen since <see cref="Start"/>, each with the round trips it made.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Stop()
    {
        _recording = false;
        return _byLease.Values.Select(q => (IReadOnlyList<string>)q.ToList()).ToList();
    }

    private void Add(DbContext? context, string what)
    {
        if (!_recording || context is null) return;
        _byLease.GetOrAdd(context.ContextId, _ => new ConcurrentQueue<string>()).Enqueue(what);
    }

    private static string Text(DbCommand command) => string.Join(' ', command.CommandText.Split((char[])['\r', '\n', '\t', ' '], StringSplitOptions.RemoveEmptyEntries));

    public InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
    {
        Add(eventData.Context, Text(command));
        return result;
    }

    public ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData,
        InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        Add(eventData.Context, Text(command));
        return ValueTask.FromResult(result);
    }

    public InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result)
    {
        Add(eventData.Context, Text(command));
        return result;
    }

    public ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<int> result,
        CancellationToken cancellationToken = default)
    {
        Add(eventData.Context, Text(command));
        return ValueTask.FromResult(result);
    }

    public InterceptionResult<object> ScalarExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<object> result)
    {
        Add(eventData.Context, Text(command));
        return result;
    }

    public ValueTask<InterceptionResult<object>> ScalarExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<object> result,
        CancellationToken cancellationToken = default)
    {
        Add(eventData.Context, Text(command));
        return ValueTask.FromResult(result);
    }

    private void Begin(DbContext? context)
    {
        if (!_postgres) Add(context, "BEGIN");
    }

    public InterceptionResult<DbTransaction> TransactionStarting(DbConnection connection, TransactionStartingEventData eventData, InterceptionResult<DbTransaction> result)
    {
        Begin(eventData.Context);
        return result;
    }

    public ValueTask<InterceptionResult<DbTransaction>> TransactionStartingAsync(DbConnection connection, TransactionStartingEventData eventData,
        InterceptionResult<DbTransaction> result, CancellationToken cancellationToken = default)
    {
        Begin(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public InterceptionResult TransactionCommitting(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result)
    {
        Add(eventData.Context, "COMMIT");
        return result;
    }

    public ValueTask<InterceptionResult> TransactionCommittingAsync(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result,
        CancellationToken cancellationToken = default)
    {
        Add(eventData.Context, "COMMIT");
        return ValueTask.FromResult(result);
    }

    public InterceptionResult TransactionRollingBack(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result)
    {
        Add(eventData.Context, "ROLLBACK");
        return result;
    }

    public ValueTask<InterceptionResult> TransactionRollingBackAsync(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result,
        CancellationToken cancellationToken = default)
    {
        Add(eventData.Context, "ROLLBACK");
        return ValueTask.FromResult(result);
    }

    public InterceptionResult CreatingSavepoint(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result)
    {
        if (!_postgres) Add(eventData.Context, "SAVEPOINT");
        return result;
    }

    public ValueTask<InterceptionResult> CreatingSavepointAsync(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result,
        CancellationToken cancellationToken = default)
    {
        if (!_postgres) Add(eventData.Context, "SAVEPOINT");
        return ValueTask.FromResult(result);
    }

    public InterceptionResult ReleasingSavepoint(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result)
    {
        Add(eventData.Context, "RELEASE SAVEPOINT");
        return result;
    }

    public ValueTask<InterceptionResult> ReleasingSavepointAsync(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result,
        CancellationToken cancellationToken = default)
    {
        Add(eventData.Context, "RELEASE SAVEPOINT");
        return ValueTask.FromResult(result);
    }

    public InterceptionResult RollingBackToSavepoint(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result)
    {
        Add(eventData.Context, "ROLLBACK TO SAVEPOINT");
        return result;
    }

    public ValueTask<InterceptionResult> RollingBackToSavepointAsync(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result,
        CancellationToken cancellationToken = default)
    {
        Add(eventData.Context, "ROLLBACK TO SAVEPOINT");
        return ValueTask.FromResult(result);
    }
}

/// <summary>A host whose every DbContext reports to one <see cref="RoundTripCounter"/>.</summary>
public abstract class RoundTripApp(StorageProvider provider) : RosterApp(provider)
{
    public RoundTripCounter Counter { get; } = new();

    protected override void ConfigureServices(IServiceCollection services) =>
        services.ConfigureDbContext<RosterDb>(options => options.AddInterceptors(Counter));

    /// <summary>
    /// Runs one request while counting, and returns the round trips of its own DbContext lease: the one lease
    /// <paramref name="isTheRequests"/> picks out (a background service's lease never matches it).
    /// </summary>
    public async Task<IReadOnlyList<string>> CountedAsync(Func<Task> request, Func<IReadOnlyList<string>, bool> isTheRequests)
    {
        Counter.Start(Provider == StorageProvider.Postgres);
        IReadOnlyList<IReadOnlyList<string>> leases;
        try
        {
            await request();
        }
        finally
        {
            leases = Counter.Stop();
        }
        return Assert.Single(leases, lease => isTheRequests(lease));
    }

    /// <summary>Asserts at most <paramref name="limit"/> round trips, listing them (in the output too) either way.</summary>
    public static void AtMost(Xunit.Abstractions.ITestOutputHelper output, int limit, IReadOnlyList<string> roundTrips, string what)
    {
        var seen = $"{what}: {roundTrips.Count} round trips (at most {limit}):\n" + string.Join('\n', roundTrips.Select((s, i) => $"{i + 1,3}. {s}"));
        output.WriteLine(seen);
        Assert.True(roundTrips.Count <= limit, seen);
    }
}

public sealed class SqliteRoundTripApp() : RoundTripApp(StorageProvider.Sqlite);

public sealed class PostgresRoundTripApp() : RoundTripApp(StorageProvider.Postgres);
