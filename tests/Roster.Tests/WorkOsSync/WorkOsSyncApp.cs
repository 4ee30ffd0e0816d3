using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Roster.Features.WorkOsSync;
using Roster.Features.Notifications;
using Roster.Infrastructure.Data;
using Roster.Tests.Support;
using Roster.Infrastructure.Outbox;

namespace Roster.Tests.WorkOsSync;

/// <summary>Roster with WorkOS configured against a fake WorkOS; syncs and outbox dispatch are driven by the tests.</summary>
public abstract class WorkOsSyncApp(StorageProvider provider) : RosterApp(provider)
{
    public FakeWorkOs Fake { get; } = FakeWorkOs.StartAsync().GetAwaiter().GetResult();

    protected virtual void Adjust(Dictionary<string, string?> settings) { }

    protected override IReadOnlyDictionary<string, string?> Settings
    {
        get
        {
            var settings = new Dictionary<string, string?>
            {
                ["WorkOS:ApiKey"] = Fake.ApiKey,
                ["WorkOS:BaseUrl"] = Fake.BaseUrl.ToString(),
                ["WorkOS:MaxRetries"] = "1",
                ["WorkOS:RetryBaseDelayMilliseconds"] = "5",
                // Tests run syncs themselves unless a fixture says otherwise.
                ["WorkOS:SyncDebounceSeconds"] = "3600",
                ["Notifications:DispatcherEnabled"] = "false",
            };
            Adjust(settings);
            return settings;
        }
    }

    public async Task<SyncResult> SyncAsync(string workosOrganizationId, DateTime? since = null)
    {
        using var scope = Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<EventSync>().SyncOrganizationAsync(workosOrganizationId, since, CancellationToken.None);
    }

    public async Task DispatchOutboxAsync()
    {
        var dispatcher = Services.GetRequiredService<OutboxDispatcher>();
        while (await dispatcher.DispatchDueAsync(CancellationToken.None) > 0)
        {
        }
    }

    public Task<string?> CursorAsync(string key) =>
        WithDbAsync(db => db.OrganizationSyncs.Where(s => s.WorkosOrganizationId == key).Select(s => s.Cursor).FirstOrDefaultAsync());

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Fake.DisposeAsync();
    }
}

public sealed class WorkOsSyncSqliteApp() : WorkOsSyncApp(StorageProvider.Sqlite);

public sealed class WorkOsSyncPostgresApp() : WorkOsSyncApp(StorageProvider.Postgres);
