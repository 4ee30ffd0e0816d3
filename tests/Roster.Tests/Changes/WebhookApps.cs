using Microsoft.AspNetCore.Hosting;
using Roster.Infrastructure.Data;
using Roster.Tests.Support;

namespace Roster.Tests.Changes;

/// <summary>
/// A Roster host in Development (so a subscription may point at a receiver on 127.0.0.1), with the sequencer and the
/// webhook dispatcher polling fast and retries spaced by one to two seconds (six tries span at least four and a half).
/// </summary>
public abstract class WebhookApp(StorageProvider provider) : RosterApp(provider)
{
    public const int MaxAttempts = 6;

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Changes:SequencerIntervalMilliseconds"] = "50",
        ["Webhooks:PollMilliseconds"] = "50",
        ["Webhooks:BackoffBaseSeconds"] = "1",
        ["Webhooks:BackoffMaxSeconds"] = "2",
        ["Webhooks:MaxAttempts"] = MaxAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Webhooks:TimeoutSeconds"] = "5",
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseEnvironment("Development");
    }
}

public sealed class WebhookSqliteApp() : WebhookApp(StorageProvider.Sqlite);

public sealed class WebhookPostgresApp() : WebhookApp(StorageProvider.Postgres);
