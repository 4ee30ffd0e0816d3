using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Roster.Infrastructure.Data;
using Roster.Tests.Support;

namespace Roster.Tests.Reliability;

/// <summary>
/// SQLite's writers queue in this process (<see cref="SqliteWriters"/>). A write that runs in no transaction of its own
/// (a dispatcher's claim, an ExecuteUpdate) is one to SQLite and must queue like the rest: when it polled SQLite's lock
/// beside the queue instead, the writer whose turn it was slept in SQLite's busy handler whenever it lost, while everyone
/// behind it waited (bench/: a 1.4 s mean claim, a 6 ms mean turn for a sub-millisecond transaction).
/// SQLite only: PostgreSQL has row locks and no writer queue.
/// </summary>
public sealed class SqliteWriterQueueTests(SqliteWriterQueueTests.QuietSqliteApp app) : IClassFixture<SqliteWriterQueueTests.QuietSqliteApp>
{
    /// <summary>A host without Roster's background services, so every writer in the queue is one of the test's.</summary>
    public sealed class QuietSqliteApp() : RosterApp(StorageProvider.Sqlite)
    {
        protected override void ConfigureServices(IServiceCollection services)
        {
            foreach (var service in services.Where(d => d.ServiceType == typeof(Microsoft.Extensions.Hosting.IHostedService)
                                                        && (d.ImplementationType ?? d.ImplementationFactory?.Method.ReturnType)?.Assembly == typeof(RosterDb).Assembly).ToList())
                services.Remove(service);
        }
    }

    [Fact]
    public async Task AWriteOutsideATransactionWaitsItsTurnAfterTheWriterBeforeItAndBeforeTheOneAfterIt()
    {
        var eventId = "evt_queue_" + Guid.NewGuid().ToString("N");
        await app.WithDbAsync(db => db.Database.ExecuteSqlAsync(
            $"INSERT INTO webhook_events (event_id, type, received_at, outcome, detail, payload) VALUES ({eventId}, 'test', {DateTime.UtcNow}, 'applied', '', '{{}}')"));

        using var first = app.Services.CreateScope();
        var firstDb = first.ServiceProvider.GetRequiredService<RosterDb>();
        await using var firstTx = await firstDb.Database.BeginTransactionAsync();
        await firstDb.Database.ExecuteSqlAsync($"UPDATE webhook_events SET detail = detail || 'A' WHERE event_id = {eventId}");

        // A lone write that returns rows (the reader path, as the webhook dispatcher's claim): it must wait for a turn.
        var file = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(firstDb.Database.GetConnectionString()).DataSource;
        var waitingBefore = SqliteWriters.WaitingOn(file);
        var lone = Task.Run(() => app.WithDbAsync(db => db.Database
            .SqlQuery<string>($"UPDATE webhook_events SET detail = detail || 'B' WHERE event_id = {eventId} RETURNING detail AS \"Value\"")
            .ToListAsync()));
        await WaitForWaiters(file, waitingBefore + 1, "the write outside a transaction to queue for its turn");

        var next = Task.Run(() => app.WithDbAsync(async db =>
        {
            await using var tx = await db.Database.BeginTransactionAsync();
            await db.Database.ExecuteSqlAsync($"UPDATE webhook_events SET detail = detail || 'C' WHERE event_id = {eventId}");
            await tx.CommitAsync();
        }));
        await WaitForWaiters(file, waitingBefore + 2, "the next transaction to queue behind it");

        await firstTx.CommitAsync();
        var returned = await lone.WaitAsync(TimeSpan.FromSeconds(30));
        await next.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(["AB"], returned);
        var detail = await app.WithDbAsync(db => db.WebhookEvents.Where(e => e.EventId == eventId).Select(e => e.Detail).SingleAsync());
        // Served in the order they queued; and the lone write gave its turn back when its reader closed, or C never ran.
        Assert.Equal("ABC", detail);
    }

    [Fact]
    public async Task AReadOutsideATransactionNeverWaitsForTheWriter()
    {
        using var writer = app.Services.CreateScope();
        var writerDb = writer.ServiceProvider.GetRequiredService<RosterDb>();
        await using var tx = await writerDb.Database.BeginTransactionAsync();
        await writerDb.Database.ExecuteSqlAsync($"UPDATE organizations SET seat_lock_version = seat_lock_version WHERE 1 = 0");

        // WAL: readers read beside the writer, so a read must not queue behind it.
        await app.WithDbAsync(db => db.WebhookEvents.CountAsync()).WaitAsync(TimeSpan.FromSeconds(10));
        await tx.RollbackAsync();
    }

    /// <summary>Bounded: the queue is observed, never slept on.</summary>
    private static async Task WaitForWaiters(string file, int expected, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (SqliteWriters.WaitingOn(file) < expected)
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out waiting for {what} (writers waiting: {SqliteWriters.WaitingOn(file)}, expected {expected}).");
            await Task.Delay(10);
        }
    }
}
