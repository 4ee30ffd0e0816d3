using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Roster.Features.WorkOsSync;
using Roster.Infrastructure.Data;
using Roster.Tests.Support;

namespace Roster.Tests.WorkOsSync;

/// <summary>The background worker on: webhooks schedule a sync one second later, and everything is reconciled every two seconds.</summary>
public abstract class LiveSyncApp(StorageProvider provider) : WorkOsSyncApp(provider)
{
    protected override void Adjust(Dictionary<string, string?> settings)
    {
        settings["WorkOS:SyncDebounceSeconds"] = "1";
        settings["WorkOS:ReconcileIntervalSeconds"] = "2";
    }
}

public sealed class LiveSyncSqliteApp() : LiveSyncApp(StorageProvider.Sqlite);

public sealed class LiveSyncPostgresApp() : LiveSyncApp(StorageProvider.Postgres);

public abstract class BackgroundSyncTests(LiveSyncApp app)
{
    private readonly HttpClient _webhooks = app.ClientFor(null);

    private async Task<bool> Eventually(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 100; i++)
        {
            if (await condition()) return true;
            await Task.Delay(100);
        }
        return false;
    }

    private Task<bool> Mirrored(string workosMembershipId) =>
        app.WithDbAsync(db => db.Memberships.AnyAsync(m => m.WorkosMembershipId == workosMembershipId && m.Status == MembershipStatus.Active));

    [Fact]
    public async Task AWebhookSchedulesASyncOfItsOrganizationThatFetchesWhatWasLost()
    {
        var (org, created) = app.Fake.CreateOrganization("Debounce Inc");
        var lost = app.Fake.AddMembership(app.Fake.CreateUser($"lost.{Guid.NewGuid():N}@example.com").Id, org, ["member"]).Id;

        // Only the organization's own event arrives; the membership's webhook is lost.
        (await _webhooks.Deliver(created)).EnsureSuccessStatusCode();

        Assert.True(await Eventually(() => Mirrored(lost)), "the debounced sync did not bring the lost membership");
    }

    [Fact]
    public async Task ThePeriodicReconciliationConvergesWithoutAnyWebhook()
    {
        var (org, created) = app.Fake.CreateOrganization("Periodic plc");
        (await _webhooks.Deliver(created)).EnsureSuccessStatusCode();
        Assert.True(await Eventually(async () => await app.CursorAsync(org) is not null));

        var quiet = app.Fake.AddMembership(app.Fake.CreateUser($"quiet.{Guid.NewGuid():N}@example.com").Id, org, ["member"]).Id;

        Assert.True(await Eventually(() => Mirrored(quiet)), "the periodic reconciliation did not bring the membership");
    }
}

public sealed class BackgroundSyncTestsOnSqlite(LiveSyncSqliteApp app) : BackgroundSyncTests(app), IClassFixture<LiveSyncSqliteApp>;

public sealed class BackgroundSyncTestsOnPostgres(LiveSyncPostgresApp app) : BackgroundSyncTests(app), IClassFixture<LiveSyncPostgresApp>;

public abstract class SyncLockTests(WorkOsSyncApp app)
{
    [Fact]
    public async Task OnlyOneSyncOfAnOrganizationRunsAtATime()
    {
        var locks = app.Services.GetRequiredService<SyncLocks>();
        await using (var held = await locks.TryAcquireAsync("org:org_locked", CancellationToken.None))
        {
            Assert.NotNull(held);
            Assert.Null(await locks.TryAcquireAsync("org:org_locked", CancellationToken.None));
            var skipped = await app.SyncAsync("org_locked");
            Assert.False(skipped.Ran);

            // Another app instance (its own in-process gates) is held off by PostgreSQL's advisory lock.
            var otherInstance = new SyncLocks(app.Storage, app.Services);
            var other = await otherInstance.TryAcquireAsync("org:org_locked", CancellationToken.None);
            if (app.Provider == StorageProvider.Postgres) Assert.Null(other);
            else if (other is not null) await other.DisposeAsync(); // SQLite is one instance by nature: nothing to hold off
            await using var unrelated = await locks.TryAcquireAsync("org:org_other", CancellationToken.None);
            Assert.NotNull(unrelated);
        }
        await using var again = await locks.TryAcquireAsync("org:org_locked", CancellationToken.None);
        Assert.NotNull(again);
    }
}

public sealed class SyncLockTestsOnSqlite(WorkOsSyncSqliteApp app) : SyncLockTests(app), IClassFixture<WorkOsSyncSqliteApp>;

public sealed class SyncLockTestsOnPostgres(WorkOsSyncPostgresApp app) : SyncLockTests(app), IClassFixture<WorkOsSyncPostgresApp>;
