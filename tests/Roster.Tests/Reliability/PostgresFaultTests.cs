using System.Diagnostics;
using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Roster.Infrastructure.Data;
using Roster.Tests.Support;
using Xunit.Abstractions;

namespace Roster.Tests.Reliability;

/// <summary>A Roster host on a PostgreSQL cluster of its own, which the tests may kill and bring back.</summary>
public sealed class PostgresFaultFixture : IAsyncLifetime
{
    public PrivatePostgres Cluster { get; private set; } = null!;
    public ReliabilityHost Host { get; private set; } = null!;
    public StorageFaultInjector Injector { get; } = new(StorageProvider.Postgres, probability: 0.2);

    public async Task InitializeAsync()
    {
        Cluster = await Task.Run(() =>
        {
            var cluster = PrivatePostgres.Create();
            cluster.Start();
            return cluster;
        });
        var database = $"roster_fault_{Guid.NewGuid():N}";
        Cluster.CreateDatabase(database);
        var storage = new StorageOptions { Provider = StorageProvider.Postgres, ConnectionString = Cluster.ConnectionString(database) };
        Host = await new ReliabilityHost(storage, services: s => s.ConfigureDbContext<RosterDb>(o => o.AddInterceptors(Injector))).StartAsync();
    }

    public Task DisposeAsync()
    {
        Host?.Dispose();
        Cluster?.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>
/// PostgreSQL stopped abruptly (<c>pg_ctl stop -m immediate</c>) while webhooks are arriving: what is in flight and what
/// comes after answers 503 storage_unavailable (WorkOS retries), never 500 and never a hang; what was answered 200
/// survives the crash; after the restart the service recovers by itself and the re-deliveries apply every event
/// exactly once, with nothing half-applied. PostgreSQL-only by nature; <see cref="SqliteFaultTests"/> is the SQLite side.
/// </summary>
public sealed class PostgresFaultTests(PostgresFaultFixture fixture, ITestOutputHelper output) : IClassFixture<PostgresFaultFixture>
{
    private ReliabilityHost Host => fixture.Host;

    [Fact]
    public async Task PostgresKilledMidStreamAnswers503ThenRecoversAndReDeliveriesApplyExactlyOnce()
    {
        var stream = await WebhookStream.PrepareAsync(Host, roomyEvents: 60, tightOverflow: 7);
        var events = stream.Events;
        var health = Host.ClientFor(null);
        await (await health.GetAsync("/health/ready")).ShouldBe(HttpStatusCode.OK);

        // A busy service: its pool holds many open connections when the server dies. Those not in use at that moment
        // stay in the pool, broken; after the restart none of them may be handed to a request.
        const int pooled = 30;
        var dataSource = Host.Services.GetRequiredService<NpgsqlDataSource>();
        var warm = await Task.WhenAll(Enumerable.Range(0, pooled).Select(_ => dataSource.OpenConnectionAsync().AsTask()));
        foreach (var connection in warm) await connection.DisposeAsync();
        var open = await CountServerConnectionsAsync();
        Assert.True(open >= pooled, $"only {open} connections were open before the crash");

        // A third of the stream in, the server dies. The deliveries then in flight die with it; a few more are held
        // back until it is down for sure, so they certainly arrive at a dead database. The rest of the stream is left
        // to WorkOS's retries (below), so that broken connections are still in the pool when the server comes back.
        const int workers = 8, tail = 6;
        var trigger = events.Count / 3;
        var firstDeliveries = events.Take(trigger + workers + tail).ToList();
        var clock = Stopwatch.StartNew();
        TimeSpan stopBegan = TimeSpan.MaxValue, stopEnded = TimeSpan.MaxValue;
        var down = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var results = await WebhookStream.DeliverAsync(Host, firstDeliveries, workers, clock,
            completed: done =>
            {
                if (done != trigger) return;
                _ = Task.Run(() =>
                {
                    try
                    {
                        stopBegan = clock.Elapsed;
                        fixture.Cluster.StopImmediately();
                        stopEnded = clock.Elapsed;
                        down.SetResult();
                    }
                    catch (Exception ex)
                    {
                        down.SetException(ex);
                    }
                });
            },
            beforeSend: index => index >= trigger + workers ? down.Task : Task.CompletedTask);
        await down.Task;

        output.WriteLine($"stream: {WebhookStream.Summary(results)}; server stopped {stopBegan.TotalMilliseconds:F0}–{stopEnded.TotalMilliseconds:F0} ms");
        try
        {
            WebhookStream.AssertOnly200Or503(results, Host, "while PostgreSQL died");
            var before = results.Where(r => r.Finished < stopBegan).ToList();
            var after = results.Where(r => r.Started > stopEnded).ToList();
            Assert.True(before.Count >= trigger, $"only {before.Count} deliveries finished before the stop");
            Assert.All(before, r => Assert.True(r.Ok, $"before the stop: {r}"));
            Assert.True(after.Count == tail, $"only {after.Count} deliveries arrived after the server was down");
            Assert.All(after, r => Assert.True(r.Unavailable, $"after the stop: {r}"));

            // Down: not ready, and the API says so too.
            await (await health.GetAsync("/health/ready")).ShouldBeProblem(HttpStatusCode.ServiceUnavailable, "storage_unavailable");
            await (await Host.ClientFor(RosterApp.NewUser()).GetAsync("/api/membership-requests/mine"))
                .ShouldBeProblem(HttpStatusCode.ServiceUnavailable, "storage_unavailable");
            await (await health.GetAsync("/health/live")).ShouldBe(HttpStatusCode.OK);
        }
        finally
        {
            // Whatever was asserted above, the cluster comes back (crash recovery), so the rest of the fixture works.
            await Task.Run(fixture.Cluster.Start);
        }

        // Back: ready again within moments, with no restart of the service.
        var readyWithin = Stopwatch.StartNew();
        HttpStatusCode ready;
        while ((ready = (await health.GetAsync("/health/ready")).StatusCode) != HttpStatusCode.OK && readyWithin.Elapsed < TimeSpan.FromSeconds(30))
            await Task.Delay(100);
        Assert.Equal(HttpStatusCode.OK, ready);

        // WorkOS retries everything it did not get a 200 for, and (lost answers) some it did: send them all again.
        output.WriteLine($"ready again after {readyWithin.ElapsedMilliseconds} ms");
        var (redelivered, refusedOnTheWay) = await stream.RedeliverUntilAcceptedAsync(Host, workers, "re-delivery after the restart", output);
        // The service recovers by itself: connections the crash broke are not handed out again after the restart.
        Assert.True(refusedOnTheWay.Count == 0,
            $"{refusedOnTheWay.Count} re-deliveries after the restart still answered 503:\n{string.Join("\n", refusedOnTheWay.Take(5))}\n{Host.Errors()}");

        await stream.AssertAppliedExactlyOnceAsync(Host, results, redelivered);
        // What reached a dead server, or was never sent before the restart, cannot have been applied before: its first
        // 200 is the re-delivery's. (A delivery in flight at the crash may have committed just before its answer was
        // lost; its re-delivery is then a duplicate, which AssertAppliedExactlyOnceAsync has counted once.)
        var neverApplied = results.Where(r => r.Started > stopEnded).Select(r => r.Event.Id)
            .Concat(events.Skip(firstDeliveries.Count).Select(e => e.Id)).ToHashSet();
        Assert.All(redelivered.Where(r => neverApplied.Contains(r.Event.Id)), r => Assert.NotEqual("duplicate", r.Outcome));
        output.WriteLine($"in flight at the crash and committed though answered 503: " +
                         $"{results.Count(r => r.Unavailable && redelivered.Single(d => d.Event.Id == r.Event.Id).Outcome == "duplicate")}");
    }

    private async Task<long> CountServerConnectionsAsync()
    {
        var database = new NpgsqlConnectionStringBuilder(Host.Storage.ConnectionString).Database;
        await using var admin = new NpgsqlConnection(fixture.Cluster.ConnectionString("postgres") + ";Pooling=false");
        await admin.OpenAsync();
        await using var count = admin.CreateCommand();
        count.CommandText = "SELECT count(*) FROM pg_stat_activity WHERE datname = @db";
        count.Parameters.AddWithValue("db", database!);
        return (long)(await count.ExecuteScalarAsync())!;
    }

    [Fact]
    public Task AnIoErrorMidTransactionAnswers503AndLeavesNothingBehind() =>
        FaultScenarios.MidTransactionIoErrorsAsync(Host, fixture.Injector, output);
}

public static class FaultScenarios
{
    /// <summary>
    /// Statements inside webhook transactions (and their commits) fail at random: each such delivery answers 503 and
    /// leaves no trace — no event record, no membership, no refusal, no outbox row — and the re-delivery applies it once.
    /// </summary>
    public static async Task MidTransactionIoErrorsAsync(ReliabilityHost host, StorageFaultInjector injector, ITestOutputHelper output)
    {
        var stream = await WebhookStream.PrepareAsync(host, roomyEvents: 30, tightOverflow: 7);
        var before = injector.Injected;
        injector.Arm();
        IReadOnlyList<DeliveryResult> results;
        try
        {
            results = await WebhookStream.DeliverAsync(host, stream.Events, workers: 6, Stopwatch.StartNew());
        }
        finally
        {
            injector.Disarm();
        }
        var injected = injector.Injected - before;

        output.WriteLine($"stream: {WebhookStream.Summary(results)}; faults injected: {injected}");
        WebhookStream.AssertOnly200Or503(results, host, "with I/O errors mid-transaction");
        Assert.True(injected > 0, "no fault was injected");
        Assert.True(results.Count(r => r.Unavailable) >= injected,
            $"{injected} faults were injected but only {results.Count(r => r.Unavailable)} deliveries answered 503");
        Assert.Contains(results, r => r.Ok);

        // Nothing of a failed delivery was left behind: its event is not recorded (so the retry is not a duplicate).
        var failed = results.Where(r => r.Unavailable).Select(r => r.Event.Id).ToList();
        var recordedFailures = await host.WithDbAsync(db => db.WebhookEvents.AsNoTracking().CountAsync(e => failed.Contains(e.EventId)));
        Assert.Equal(0, recordedFailures);

        var (redelivered, _) = await stream.RedeliverUntilAcceptedAsync(host, workers: 6, "re-delivery", output);
        Assert.All(redelivered.Where(r => failed.Contains(r.Event.Id)), r => Assert.NotEqual("duplicate", r.Outcome));
        await stream.AssertAppliedExactlyOnceAsync(host, results, redelivered);
    }
}
