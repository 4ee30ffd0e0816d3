using System.Diagnostics;
using System.Net;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Roster.Infrastructure.Data;
using Roster.Tests.Support;
using Xunit.Abstractions;

namespace Roster.Tests.Reliability;

/// <summary>
/// A Roster host on a SQLite file it may lose for a while. Mode=ReadWrite, so a missing file fails to open instead of
/// being silently re-created empty; a 2-second busy timeout, so a locked database answers 503 promptly instead of
/// holding webhook deliveries for a minute.
/// </summary>
public sealed class SqliteFaultFixture : IAsyncLifetime
{
    public const int BusyTimeoutSeconds = 2;

    private StorageOptions _storage = null!;

    public ReliabilityHost Host { get; private set; } = null!;
    public StorageFaultInjector Injector { get; } = new(StorageProvider.Sqlite, probability: 0.2);
    public string DatabaseFile { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _storage = TestDatabases.CreateSqlite();
        var builder = new SqliteConnectionStringBuilder(_storage.ConnectionString) { Mode = SqliteOpenMode.ReadWrite, DefaultTimeout = BusyTimeoutSeconds };
        DatabaseFile = builder.DataSource;
        await File.WriteAllBytesAsync(DatabaseFile, []);
        _storage.ConnectionString = builder.ToString();
        Host = await new ReliabilityHost(_storage, services: s => s.ConfigureDbContext<RosterDb>(o => o.AddInterceptors(Injector))).StartAsync();
    }

    /// <summary>A connection of someone else's (another process, a backup tool, a CLI command) on the same file.</summary>
    public SqliteConnection OpenOutsider()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder(_storage.ConnectionString)
        {
            Pooling = false,
            DefaultTimeout = 60,
        }.ToString());
        connection.Open();
        return connection;
    }

    public Task DisposeAsync()
    {
        Host?.Dispose();
        if (_storage is not null) TestDatabases.Drop(_storage);
        return Task.CompletedTask;
    }
}

/// <summary>
/// The SQLite side of <see cref="PostgresFaultTests"/>: the database file locked by someone else, or gone, while webhooks
/// are arriving → 503 storage_unavailable (never 500, never a hang), nothing half-applied, and the re-deliveries
/// apply every event exactly once. SQLite's write lock is taken when a transaction begins, so no real fault can
/// interrupt one half-way; the injected I/O errors cover that.
/// </summary>
public sealed class SqliteFaultTests(SqliteFaultFixture fixture, ITestOutputHelper output) : IClassFixture<SqliteFaultFixture>
{
    private ReliabilityHost Host => fixture.Host;

    [Fact]
    public async Task ADatabaseLockedByAnotherWriterAnswers503AndReDeliveriesApplyExactlyOnce()
    {
        var stream = await WebhookStream.PrepareAsync(Host, roomyEvents: 40, tightOverflow: 7);
        var clock = Stopwatch.StartNew();
        TimeSpan locked = TimeSpan.MaxValue, unlocked = TimeSpan.MaxValue;
        var hold = TimeSpan.FromSeconds(SqliteFaultFixture.BusyTimeoutSeconds * 2.5);
        var lockHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var lockReleased = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        const int workers = 4, trigger = 10;
        var results = await WebhookStream.DeliverAsync(Host, stream.Events, workers, clock,
            completed: done =>
            {
                if (done != trigger) return;
                _ = Task.Run(async () =>
                {
                    try
                    {
                        // BEGIN IMMEDIATE takes the database's one write lock (after the service's current writer) and holds it.
                        using var outsider = fixture.OpenOutsider();
                        using (var begin = outsider.CreateCommand())
                        {
                            begin.CommandText = "BEGIN IMMEDIATE";
                            begin.ExecuteNonQuery();
                        }
                        locked = clock.Elapsed;
                        lockHeld.SetResult();
                        await Task.Delay(hold);
                        using var rollback = outsider.CreateCommand();
                        rollback.CommandText = "ROLLBACK";
                        rollback.ExecuteNonQuery();
                        unlocked = clock.Elapsed;
                        lockReleased.SetResult();
                    }
                    catch (Exception ex)
                    {
                        lockHeld.TrySetException(ex);
                        lockReleased.TrySetException(ex);
                    }
                });
            },
            // Once the lock is wanted, the next deliveries wait until it is held (SQLite's busy handling is not fair: a
            // steady stream of writers could keep the outsider waiting until the stream is over), then run into it.
            beforeSend: index => index >= trigger + workers ? lockHeld.Task : Task.CompletedTask);
        await lockReleased.Task;

        output.WriteLine($"stream: {WebhookStream.Summary(results)}; locked {locked.TotalMilliseconds:F0}–{unlocked.TotalMilliseconds:F0} ms");
        WebhookStream.AssertOnly200Or503(results, Host, "while the database was locked");
        // A delivery that lived entirely inside the locked window cannot have written anything: it must be a 503.
        var insideTheLock = results.Where(r => r.Started > locked && r.Finished < unlocked).ToList();
        Assert.True(insideTheLock.Count > 0, $"no delivery ran entirely inside the lock ({locked} – {unlocked})");
        Assert.All(insideTheLock, r => Assert.True(r.Unavailable, $"inside the lock: {r}"));
        Assert.Contains(results, r => r.Ok && r.Finished < locked);

        var (redelivered, _) = await stream.RedeliverUntilAcceptedAsync(Host, workers: 4, "re-delivery", output);
        await stream.AssertAppliedExactlyOnceAsync(Host, results, redelivered);
    }

    [Fact]
    public async Task ADatabaseFileGoneForAWhileAnswers503AndReDeliveriesApplyExactlyOnce()
    {
        var stream = await WebhookStream.PrepareAsync(Host, roomyEvents: 40, tightOverflow: 7);
        var health = Host.ClientFor(null);
        var away = fixture.DatabaseFile + ".away";
        var clock = Stopwatch.StartNew();
        TimeSpan gone = TimeSpan.MaxValue, back = TimeSpan.MaxValue;
        HttpResponseMessage? readyWhileGone = null;
        var restored = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var isGone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        const int workers = 4, trigger = 10, tail = 6;
        var results = await WebhookStream.DeliverAsync(Host, stream.Events, workers, clock,
            completed: done =>
            {
                if (done != trigger) return;
                _ = Task.Run(async () =>
                {
                    try
                    {
                        // The file is moved away (a volume unmounted, a careless operator): nothing can open it, and the
                        // pooled connections are let go. Its -wal and -shm stay, so moving it back restores it whole.
                        File.Move(fixture.DatabaseFile, away);
                        SqliteConnection.ClearAllPools();
                        gone = clock.Elapsed;
                        isGone.SetResult();
                        readyWhileGone = await health.GetAsync("/health/ready");
                        await Task.Delay(TimeSpan.FromSeconds(1.5));
                        File.Move(away, fixture.DatabaseFile);
                        back = clock.Elapsed;
                        restored.SetResult();
                    }
                    catch (Exception ex)
                    {
                        restored.SetException(ex);
                    }
                });
            },
            // Once the file is to go, the next deliveries wait until it is gone, and the last few until it is back, so
            // the stream certainly runs into the outage and goes on after it.
            beforeSend: index => index >= stream.Events.Count - tail ? restored.Task
                : index >= trigger + workers ? isGone.Task
                : Task.CompletedTask);
        await restored.Task;

        output.WriteLine($"stream: {WebhookStream.Summary(results)}; file gone {gone.TotalMilliseconds:F0}–{back.TotalMilliseconds:F0} ms");
        WebhookStream.AssertOnly200Or503(results, Host, "while the database file was gone");
        Assert.NotNull(readyWhileGone);
        await readyWhileGone.ShouldBeProblem(HttpStatusCode.ServiceUnavailable, "storage_unavailable");
        var whileGone = results.Where(r => r.Started > gone && r.Finished < back).ToList();
        Assert.True(whileGone.Count > 0, $"no delivery ran while the file was gone ({gone} – {back})");
        Assert.All(whileGone, r => Assert.True(r.Unavailable, $"while the file was gone: {r}"));
        Assert.Contains(results, r => r.Ok && r.Finished < gone);
        await (await health.GetAsync("/health/ready")).ShouldBe(HttpStatusCode.OK);

        var (redelivered, _) = await stream.RedeliverUntilAcceptedAsync(Host, workers: 4, "re-delivery", output);
        await stream.AssertAppliedExactlyOnceAsync(Host, results, redelivered);
    }

    [Fact]
    public Task AnIoErrorMidTransactionAnswers503AndLeavesNothingBehind() =>
        FaultScenarios.MidTransactionIoErrorsAsync(Host, fixture.Injector, output);
}
