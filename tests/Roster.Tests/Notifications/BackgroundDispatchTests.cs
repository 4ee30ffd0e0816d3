using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Roster.Infrastructure.Data;
using Roster.Tests.Support;
using Roster.Infrastructure.Outbox;
using Roster.Infrastructure.Seats;

namespace Roster.Tests.Notifications;

/// <summary>The hosted background loop, on real time: nobody calls the dispatcher by hand here.</summary>
public abstract class BackgroundDispatchTests(BackgroundSlackApp app)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly Scenario _s = new(app);

    private IReadOnlyList<SlackCall> PostsAbout(TestUser person) =>
        app.Slack.Posted.Where(c => c.Arg("text")!.Contains(person.Email, StringComparison.Ordinal)).ToList();

    private async Task<List<NotificationOutboxRow>> WaitFor(IEnumerable<Guid> ids, Func<NotificationOutboxRow, bool> condition, string what)
    {
        var wanted = ids.ToList();
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var rows = await app.WithDbAsync(db => db.NotificationOutbox.AsNoTracking().Where(r => wanted.Contains(r.Id)).ToListAsync());
            if (rows.Count == wanted.Count && rows.All(condition)) return rows;
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out waiting until {what}.");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task TheBackgroundLoopIsRegisteredAndDeliversARowOnItsOwn()
    {
        Assert.Contains(app.Services.GetServices<IHostedService>(), s => s is OutboxBackgroundService);
        var org = await _s.NewOrg();
        app.Slack.Map(org.Owner.Email);
        var refused = RosterApp.NewUser("refused");
        var row = await app.EnqueueRefusalAsync(org.Id, refused.Email, refused.Name);

        await WaitFor([row.Id], r => r.SentAt is not null, "the row is sent");

        await Task.Delay(500); // a few more polls: still one message
        Assert.Single(PostsAbout(refused));
    }

    [Fact]
    public async Task SlackDownForAWhileThenBackEveryRowIsDeliveredOnceWithoutAnyoneStepping()
    {
        var org = await _s.NewOrg();
        app.Slack.Map(org.Owner.Email);
        var people = Enumerable.Range(0, 6).Select(i => RosterApp.NewUser($"down{i}")).ToList();
        var ids = new List<Guid>();
        app.Slack.Fail(new SlackFault.HttpStatus(502));
        try
        {
            foreach (var person in people) ids.Add((await app.EnqueueRefusalAsync(org.Id, person.Email, person.Name)).Id);
            var failing = await WaitFor(ids, r => r.Attempts >= 2, "every row was tried twice");
            Assert.All(failing, r => Assert.Null(r.SentAt));
            Assert.All(failing, r => Assert.Null(r.FailedAt));
            Assert.All(failing, r => Assert.Equal("users.lookupByEmail: HTTP 502", r.LastError));
        }
        finally
        {
            app.Slack.Recover();
        }

        await WaitFor(ids, r => r.SentAt is not null, "every row is sent");

        await Task.Delay(500);
        Assert.All(people, p => Assert.Single(PostsAbout(p)));
    }
}

public sealed class BackgroundDispatchTestsOnSqlite(SqliteBackgroundSlackApp app) : BackgroundDispatchTests(app), IClassFixture<SqliteBackgroundSlackApp>;

public sealed class BackgroundDispatchTestsOnPostgres(PostgresBackgroundSlackApp app) : BackgroundDispatchTests(app), IClassFixture<PostgresBackgroundSlackApp>;

/// <summary>Roster without Slack settings: it runs, and notifications wait in the outbox.</summary>
public abstract class NotificationsWithoutSlackTests(RosterApp app)
{
    [Fact]
    public async Task WithoutABotTokenNoLoopRunsAndRowsStayPending()
    {
        Assert.DoesNotContain(app.Services.GetServices<IHostedService>(), s => s is OutboxBackgroundService);
        var dispatcher = app.Services.GetService<OutboxDispatcher>();
        Assert.True(dispatcher is not null,
            "The notifications feature is not registered: Program.cs needs builder.Services.AddNotifications(builder.Configuration);");
        var due = DateTime.UtcNow.AddMinutes(-1);
        due = new DateTime(due.Ticks - due.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);
        var row = await app.WithDbAsync(async db =>
        {
            var enqueued = Outbox.Enqueue(db, NotificationKinds.SeatWarning, $"seat_warning:{Guid.NewGuid():N}",
                new SeatWarningNotification(Guid.NewGuid(), null, "Standalone", "contributor", 100, 5, 5), due);
            await db.SaveChangesAsync();
            return enqueued;
        });

        Assert.Equal(0, await dispatcher.DispatchDueAsync(CancellationToken.None));

        var after = await app.WithDbAsync(db => db.NotificationOutbox.AsNoTracking().SingleAsync(r => r.Id == row.Id));
        Assert.Equal(0, after.Attempts);
        Assert.Null(after.SentAt);
        Assert.Null(after.FailedAt);
        Assert.Equal(due, after.NextAttemptAt);
    }
}

public sealed class NotificationsWithoutSlackTestsOnSqlite(SqliteApp app) : NotificationsWithoutSlackTests(app), IClassFixture<SqliteApp>;

public sealed class NotificationsWithoutSlackTestsOnPostgres(PostgresApp app) : NotificationsWithoutSlackTests(app), IClassFixture<PostgresApp>;
