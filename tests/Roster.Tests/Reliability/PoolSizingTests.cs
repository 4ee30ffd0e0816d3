using System.Net;
using Npgsql;
using Roster.Infrastructure.Data;
using Roster.Tests.Support;
using Xunit.Abstractions;

namespace Roster.Tests.Reliability;

/// <summary>
/// The README's rule for several instances on one PostgreSQL server: each instance's <c>Maximum Pool Size</c> is the
/// server's <c>max_connections</c>, less its reserved connections and a margin for everything else that connects
/// (migrations, the CLI, psql, monitoring), divided by the number of instances.
/// </summary>
public static class PoolSizing
{
    /// <summary>Connections left for whatever else connects (the CLI, psql, monitoring, a migration).</summary>
    public const int Margin = 10;

    public static int PerInstance(int maxConnections, int reserved, int instances) => (maxConnections - reserved - Margin) / instances;

    /// <summary>The same database, with the pool size the rule gives each of <paramref name="instances"/> instances on this server.</summary>
    public static StorageOptions ForInstances(StorageOptions storage, int instances)
    {
        using var connection = new NpgsqlConnection(storage.ConnectionString + ";Pooling=false");
        connection.Open();
        int Setting(string name)
        {
            // reserved_connections is PostgreSQL 16's; before it, only superuser_reserved_connections exists.
            using var command = new NpgsqlCommand($"SELECT COALESCE((SELECT setting FROM pg_settings WHERE name = '{name}'), '0')", connection);
            return int.Parse((string)command.ExecuteScalar()!, System.Globalization.CultureInfo.InvariantCulture);
        }
        var reserved = Setting("superuser_reserved_connections") + Setting("reserved_connections");
        var builder = new NpgsqlConnectionStringBuilder(storage.ConnectionString)
        {
            MaxPoolSize = PerInstance(Setting("max_connections"), reserved, instances),
        };
        return new StorageOptions { Provider = storage.Provider, ConnectionString = builder.ToString() };
    }
}

/// <summary>
/// Two instances on a server with PostgreSQL's default max_connections (100): with Npgsql's default pools (100 each) a
/// burst of webhooks that queue on one organization's seat lock opens more connections than the server allows, and
/// some answer 503; sized by the README's rule, the same burst is carried with every answer a 200.
/// </summary>
public sealed class PoolSizingTests(ITestOutputHelper output)
{
    private const int BurstPerInstance = 120;
    private const int Organizations = 4;
    private const string Plan = "burst";

    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Seats:DefaultPlan"] = Plan,
        [$"Plans:{Plan}:contributor"] = "-1",
        [$"Plans:{Plan}:community_only"] = "-1",
        ["Notifications:DispatcherEnabled"] = "false",
    };

    [Fact]
    public async Task TwoInstancesSizedByTheReadmeRuleCarryABurstThatDefaultPoolsAnswerWith503()
    {
        using var cluster = PrivatePostgres.Create();
        cluster.Start(maxConnections: 100);
        cluster.CreateDatabase("roster");
        var server = new NpgsqlConnectionStringBuilder(cluster.ConnectionString("roster")) { MaxPoolSize = 100 }; // Npgsql's default
        var defaults = new StorageOptions { Provider = StorageProvider.Postgres, ConnectionString = server.ToString() };

        // The sized pools first, on a server nobody else has used yet; then the same burst with default pools.
        var sized = PoolSizing.ForInstances(defaults, instances: 2);
        var perInstance = new NpgsqlConnectionStringBuilder(sized.ConnectionString).MaxPoolSize;
        Assert.Equal((100 - 3 - PoolSizing.Margin) / 2, perInstance);
        var withAdvice = await BurstAsync(sized);
        output.WriteLine($"pools of {perInstance} each: {withAdvice.Unavailable} answered 503, {withAdvice.Other.Count} other failures");

        await DrainedAsync(defaults.ConnectionString);
        var withDefaults = await BurstAsync(defaults);
        output.WriteLine($"default pools (100 each): {withDefaults.Unavailable} of {2 * BurstPerInstance} answered 503");
        Assert.True(withDefaults.Unavailable > 0, "the burst did not outgrow the server with default pools: it proves nothing");
        Assert.Equal(0, withAdvice.Unavailable);
        Assert.Empty(withAdvice.Other);
    }

    private static async Task<(int Unavailable, List<string> Other)> BurstAsync(StorageOptions storage)
    {
        var hosts = new[] { new ReliabilityHost(storage, Settings), new ReliabilityHost(storage, Settings) };
        try
        {
            foreach (var host in hosts) await host.StartAsync();
            // A few organizations: each burst's webhooks queue on their organization's seat lock holding a connection (so
            // connections pile up), while the queue of each stays short enough to drain well within the pool's wait.
            var orgs = Enumerable.Range(0, Organizations).Select(_ => WorkOs.NewId("org")).ToList();
            foreach (var org in orgs)
                await hosts[0].ClientFor(null).DeliverOk(WorkOs.Envelope("organization.created", WorkOs.Organization(org, "Burst")));
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var calls = hosts.SelectMany(host => Enumerable.Range(0, BurstPerInstance).Select(i => Task.Run(async () =>
            {
                var json = WorkOs.Envelope("organization_membership.created",
                    WorkOs.Membership(WorkOs.NewId("om"), WorkOs.NewId("user"), orgs[i % Organizations]));
                await start.Task;
                using var response = await host.ClientFor(null).Deliver(json);
                return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
            }))).ToList();
            start.SetResult();
            var answers = await Task.WhenAll(calls);
            return (answers.Count(a => a.StatusCode == HttpStatusCode.ServiceUnavailable),
                answers.Where(a => a.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable)).Select(a => $"{(int)a.StatusCode} {a.Body}").ToList());
        }
        finally
        {
            foreach (var host in hosts) host.Dispose();
            NpgsqlConnection.ClearAllPools();
        }
    }

    /// <summary>Waits (bounded) until the server's backends of the burst have gone, so one phase's connections do not count in the next.</summary>
    private static async Task DrainedAsync(string connectionString)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await using var admin = new NpgsqlConnection(connectionString + ";Pooling=false");
        await admin.OpenAsync();
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            await using var count = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'", admin);
            if ((long)(await count.ExecuteScalarAsync())! <= 1) return;
            await Task.Delay(100);
        }
    }
}
