using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using Roster.Bench.Infrastructure;

namespace Roster.Bench.Benchmarks;

public sealed record ScaleOp(string Name, IReadOnlyList<LoadResult> BySize)
{
    public double Ratio => BySize[^1].P50 / BySize[0].P50;
}

public sealed record ScaleSize(int Memberships, int Organizations, int Users, double SeedSeconds, string Footprint);

public sealed record ScaleResult(string Provider, IReadOnlyList<ScaleSize> Sizes, IReadOnlyList<ScaleOp> Ops, IReadOnlyList<ExplainedQuery> Plans);

/// <summary>
/// Benchmark 3: the same reads and writes against a small and a large database (default 10k and 1M memberships,
/// 1k and 100k organizations), both migrated by the service's runner and bulk-seeded, each served by its own
/// service process. Requests go one at a time (no queueing in the figure) and alternate between the two databases
/// in rounds, so machine drift hits both alike. The figure is the ratio of median latencies, large/small.
/// </summary>
public static class ScaleBench
{
    public static async Task<ScaleResult> RunAsync(BenchOptions o, BenchSecrets secrets, string provider, Action<string> log)
    {
        var dbs = new List<SeededDatabase>();
        var sizes = new List<ScaleSize>();
        foreach (var size in o.ScaleSizes)
        {
            var db = await SeededDatabase.CreateAsync(o, secrets, provider, $"bench_scale_{size}", size / 10);
            dbs.Add(db);
            var footprint = await FootprintAsync(db.Storage);
            sizes.Add(new ScaleSize(db.Shape.Memberships, db.Shape.Organizations, db.Shape.Users, db.SeedSeconds, footprint));
            log($"scale/{provider}: seeded {db.Shape.Memberships:N0} memberships in {db.SeedSeconds:0.0}s ({footprint})");
        }

        var apps = new RosterProcess?[dbs.Count];
        var clients = new HttpClient?[dbs.Count];
        try
        {
            for (var i = 0; i < dbs.Count; i++)
            {
                apps[i] = await RosterProcess.StartAsync(o, secrets, dbs[i].Storage, $"scale-{provider}-{o.ScaleSizes[i]}");
                clients[i] = Http.Client(apps[i]!.BaseAddress, 4);
            }
            var callers = dbs.Select(d => new SeededCallers(d.Shape, secrets, 300, seed: 3)).ToList();
            for (var i = 0; i < dbs.Count; i++) await callers[i].VerifyAsync(clients[i]!);

            var tag = Guid.NewGuid().ToString("N")[..8];
            long counter = 0;
            Operation Op(string name, int i) => name switch
            {
                "members" => (_, ct) => { var c = callers[i].AnyMember(); return Http.GetOkAsync(clients[i]!, c.Path, c.Token, ct); },
                "pending" => (_, ct) => { var c = callers[i].AnyInvitee(); return Http.GetOkAsync(clients[i]!, c.Path, c.Token, ct); },
                _ => (_, ct) =>
                {
                    var n = Interlocked.Increment(ref counter);
                    var org = SeedShape.WorkosOrganizationId(Random.Shared.Next(dbs[i].Shape.Organizations));
                    var json = Webhooks.MembershipCreated(Webhooks.NextEventId(), $"om_scale_{tag}_{n}", $"user_scale_{tag}_{n}", org, "Org", DateTime.UtcNow);
                    return Webhooks.DeliverAsync(clients[i]!, secrets.WebhookSecret, json, "applied", ct);
                },
            };
            var names = new[] { ("members", "GET /api/organizations/{orgId}/members"), ("pending", "GET /api/membership-requests/mine/pending"), ("webhook", "POST /webhooks/workos (membership.created, applied)") };
            for (var i = 0; i < dbs.Count; i++)
                foreach (var (n, _) in names)
                    await LoadDriver.WarmServiceAsync(2, TimeSpan.FromSeconds(o.Quick ? 1 : 2), TimeSpan.FromSeconds(o.Quick ? 2 : 6), Op(n, i), apps[i]!.Pid);

            var ops = new List<ScaleOp>();
            foreach (var (name, label) in names)
            {
                var bySize = await LoadDriver.RunInterleavedAsync(label, o.ScaleOpDuration, Enumerable.Range(0, dbs.Count).Select(i => Op(name, i)).ToArray());
                var op = new ScaleOp(label, bySize);
                ops.Add(op);
                log($"scale/{provider}: {label}: median {string.Join(" / ", op.BySize.Select(b => $"{b.P50:0.00} ms"))} → ratio {op.Ratio:0.00}");
            }

            IReadOnlyList<ExplainedQuery> plans = [];
            if (provider == "postgres")
            {
                // A fresh service process on the largest database, with auto_explain on for its connections.
                var last = dbs.Count - 1;
                await apps[last]!.DisposeAsync();
                apps[last] = null;
                clients[last]!.Dispose();
                plans = await Explain.CaptureAsync(o, dbs[last].Storage, async () =>
                {
                    await using var explained = await RosterProcess.StartAsync(o, secrets, dbs[last].Storage, $"scale-{provider}-explain");
                    using var client = Http.Client(explained.BaseAddress, 1);
                    clients[last] = client;
                    foreach (var (name, _) in names)
                        for (var k = 0; k < 3; k++)
                            if (!await Op(name, last)(0, CancellationToken.None)) throw new InvalidOperationException($"explain pass: {name} failed");
                    clients[last] = null;
                });
                log($"scale/{provider}: captured {plans.Count} distinct query plans; sequential scans: {string.Join(", ", plans.SelectMany(p => p.SeqScans).Distinct().DefaultIfEmpty("none"))}");
            }
            return new ScaleResult(dbs[0].Storage.Label, sizes, ops, plans);
        }
        finally
        {
            foreach (var c in clients) c?.Dispose();
            foreach (var a in apps)
                if (a is not null) await a.DisposeAsync();
        }
    }

    private static async Task<string> FootprintAsync(Storage storage)
    {
        await using DbConnection c = storage.IsPostgres ? new NpgsqlConnection(storage.ConnectionString) : new SqliteConnection(storage.ConnectionString);
        await c.OpenAsync();
        await using var cmd = c.CreateCommand();
        string size;
        if (storage.IsPostgres)
        {
            cmd.CommandText = "SELECT pg_size_pretty(pg_database_size(current_database()))";
            size = "database " + await cmd.ExecuteScalarAsync();
        }
        else
        {
            var file = new SqliteConnectionStringBuilder(storage.ConnectionString).DataSource;
            size = $"file {new FileInfo(file).Length / 1024.0 / 1024.0:0} MB";
        }
        var counts = new List<string>();
        foreach (var table in new[] { "webhook_events", "organization_role_assignments", "seat_reservations", "organization_roles" })
        {
            cmd.CommandText = $"SELECT COUNT(*) FROM {table}";
            counts.Add($"{table} {Convert.ToInt64(await cmd.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture):N0}");
        }
        return size + "; " + string.Join(", ", counts);
    }
}
