using System.Data.Common;
using System.Net.Http.Json;
using Microsoft.Data.Sqlite;
using Npgsql;
using Roster.Bench.Infrastructure;

namespace Roster.Bench.Benchmarks;

public sealed record IngestScenario(string Name, string Outcome, string Plan, string Description, LoadResult App, LoadResult Floor, int StatementsPerEvent, CpuProfile? Profile,
    LoadResult? Baseline = null)
{
    public double Ratio => App.PerSecond / Floor.PerSecond;
    /// <summary>This build's events/s over the baseline build's, measured in alternation in the same run.</summary>
    public double? BaselineRatio => Baseline is { PerSecond: > 0 } b ? App.PerSecond / b.PerSecond : null;
}

public sealed record IngestResult(string Provider, int Concurrency, int Organizations, IReadOnlyList<IngestScenario> Scenarios,
    IReadOnlyDictionary<string, long> OutcomeCounts, long OutboxRows, long Memberships, IReadOnlyList<StatementCompile>? Compilation = null);

/// <summary>
/// Benchmark 1: signed organization_membership.created events (each a new user) over HTTP against the running service,
/// versus the same per-event transaction issued straight through the provider (<see cref="IngestFloor"/>).
/// Events are spread at random over 200 organizations per scenario, so the per-organization seat lock is one cost
/// among many rather than the only thing measured. Two scenarios:
/// applied  — organizations on company_leader (unlimited community_only): seat check, membership row, role assignment;
/// refused  — organizations on individual_professional (no community_only seat): seat check, refusal row and the
///            membership_refused notification outbox row.
/// Both write the dedupe record (webhook_events). Floor and service phases alternate (rounds) to cancel drift.
/// </summary>
public static class IngestBench
{
    public static async Task<IngestResult> RunAsync(BenchOptions o, BenchSecrets secrets, string provider, int? postmaster, Action<string> log)
    {
        var concurrency = provider == "postgres" ? o.Concurrency : o.SqliteConcurrency;
        var storage = await Storage.CreateAsync(o, provider, "bench_ingest");
        await using var app = await RosterProcess.StartAsync(o, secrets, storage, $"ingest-{provider}");
        using var client = Http.Client(app.BaseAddress, concurrency);
        // The baseline build, on a database of its own (its own migrations), driven by the same driver in alternation.
        var baseStorage = o.BaselineDll is null ? null : await Storage.CreateAsync(o, provider, "bench_ingest_base");
        await using var baseline = baseStorage is null ? null : await RosterProcess.StartAsync(o, secrets, baseStorage, $"ingest-{provider}-baseline", dll: o.BaselineDll);
        using var baseClient = baseline is null ? null : Http.Client(baseline.BaseAddress, concurrency);
        var orgs = o.IngestOrganizations;
        log($"ingest/{provider}: service pid {app.Pid} on {app.BaseAddress}; creating {2 * orgs} organizations through the API");

        var admin = secrets.Token("user_bench_admin", "admin@bench.example", "Bench Admin", admin: true);
        string OrgA(int i) => $"org_ingest_a_{i:D4}";
        string OrgR(int i) => $"org_ingest_r_{i:D4}";
        // Organization 0 first and alone: the admin's first request provisions their local user, and concurrent first
        // requests of one new user can race there (see the bench report).
        foreach (var target in new[] { client, baseClient }.OfType<HttpClient>())
        {
            await CreateOrganizationsAsync(target, 0);
            await Parallel.ForEachAsync(Enumerable.Range(1, orgs - 1), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) => await CreateOrganizationsAsync(target, i, ct));
        }
        async Task CreateOrganizationsAsync(HttpClient client, int i, CancellationToken ct = default)
        {
            foreach (var (org, plan) in new[] { (OrgA(i), "company_leader"), (OrgR(i), "individual_professional") })
            {
                if (!await Webhooks.DeliverAsync(client, secrets.WebhookSecret, Webhooks.OrganizationCreated(Webhooks.NextEventId(), org, "Ingest " + org, DateTime.UtcNow), "applied", ct))
                    throw new InvalidOperationException($"organization.created for {org} was not applied");
                using var put = new HttpRequestMessage(HttpMethod.Put, $"api/organizations/{org}/plan") { Content = JsonContent.Create(new { plan }) };
                put.Headers.Authorization = new("Bearer", admin);
                using var answer = await client.SendAsync(put, ct);
                if (!answer.IsSuccessStatusCode) throw new InvalidOperationException($"PUT plan {plan} on {org}: {(int)answer.StatusCode} {await answer.Content.ReadAsStringAsync(ct)}");
            }
        }
        // The first membership event creates the environment role "member" every later event resolves to.
        var tag = Guid.NewGuid().ToString("N")[..8];
        long counter = 0;
        FloorEvent NextEvent(string org)
        {
            var n = Interlocked.Increment(ref counter);
            var at = DateTime.UtcNow;
            at = new DateTime(at.Ticks - at.Ticks % TimeSpan.TicksPerMillisecond, DateTimeKind.Utc);
            var id = Webhooks.NextEventId();
            var user = $"user_ing_{tag}_{n:D8}";
            var om = $"om_ing_{tag}_{n:D8}";
            return new FloorEvent(id, Webhooks.MembershipCreated(id, om, user, org, "Ingest " + org, at), org, om, user, at);
        }
        foreach (var (target, process) in new[] { (client, app), (baseClient, baseline) })
            if (target is not null && !await Webhooks.DeliverAsync(target, secrets.WebhookSecret, NextEvent(OrgA(0)).Payload, "applied", CancellationToken.None))
                throw new InvalidOperationException("The first membership event was not applied; see " + process!.LogFile);

        await using var floor = new IngestFloor(storage);
        var cpu = new CpuMeter(app.Pid, storage.IsPostgres ? postmaster : null);
        var scenarios = new List<IngestScenario>();
        foreach (var (name, outcome, plan, orgOf, description) in new (string, string, string, Func<int, string>, string)[]
                 {
                     ("applied", "applied", "company_leader", OrgA, "new member mirrored: seat check, membership + role assignment rows, dedupe record"),
                     ("refused", "refused", "individual_professional", OrgR, "seat full: seat check, refusal row + outbox row (membership_refused), dedupe record"),
                 })
        {
            Operation viaApp = (_, ct) => Webhooks.DeliverAsync(client, secrets.WebhookSecret, NextEvent(orgOf(Random.Shared.Next(orgs))).Payload, outcome, ct);
            Operation viaFloor = async (_, ct) => await floor.ApplyAsync(NextEvent(orgOf(Random.Shared.Next(orgs))), ct) == outcome;
            Operation? viaBaseline = baseClient is null ? null
                : (_, ct) => Webhooks.DeliverAsync(baseClient, secrets.WebhookSecret, NextEvent(orgOf(Random.Shared.Next(orgs))).Payload, outcome, ct);

            var dedicated = !storage.IsPostgres;
            var warmed = await LoadDriver.WarmServiceAsync(concurrency, o.WarmupDuration, o.MaxWarmup, viaApp, app.Pid);
            await LoadDriver.WarmAsync(concurrency, o.WarmupDuration, viaFloor, dedicated);
            if (viaBaseline is not null) await LoadDriver.WarmServiceAsync(concurrency, o.WarmupDuration, o.MaxWarmup, viaBaseline, baseline!.Pid);
            log($"ingest/{provider}/{name}: warmed the service {warmed:0}s (until its JIT settled) and the floor {o.WarmupDuration.TotalSeconds:0}s, {concurrency} connections");

            var appRounds = new List<LoadResult>();
            var floorRounds = new List<LoadResult>();
            var baseRounds = new List<LoadResult>();
            var baseCpu = baseline is null ? null : new CpuMeter(baseline.Pid, storage.IsPostgres ? postmaster : null);
            var slice = o.PhaseDuration / o.Rounds;
            for (var r = 0; r < o.Rounds; r++)
            {
                floorRounds.Add(await LoadDriver.RunAsync("floor", concurrency, slice, viaFloor, cpu, dedicated));
                appRounds.Add(await LoadDriver.RunAsync("service", concurrency, slice, viaApp, cpu));
                if (viaBaseline is not null) baseRounds.Add(await LoadDriver.RunAsync("baseline", concurrency, slice, viaBaseline, baseCpu));
                log($"ingest/{provider}/{name} round {r + 1}: floor {floorRounds[^1].PerSecond:0} ev/s, service {appRounds[^1].PerSecond:0} ev/s" +
                    (baseRounds.Count > 0 ? $", baseline {baseRounds[^1].PerSecond:0} ev/s" : ""));
            }
            CpuProfile? profile = null;
            if (o.Profile)
            {
                // Not part of the figure: an extra phase with the sampling profiler attached, to show where the service's time goes.
                profile = await Profiler.SampleAsync(app.Pid, $"ingest {provider} {name}", o.WorkDir,
                    async () => (int)(await LoadDriver.RunAsync("profiled", concurrency, o.ProfileDuration, viaApp)).Count);
                log($"ingest/{provider}/{name}: profiled {profile.Samples:N0} samples; top: {string.Join(", ", profile.Components.Take(4).Select(c => $"{c.Name} {c.Percent:0}%"))}");
            }
            scenarios.Add(new IngestScenario(name, outcome, plan, description + $" (service warmed {warmed:0} s)",
                LoadResult.Combine("service", appRounds), LoadResult.Combine("floor", floorRounds),
                outcome == "applied" ? IngestFloor.Applied.Length : IngestFloor.Refused.Length, profile,
                baseRounds.Count > 0 ? LoadResult.Combine("baseline", baseRounds) : null));
        }

        // SQLite compiles each statement every time it runs, inside the writer's turn: what that costs an event, against the floor.
        var compilation = storage.IsPostgres ? null : await CompilationAsync(o, secrets, storage, provider, NextEvent, OrgA(1), OrgR(1));
        var (outcomes, outbox, memberships) = await CountsAsync(storage);
        return new IngestResult(storage.Label, concurrency, orgs, scenarios, outcomes, outbox, memberships, compilation);
    }

    private static async Task<List<StatementCompile>> CompilationAsync(BenchOptions o, BenchSecrets secrets, Storage storage, string provider,
        Func<string, FloorEvent> nextEvent, string appliedOrg, string refusedOrg)
    {
        List<List<string>> requests;
        await using (var capture = await RosterProcess.StartAsync(o, secrets, storage, $"ingest-{provider}-statements", StatementCompilation.CaptureEnvironment,
                           command: StatementCompilation.CaptureArguments))
        {
            using var client = Http.Client(capture.BaseAddress, 1);
            foreach (var (org, outcome) in new[] { (appliedOrg, "applied"), (refusedOrg, "refused") })
                if (!await Webhooks.DeliverAsync(client, secrets.WebhookSecret, nextEvent(org).Payload, outcome, CancellationToken.None))
                    throw new InvalidOperationException($"The statement capture's event was not {outcome}; see {capture.LogFile}");
            requests = await StatementCompilation.AwaitCapturedAsync(capture.LogFile, "/webhooks/workos", 2);
        }
        return
        [
            .. StatementCompilation.Measure(storage.ConnectionString, "service applied", requests[0]),
            .. StatementCompilation.Measure(storage.ConnectionString, "service refused", requests[1]),
            .. StatementCompilation.Measure(storage.ConnectionString, "floor applied", IngestFloor.AppliedSql),
            .. StatementCompilation.Measure(storage.ConnectionString, "floor refused", IngestFloor.RefusedSql),
        ];
    }

    private static async Task<(Dictionary<string, long>, long, long)> CountsAsync(Storage storage)
    {
        await using DbConnection c = storage.IsPostgres ? new NpgsqlConnection(storage.ConnectionString) : new SqliteConnection(storage.ConnectionString);
        await c.OpenAsync();
        var outcomes = new Dictionary<string, long>();
        await using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = "SELECT outcome, COUNT(*) FROM webhook_events GROUP BY outcome ORDER BY outcome";
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync()) outcomes[r.GetString(0)] = r.GetInt64(1);
        }
        async Task<long> Scalar(string sql)
        {
            await using var cmd = c.CreateCommand();
            cmd.CommandText = sql;
            return Convert.ToInt64(await cmd.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
        }
        return (outcomes, await Scalar("SELECT COUNT(*) FROM notification_outbox"), await Scalar("SELECT COUNT(*) FROM memberships"));
    }
}
