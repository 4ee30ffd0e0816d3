using System.Globalization;
using System.Text;
using Roster.Bench.Benchmarks;
using Roster.Bench.Infrastructure;
using Roster.Bench.Micro;

namespace Roster.Bench;

/// <summary>Everything one run measured, and the Markdown (RESULTS.md) and console table made from it.</summary>
public sealed class RunResults
{
    public required BenchOptions Options { get; init; }
    public DateTime StartedUtc { get; init; } = DateTime.UtcNow;
    public DateTime FinishedUtc { get; set; }
    public string Commit { get; init; } = "";
    public bool Dirty { get; init; }
    public MachineInfo? Machine { get; set; }
    public string? UptimeAfter { get; set; }
    public List<IngestResult> Ingest { get; } = [];
    public List<ReadResult> Read { get; } = [];
    public List<ScaleResult> Scale { get; } = [];
    public SoakResult? Soak { get; set; }
    public MicroResult? Micro { get; set; }
    public List<string> Notes { get; } = [];

    private static string F(double v, string format = "0.00") => double.IsNaN(v) ? "–" : v.ToString(format, CultureInfo.InvariantCulture);
    private static string Mb(double bytes) => F(bytes / 1048576.0, "0.0") + " MB";
    private static string Met(bool ok) => ok ? "**met**" : "**not met**";

    public sealed record Row(string Figure, string Result, string Floor, string Ratio, string Target, string Met);

    public IReadOnlyList<Row> Summary()
    {
        var rows = new List<Row>();
        foreach (var i in Ingest)
            foreach (var s in i.Scenarios)
            {
                // Issue 12's targets: applied vs the least-work floor ≥ 0.6× on PostgreSQL, ≥ 0.5× with p99 ≤ 250 ms on SQLite;
                // applied vs the baseline build ≥ 2.5× on PostgreSQL.
                var pg = i.Provider == "PostgreSQL";
                var applied = s.Name == "applied";
                var (target, met) = !applied ? ("reported", "–")
                    : pg ? ("≥ 0.6×", Met(s.Ratio >= 0.6))
                    : ("≥ 0.5×, p99 ≤ 250 ms", Met(s.Ratio >= 0.5 && s.App.P99 <= 250));
                rows.Add(new Row($"1 ingest {i.Provider} {s.Name} ({i.Concurrency} conn) vs floor",
                    $"{F(s.App.PerSecond, "0")} ev/s · p50 {F(s.App.P50)} · p99 {F(s.App.P99)} ms",
                    $"{F(s.Floor.PerSecond, "0")} ev/s · p50 {F(s.Floor.P50)} · p99 {F(s.Floor.P99)} ms",
                    F(s.Ratio) + "×", target, met));
                if (s.Baseline is { } b && s.BaselineRatio is { } ratio)
                    rows.Add(new Row($"1 ingest {i.Provider} {s.Name} ({i.Concurrency} conn) vs baseline",
                        $"{F(s.App.PerSecond, "0")} ev/s · p99 {F(s.App.P99)} ms",
                        $"{F(b.PerSecond, "0")} ev/s · p99 {F(b.P99)} ms ({Options.BaselineRef})",
                        F(ratio) + "×", pg && applied ? "≥ 2.5×" : "reported", pg && applied ? Met(ratio >= 2.5) : "–"));
            }
        foreach (var r in Read)
        {
            foreach (var (name, load, ratio) in new[] { ("members", r.Members, r.MembersRatio), ("mine/pending", r.Pending, r.PendingRatio) })
                rows.Add(new Row($"2 read {r.Provider} {name} ({r.Concurrency} conn)",
                    $"{F(load.PerSecond, "0")} req/s · p99 {F(load.P99)} ms",
                    $"{F(r.Floor.PerSecond, "0")} req/s · p99 {F(r.Floor.P99)} ms",
                    F(ratio) + "×", "≥ 0.5×", Met(ratio >= 0.5)));
        }
        foreach (var s in Scale)
            foreach (var op in s.Ops)
                rows.Add(new Row($"3 scale {s.Provider} {Short(op.Name)}",
                    $"median {F(op.BySize[^1].P50)} ms @ {Count(s.Sizes[^1].Memberships)}",
                    $"median {F(op.BySize[0].P50)} ms @ {Count(s.Sizes[0].Memberships)}",
                    F(op.Ratio) + "×", "≤ 1.5×", Met(op.Ratio <= 1.5)));
        if (Soak is { } k)
            rows.Add(new Row($"4 soak {k.Provider} RSS ({F(k.Minutes, "0.#")} min, {k.Concurrency} conn)",
                $"minute {k.LastMinute}: {Mb(k.MinuteMean(k.LastMinute))}", $"minute 1: {Mb(k.MinuteMean(1))}",
                (k.Growth >= 0 ? "+" : "") + F(k.Growth * 100, "0.0") + "%", "≤ +10%", Met(k.Growth <= 0.10)));
        if (Micro is { } m)
            foreach (var row in m.Rows)
                rows.Add(new Row($"5 micro {row.Benchmark.Split('.')[^1].Trim('\'')} {row.Parameters}",
                    $"{Ns(row.MeanNs)} · {row.AllocatedBytes.ToString("N0", CultureInfo.InvariantCulture)} B/op", "", "", "reported", "–"));
        return rows;
    }

    private static string Short(string op) => op switch
    {
        _ when op.Contains("pending", StringComparison.Ordinal) => "mine/pending",
        _ when op.Contains("webhooks", StringComparison.Ordinal) => "webhook ingest",
        _ => "members list",
    };

    private static string Count(int n) => n >= 1_000_000 ? F(n / 1e6, "0.#") + "M" : n >= 1000 ? F(n / 1e3, "0.#") + "k" : n.ToString(CultureInfo.InvariantCulture);

    private static string Ns(double ns) => ns switch
    {
        double.NaN => "–",
        < 1_000 => F(ns, "0.0") + " ns",
        < 1_000_000 => F(ns / 1_000, "0.00") + " µs",
        _ => F(ns / 1_000_000, "0.00") + " ms",
    };

    public string ConsoleTable()
    {
        var rows = Summary();
        var headers = new Row("figure", "result", "floor / baseline", "ratio", "target", "met");
        var all = rows.Prepend(headers).ToList();
        int W(Func<Row, string> f) => all.Max(r => f(r).Replace("**", "").Length);
        var widths = new[] { W(r => r.Figure), W(r => r.Result), W(r => r.Floor), W(r => r.Ratio), W(r => r.Target), W(r => r.Met) };
        var sb = new StringBuilder();
        foreach (var r in all)
        {
            var cells = new[] { r.Figure, r.Result, r.Floor, r.Ratio, r.Target, r.Met }.Select((c, i) => c.Replace("**", "").PadRight(widths[i]));
            sb.AppendLine(string.Join(" │ ", cells));
            if (ReferenceEquals(r, headers)) sb.AppendLine(string.Join("─┼─", widths.Select(w => new string('─', w))));
        }
        return sb.ToString();
    }

    public string Markdown()
    {
        var o = Options;
        var sb = new StringBuilder();
        sb.AppendLine("# Roster benchmark results");
        sb.AppendLine();
        sb.AppendLine("Generated by `bench/run.sh` (bench/Roster.Bench); do not edit by hand — re-run the command below.");
        sb.AppendLine("Every figure is a **ratio measured in this one run** against a floor or baseline measured minutes apart on the same machine, because absolute numbers on a shared machine drift.");
        sb.AppendLine();
        sb.AppendLine("| | |");
        sb.AppendLine("|---|---|");
        sb.AppendLine($"| date | {StartedUtc:yyyy-MM-dd HH:mm} – {FinishedUtc:HH:mm} UTC ({(FinishedUtc - StartedUtc).TotalMinutes:0.0} min) |");
        sb.AppendLine($"| commit | `{Commit}`{(Dirty ? " (with uncommitted changes)" : "")} |");
        sb.AppendLine($"| command | `{o.CommandLine}` |");
        if (Machine is { } m)
        {
            sb.AppendLine($"| CPU | {m.Cpu} × {m.Cores} (nproc {m.Cores}) |");
            sb.AppendLine($"| OS | {m.Os} |");
            sb.AppendLine($"| .NET SDK | {m.Dotnet} |");
            sb.AppendLine($"| database | {m.Postgres ?? "no PostgreSQL"} (throwaway cluster: fsync=off, synchronous_commit=off, full_page_writes=off, as scripts/test.sh) · SQLite (Microsoft.Data.Sqlite, WAL) |");
            if (o.ServiceEnvironment.Count > 0)
                sb.AppendLine($"| service environment (experiment) | {string.Join(", ", o.ServiceEnvironment.Select(kv => $"`{kv.Key}={kv.Value}`"))} |");
            sb.AppendLine($"| settings | {(o.Quick ? "**--quick (smoke test, not a recorded run)**" : "full")}: {o.PhaseDuration.TotalSeconds:0} s measured per ingest/read phase in {o.Rounds} alternating round(s), ingest {o.Concurrency} connections on PostgreSQL / {o.SqliteConcurrency} on SQLite, read {o.Concurrency}, scale {string.Join(" vs ", o.ScaleSizes.Select(Count))} memberships, soak {F(o.SoakMinutes, "0.#")} min |");
        }
        sb.AppendLine();
        if (Machine is not null)
        {
            sb.AppendLine("Machine load. This 2-core machine is a shared virtual machine whose speed drifts between runs, which is why only ratios count; the \"other processes\" column of each CPU table shows what else ran during a phase. `uptime` before and after (the load average after includes the benchmark's own service and driver threads), `free -h`, and `top` at the start:");
            sb.AppendLine();
            sb.AppendLine("```");
            sb.AppendLine($"before: {Machine.Uptime}");
            sb.AppendLine($"after:  {UptimeAfter}");
            sb.AppendLine();
            sb.AppendLine(Machine.Memory);
            sb.AppendLine();
            sb.AppendLine(Machine.Top);
            sb.AppendLine("```");
            sb.AppendLine();
        }

        sb.AppendLine("## Summary");
        sb.AppendLine();
        sb.AppendLine("| figure | result | floor / baseline | ratio | target | met |");
        sb.AppendLine("|---|---|---|---|---|---|");
        foreach (var r in Summary()) sb.AppendLine($"| {r.Figure} | {r.Result} | {r.Floor} | {r.Ratio} | {r.Target} | {r.Met} |");
        sb.AppendLine();
        foreach (var note in Notes) sb.AppendLine($"- {note}");
        if (Notes.Count > 0) sb.AppendLine();

        WriteIngest(sb);
        WriteRead(sb);
        WriteScale(sb);
        WriteSoak(sb);
        WriteMicro(sb);
        return sb.ToString();
    }

    private static void CpuTable(StringBuilder sb, IEnumerable<(string Phase, LoadResult Load)> phases, bool hasPostgres)
    {
        sb.AppendLine("| phase | ops/s | wall s | service CPU ms/op (of which JIT / GC) | load driver CPU ms/op | " + (hasPostgres ? "PostgreSQL CPU ms/op | " : "") + "other processes (cores) | machine busy (of 2 cores) |");
        sb.AppendLine("|---|---|---|---|---|" + (hasPostgres ? "---|" : "") + "---|---|");
        foreach (var (phase, l) in phases)
        {
            if (l.Cpu is not { } c || l.Count == 0) continue;
            double PerOp(double s) => s * 1000 / l.Count;
            sb.AppendLine($"| {phase} | {F(l.PerSecond, "0")} | {F(c.Wall, "0.0")} | {F(PerOp(c.App), "0.000")} ({F(PerOp(c.AppJit), "0.000")} / {F(PerOp(c.AppGc), "0.000")}) | {F(PerOp(c.Driver), "0.000")} | " +
                          (hasPostgres ? $"{F(PerOp(c.Postgres), "0.000")} | " : "") + $"{F(c.Other / c.Wall)} | {F(c.Total / c.Wall)} |");
        }
        sb.AppendLine();
    }

    private void WriteIngest(StringBuilder sb)
    {
        if (Ingest.Count == 0) return;
        sb.AppendLine("## 1. Webhook ingest");
        sb.AppendLine();
        sb.AppendLine("Signed `organization_membership.created` events, each for a new WorkOS user, POSTed to `/webhooks/workos` of the real service " +
                      "(the built `Roster.dll` started as a child process on Kestrel at 127.0.0.1) by a closed-loop driver: N workers, one " +
                      "`HttpClient` (SocketsHttpHandler, MaxConnectionsPerServer = N), every request signed at send time, every answer checked for the expected outcome. " +
                      "Events are spread at random over 200 organizations per scenario (created through the API: `organization.created` webhook, then " +
                      "`PUT /api/organizations/{id}/plan` as platform admin), so the per-organization seat lock (an `UPDATE organizations` row lock held to commit) is " +
                      "one cost among many. Scenarios:");
        sb.AppendLine();
        foreach (var s in Ingest[0].Scenarios) sb.AppendLine($"- **{s.Name}** — plan `{s.Plan}`: {s.Description}.");
        sb.AppendLine();
        sb.AppendLine("**Floor**: the least work the job needs, written by hand against the provider (bench/Roster.Bench/Benchmarks/IngestFloor.cs; Npgsql " +
                      "`NpgsqlDataSource` built as the service builds it / `Microsoft.Data.Sqlite`), same concurrency, no HTTP, no ASP.NET Core, no EF Core, and not " +
                      "a replay of the service's statements: record the event (an insert that reports a duplicate), lock the organization and read its plan, count the " +
                      "seats, insert the membership and its role assignment (or the refusal and its notification), set the outcome, commit. On PostgreSQL two batches " +
                      "and the COMMIT (" + string.Join(" → ", IngestFloor.Applied) + "); on SQLite one writer at a time through a fair in-process queue, BEGIN " +
                      "IMMEDIATE, the same two multi-statement commands, COMMIT. Floor and service phases alternate in rounds on the same database; the service stays " +
                      "up (idle) during floor phases.");
        sb.AppendLine();
        if (Ingest.SelectMany(i => i.Scenarios).FirstOrDefault(s => s.Baseline is not null) is not null)
        {
            sb.AppendLine($"**Baseline**: the service built from `{Options.BaselineRef}` (bench/run.sh --baseline), on a database of its own, driven by the same " +
                          "driver with the same events in the same rounds (floor → this build → baseline), so its figure is a ratio on one machine at one time.");
            sb.AppendLine();
        }
        sb.AppendLine("The service's own round trips per event (applied ≤ 8, refused ≤ 6, duplicate ≤ 3 on both providers) are pinned by " +
                      "tests/Roster.Tests/Webhooks/RoundTripTests.cs, which lists the statements when a change adds one.");
        sb.AppendLine();
        foreach (var i in Ingest)
        {
            sb.AppendLine($"### {i.Provider} — {i.Concurrency} connections");
            sb.AppendLine();
            sb.AppendLine("| scenario | path | events | events/s | p50 ms | p99 ms | mean ms | errors |");
            sb.AppendLine("|---|---|---|---|---|---|---|---|");
            foreach (var s in i.Scenarios)
                foreach (var (path, l) in new[] { ("service over HTTP", s.App), ("floor (provider only)", s.Floor), ("baseline build over HTTP", s.Baseline) }
                             .Where(p => p.Item2 is not null).Select(p => (p.Item1, p.Item2!)))
                    sb.AppendLine($"| {s.Name} | {path} | {l.Count:N0} | {F(l.PerSecond, "0")} | {F(l.P50)} | {F(l.P99)} | {F(l.Mean)} | {l.Errors}{(l.FirstError is { } e ? " (" + e + ")" : "")} |");
            sb.AppendLine();
            sb.AppendLine($"Rows afterwards: webhook_events by outcome {string.Join(", ", i.OutcomeCounts.Select(kv => $"{kv.Key} {kv.Value:N0}"))}; notification_outbox {i.OutboxRows:N0}; memberships {i.Memberships:N0}.");
            sb.AppendLine();
            sb.AppendLine("Where the CPU went (per completed event; \"other processes\" is everything else on the machine — the other agents' test runs):");
            sb.AppendLine();
            CpuTable(sb, i.Scenarios.SelectMany(s => new[] { ($"{s.Name} service", s.App), ($"{s.Name} floor", s.Floor) }), i.Provider == "PostgreSQL");
            foreach (var s in i.Scenarios) sb.AppendLine(Explain(s.Name, s.App, s.Floor, i.Provider == "PostgreSQL")).AppendLine();
            foreach (var s in i.Scenarios)
                if (s.Profile is { } p) WriteProfile(sb, p, s.App);
            if (i.Compilation is { } compilation) WriteCompilation(sb, compilation);
        }
    }

    /// <summary>What SQLite spends compiling each operation's statements (<see cref="StatementCompilation"/>).</summary>
    private static void WriteCompilation(StringBuilder sb, IReadOnlyList<StatementCompile> rows)
    {
        sb.AppendLine("#### Statement compilation (SQLite)");
        sb.AppendLine();
        sb.AppendLine("Microsoft.Data.Sqlite compiles a command's SQL every time it runs (sqlite3_prepare_v2; it keeps no statement cache across " +
                      "commands, dotnet/efcore#14044) and EF Core creates a command per execution, so every operation pays for compiling each " +
                      "statement it sends — for ingest inside the one writer's turn. PostgreSQL does not: Npgsql prepares the service's statements " +
                      "once per connection (Max Auto Prepare). The statements are the service's own, captured from EF Core's command log in a short " +
                      $"extra run of the built service; each was compiled {StatementCompilation.Repetitions} times on this database (prepare and " +
                      "finalize, no execution). BEGIN and COMMIT are not listed.");
        sb.AppendLine();
        sb.AppendLine("| operation | statements | compile µs per operation |");
        sb.AppendLine("|---|---|---|");
        foreach (var op in rows.GroupBy(r => r.Route))
            sb.AppendLine($"| {op.Key} | {op.Count()} | {F(op.Sum(r => r.Microseconds), "0")} |");
        sb.AppendLine();
        sb.AppendLine("<details><summary>Each statement</summary>");
        sb.AppendLine();
        sb.AppendLine("| operation | statement | characters | compile µs |");
        sb.AppendLine("|---|---|---|---|");
        foreach (var r in rows)
            sb.AppendLine($"| {r.Route} | `{r.Statement.Replace("|", "\\|", StringComparison.Ordinal)}` | {r.Characters:N0} | {F(r.Microseconds, "0")} |");
        sb.AppendLine();
        sb.AppendLine("</details>");
        sb.AppendLine();
    }

    /// <summary>The sampling profile of one phase: shares of managed CPU by component and by method.</summary>
    private static void WriteProfile(StringBuilder sb, CpuProfile p, LoadResult? measured)
    {
        sb.AppendLine($"#### Profile: {p.Phase}");
        sb.AppendLine();
        var perOp = measured?.Cpu is { } c && measured.Count > 0 ? c.App * 1000 / measured.Count : double.NaN;
        sb.AppendLine($"Extra load phases with profilers attached (not part of the figures). EventPipe CPU sampling over {F(p.Seconds, "0")} s (it pauses the process to sample, so it slows the service): " +
                      $"{p.Samples:N0} samples of threads running managed code, {p.Operations:N0} operations, {p.Collections:N0} garbage collections " +
                      $"({F(p.Operations == 0 ? double.NaN : 1000.0 * p.Collections / p.Operations, "0.0")} per 1,000 operations). A sample is charged to the first frame, from the leaf up, " +
                      "in a known component, so BCL helpers count for their caller." +
                      (double.IsNaN(perOp) ? "" : $" Milliseconds are shares of the {F(perOp, "0.000")} ms of service CPU per operation measured above (which also includes JIT, GC and native time)."));
        sb.AppendLine();
        if (p.Native is { Count: > 0 } native)
        {
            sb.AppendLine($"All of the service's CPU by code region (`perf record -p`, cpu-clock at 499 Hz, {p.NativeSamples:N0} samples over a 4 s load phase; kernel and native runtime included):");
            sb.AppendLine();
            sb.AppendLine("| code region | share of service CPU |" + (double.IsNaN(perOp) ? "" : " ≈ ms per operation |"));
            sb.AppendLine("|---|---|" + (double.IsNaN(perOp) ? "" : "---|"));
            foreach (var x in native)
                sb.AppendLine($"| {x.Name} | {F(x.Percent, "0.0")}% |" + (double.IsNaN(perOp) ? "" : $" {F(perOp * x.Percent / 100, "0.000")} |"));
            sb.AppendLine();
            sb.AppendLine("Managed code by component (EventPipe sample profiler, threads running managed code only):");
            sb.AppendLine();
        }
        sb.AppendLine("| component | share of managed samples |" + (double.IsNaN(perOp) ? "" : " ≈ ms per operation |"));
        sb.AppendLine("|---|---|" + (double.IsNaN(perOp) ? "" : "---|"));
        foreach (var x in p.Components)
            sb.AppendLine($"| {x.Name} | {F(x.Percent, "0.0")}% |" + (double.IsNaN(perOp) ? "" : $" {F(perOp * x.Percent / 100, "0.000")} |"));
        sb.AppendLine();
        sb.AppendLine("<details><summary>Top methods (first frame in a known component)</summary>");
        sb.AppendLine();
        sb.AppendLine("| method | share |");
        sb.AppendLine("|---|---|");
        foreach (var x in p.Methods) sb.AppendLine($"| `{x.Name.Replace("|", "\\|")}` | {F(x.Percent, "0.0")}% |");
        sb.AppendLine();
        sb.AppendLine("</details>");
        sb.AppendLine();
    }

    /// <summary>A sentence or two on where the extra time of the service goes, from the CPU accounting.</summary>
    private static string Explain(string name, LoadResult app, LoadResult floor, bool pg)
    {
        if (app.Cpu is not { } a || floor.Cpu is not { } f || app.Count == 0 || floor.Count == 0) return "";
        double Ms(double s, long n) => s * 1000 / n;
        var appTotal = Ms(a.App + a.Driver + a.Postgres, app.Count);
        var floorTotal = Ms(f.App + f.Driver + f.Postgres, floor.Count);
        var sb = new StringBuilder();
        sb.Append($"*{name}*: the service path costs {F(appTotal, "0.000")} ms of CPU per event in all (service {F(Ms(a.App, app.Count), "0.000")}, " +
                  $"driver {F(Ms(a.Driver, app.Count), "0.000")}{(pg ? $", PostgreSQL {F(Ms(a.Postgres, app.Count), "0.000")}" : "")}) against the floor's " +
                  $"{F(floorTotal, "0.000")} ms (driver = provider client {F(Ms(f.Driver, floor.Count), "0.000")}{(pg ? $", PostgreSQL {F(Ms(f.Postgres, floor.Count), "0.000")}" : "")}). ");
        sb.Append($"The machine was {F(a.Total / a.Wall * 50, "0")}% busy during the service phases and {F(f.Total / f.Wall * 50, "0")}% during the floor phases " +
                  $"(other processes: {F(a.Other / a.Wall)} and {F(f.Other / f.Wall)} cores). ");
        if (a.Total / a.Wall > 1.7)
            sb.Append($"With the CPU saturated, throughput is bounded by CPU per event: predicted ratio ≈ {F(floorTotal / appTotal)} from CPU alone (measured {F(app.PerSecond / floor.PerSecond)}).");
        return sb.ToString();
    }

    private void WriteRead(StringBuilder sb)
    {
        if (Read.Count == 0) return;
        sb.AppendLine("## 2. Read path");
        sb.AppendLine();
        sb.AppendLine("`GET /api/organizations/{orgId}/members` (an owner of one of 500 sampled organizations; 9 rows: 8 active + 1 invitation) and " +
                      "`GET /api/membership-requests/mine/pending` (an invitee; 1 invitation with organization name and inviter), with real RS256 tokens minted " +
                      "with the service's configured key. Database: 1,000 organizations × 10 memberships, migrated by `Roster migrate` and bulk-seeded. " +
                      "**Floor**: `GET /floor` of bench/Roster.Bench/ReadFloorApp.cs — a minimal app outside the product with the service's authentication " +
                      "setup (AddRosterAuth, same key and settings), local-user middleware (one user lookup by WorkOS id, same database and storage registration) " +
                      "and authorization, returning a constant; its own process on Kestrel at 127.0.0.1, with the same tokens. Phases alternate in rounds.");
        sb.AppendLine();
        foreach (var r in Read)
        {
            sb.AppendLine($"### {r.Provider} — {r.Concurrency} connections");
            sb.AppendLine();
            sb.AppendLine("| endpoint | requests | req/s | p50 ms | p99 ms | ratio to floor | errors |");
            sb.AppendLine("|---|---|---|---|---|---|---|");
            foreach (var l in new[] { r.Floor, r.Members, r.Pending })
                sb.AppendLine($"| `{l.Name}` | {l.Count:N0} | {F(l.PerSecond, "0")} | {F(l.P50)} | {F(l.P99)} | {F(l.PerSecond / r.Floor.PerSecond)}× | {l.Errors} |");
            sb.AppendLine();
            CpuTable(sb, new[] { ("floor", r.Floor), ("members", r.Members), ("mine/pending", r.Pending) }, r.Provider == "PostgreSQL");
            foreach (var p in r.Profiles)
                WriteProfile(sb, p, p.Phase.EndsWith("floor", StringComparison.Ordinal) ? r.Floor : p.Phase.EndsWith("members", StringComparison.Ordinal) ? r.Members : r.Pending);
            if (r.Compilation is { } compilation) WriteCompilation(sb, compilation);
        }
    }

    private void WriteScale(StringBuilder sb)
    {
        if (Scale.Count == 0) return;
        sb.AppendLine("## 3. Scale");
        sb.AppendLine();
        sb.AppendLine("Each database is migrated by the service's own runner (`Roster migrate`) and bulk-seeded server-side (PostgreSQL: `INSERT … SELECT generate_series`, " +
                      "then `VACUUM ANALYZE` as autovacuum would; SQLite: recursive CTEs in one transaction), then served by its own service process. Per organization: " +
                      "owner, admin, member (accepted invitations), five members mirrored from WorkOS (each with a `webhook_events` record and a role assignment), one " +
                      "pending join request, one pending invitation; most users belong to two organizations; every tenth organization also has a custom organization role and a staged " +
                      "seat reservation. Requests are sent one at a time (no queueing in the latency), alternating request by request (random order per " +
                      "turn) between the small and the large database, so machine drift hits both alike; the webhook adds a new user to a random seeded organization.");
        sb.AppendLine();
        foreach (var s in Scale)
        {
            sb.AppendLine($"### {s.Provider}");
            sb.AppendLine();
            sb.AppendLine("| database | memberships | organizations | users | seeded in | size |");
            sb.AppendLine("|---|---|---|---|---|---|");
            foreach (var z in s.Sizes) sb.AppendLine($"| {Count(z.Memberships)} | {z.Memberships:N0} | {z.Organizations:N0} | {z.Users:N0} | {F(z.SeedSeconds, "0.0")} s | {z.Footprint} |");
            sb.AppendLine();
            sb.AppendLine("| operation | " + string.Join(" | ", s.Sizes.Select(z => $"median @ {Count(z.Memberships)} (p99)")) + " | requests | ratio of medians |");
            sb.AppendLine("|---|" + string.Concat(s.Sizes.Select(_ => "---|")) + "---|---|");
            foreach (var op in s.Ops)
                sb.AppendLine($"| `{op.Name}` | " + string.Join(" | ", op.BySize.Select(b => $"{F(b.P50)} ms ({F(b.P99)})")) + $" | {string.Join(" / ", op.BySize.Select(b => b.Count.ToString("N0", CultureInfo.InvariantCulture)))} | {F(op.Ratio)}× |");
            sb.AppendLine();
            if (s.Plans.Count > 0)
            {
                var scans = s.Plans.SelectMany(p => p.SeqScans).Distinct().ToList();
                sb.AppendLine($"#### PostgreSQL plans at {Count(s.Sizes[^1].Memberships)} memberships");
                sb.AppendLine();
                sb.AppendLine("Captured with `auto_explain` (log_min_duration 0, log_analyze, log_buffers) from a fresh service process sending each hot request three " +
                              "times: these are the plans of the exact statements and parameter values EF Core sent (last execution of each distinct statement). " +
                              (scans.Count == 0
                                  ? "No statement uses a sequential scan: every hot query is index-backed."
                                  : $"Sequential scans appear on: {string.Join(", ", scans)} — see below (a sequential scan of a table of a handful of rows, e.g. global_roles, is what the planner should do)."));
                sb.AppendLine();
                sb.AppendLine("| # | statement | execution | access path |");
                sb.AppendLine("|---|---|---|---|");
                var n = 0;
                foreach (var p in s.Plans)
                    sb.AppendLine($"| {++n} | `{OneLine(p.Query, 110)}` | {F(p.Milliseconds, "0.000")} ms | {AccessPaths(p.Plan)} |");
                sb.AppendLine();
                sb.AppendLine("<details><summary>EXPLAIN (ANALYZE, BUFFERS) of each statement</summary>");
                sb.AppendLine();
                n = 0;
                foreach (var p in s.Plans)
                {
                    sb.AppendLine($"**{++n}.**");
                    sb.AppendLine();
                    sb.AppendLine("```sql");
                    sb.AppendLine(p.Query);
                    sb.AppendLine("```");
                    sb.AppendLine("```");
                    sb.AppendLine(p.Plan);
                    sb.AppendLine("```");
                    sb.AppendLine();
                }
                sb.AppendLine("</details>");
                sb.AppendLine();
            }
        }
    }

    private static string OneLine(string sql, int max)
    {
        var s = System.Text.RegularExpressions.Regex.Replace(sql, @"\s+", " ").Replace("|", "\\|");
        var from = s.IndexOf(" FROM ", StringComparison.Ordinal);
        if (s.StartsWith("SELECT", StringComparison.Ordinal) && from > 60) s = "SELECT … " + s[(from + 1)..];
        return s.Length <= max ? s : s[..max] + "…";
    }

    private static string AccessPaths(string plan)
    {
        var paths = System.Text.RegularExpressions.Regex.Matches(plan, @"(Index Only Scan|Index Scan|Bitmap Index Scan|Seq Scan)(?: Backward)?(?: using (\w+))? on (\w+)|Bitmap Index Scan on (\w+)")
            .Select(m => m.Groups[4].Success ? $"Bitmap Index Scan on {m.Groups[4].Value}" : m.Groups[2].Success ? $"{m.Groups[1].Value} {m.Groups[2].Value}" : $"{m.Groups[1].Value} on {m.Groups[3].Value}")
            .Distinct().ToList();
        if (paths.Count == 0 && plan.StartsWith("Insert", StringComparison.Ordinal)) return "insert";
        if (paths.Count == 0 && plan.StartsWith("Update", StringComparison.Ordinal)) return "update (" + string.Join(", ", System.Text.RegularExpressions.Regex.Matches(plan, @"Index \w* ?Scan using (\w+)").Select(m => m.Groups[1].Value)) + ")";
        return paths.Count == 0 ? "–" : string.Join(", ", paths);
    }

    private void WriteSoak(StringBuilder sb)
    {
        if (Soak is not { } k) return;
        sb.AppendLine("## 4. Memory soak");
        sb.AppendLine();
        sb.AppendLine($"{F(k.Minutes, "0.#")} minutes of mixed traffic ({k.Mix}) from {k.Concurrency} connections against one service process on {k.Provider} " +
                      "(1,000 seeded organizations; reads go to organizations 0–499, webhooks to 500–999, so what is read stays the same size), after a warm-up until the service's JIT settled and then one minute at the soak's own concurrency, so that minute 1 is already the steady state (connection, prepared-statement, DbContext and thread pools grown). " +
                      $"VmRSS of the service process sampled every 2 s; the figure compares the mean of the samples taken in minute 1 with the mean of those in minute {k.LastMinute}.");
        sb.AppendLine();
        sb.AppendLine($"Requests: {k.Load.Count:N0} ({F(k.Load.PerSecond, "0")}/s), errors {k.Load.Errors}, p50 {F(k.Load.P50)} ms, p99 {F(k.Load.P99)} ms. RSS after warm-up {Mb(k.StartRss)}.");
        sb.AppendLine();
        sb.AppendLine("| window | RSS mean | RSS min | RSS max | requests/s |");
        sb.AppendLine("|---|---|---|---|---|");
        var windows = (int)Math.Ceiling(k.Minutes * 2);
        RssSample? previous = null;
        for (var w = 0; w < windows; w++)
        {
            var inWindow = k.Samples.Where(s => s.Seconds >= w * 30 && s.Seconds < (w + 1) * 30).ToList();
            if (inWindow.Count == 0) continue;
            var first = previous ?? inWindow[0];
            var last = inWindow[^1];
            var rate = last.Seconds > first.Seconds ? (last.Completed - first.Completed) / (last.Seconds - first.Seconds) : double.NaN;
            previous = last;
            sb.AppendLine($"| {w * 30}–{(w + 1) * 30} s | {Mb(inWindow.Average(s => (double)s.RssBytes))} | {Mb(inWindow.Min(s => s.RssBytes))} | {Mb(inWindow.Max(s => s.RssBytes))} | {F(rate, "0")} |");
        }
        sb.AppendLine();
    }

    private void WriteMicro(StringBuilder sb)
    {
        if (Micro is not { } m) return;
        sb.AppendLine("## 5. Micro-benchmarks");
        sb.AppendLine();
        sb.AppendLine($"{m.Job}. The seat-ledger rows query one organization of a seeded database (10 memberships; 1,000 in the database) through EF Core, " +
                      "one DbContext reused across operations (no tracking: the results are projections).");
        sb.AppendLine();
        sb.AppendLine("| benchmark | parameters | mean | ± (99.9% CI) | allocated per op |");
        sb.AppendLine("|---|---|---|---|---|");
        foreach (var r in m.Rows)
            sb.AppendLine($"| {r.Benchmark} | {r.Parameters} | {Ns(r.MeanNs)} | {Ns(r.ErrorNs)} | {r.AllocatedBytes.ToString("N0", CultureInfo.InvariantCulture)} B |");
        sb.AppendLine();
    }
}
