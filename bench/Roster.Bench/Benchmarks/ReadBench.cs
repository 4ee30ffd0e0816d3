using Roster.Bench.Infrastructure;

namespace Roster.Bench.Benchmarks;

public sealed record ReadResult(string Provider, int Concurrency, int Memberships, LoadResult Floor, LoadResult Members, LoadResult Pending, IReadOnlyList<CpuProfile> Profiles,
    IReadOnlyList<StatementCompile>? Compilation = null)
{
    public double MembersRatio => Members.PerSecond / Floor.PerSecond;
    public double PendingRatio => Pending.PerSecond / Floor.PerSecond;
}

/// <summary>
/// Benchmark 2: the two hot reads with real tokens, versus <see cref="ReadFloorApp"/> — a minimal app in bench/ with the
/// service's authentication setup and one endpoint that returns a constant, run as its own process on the same database.
/// The floor pays for the same Kestrel, JWT validation (RS256), local-user middleware (one user lookup) and
/// authorization; the difference is the endpoint's own work. Database: 1,000 organizations × 10 memberships (see <see cref="SeedShape"/>).
/// </summary>
public static class ReadBench
{
    public static async Task<ReadResult> RunAsync(BenchOptions o, BenchSecrets secrets, string provider, int? postmaster, Action<string> log)
    {
        var concurrency = o.Concurrency;
        var db = await SeededDatabase.CreateAsync(o, secrets, provider, "bench_read", 1_000);
        await using var app = await RosterProcess.StartAsync(o, secrets, db.Storage, $"read-{provider}");
        using var client = Http.Client(app.BaseAddress, concurrency);
        await using var floorApp = await RosterProcess.StartAsync(o, secrets, db.Storage, $"read-floor-{provider}",
            dll: typeof(ReadFloorApp).Assembly.Location, command: ReadFloorApp.Command);
        using var floorClient = Http.Client(floorApp.BaseAddress, concurrency);
        var callers = new SeededCallers(db.Shape, secrets, 500, seed: 1);
        await callers.VerifyAsync(client);
        log($"read/{provider}: service pid {app.Pid}; {db.Shape.Memberships} memberships seeded in {db.SeedSeconds:0.0}s");

        Operation floor = (_, ct) => { var c = callers.AnyMember(); return Http.GetOkAsync(floorClient, "floor", c.Token, ct); };
        Operation members = (_, ct) => { var c = callers.AnyMember(); return Http.GetOkAsync(client, c.Path, c.Token, ct); };
        Operation pending = (_, ct) => { var c = callers.AnyInvitee(); return Http.GetOkAsync(client, c.Path, c.Token, ct); };

        var warmed = 0.0;
        foreach (var op in new[] { floor, members, pending })
            warmed += await LoadDriver.WarmServiceAsync(concurrency, o.WarmupDuration / 2, o.MaxWarmup / 2, op, op == floor ? floorApp.Pid : app.Pid);
        log($"read/{provider}: warmed the service {warmed:0}s (until its JIT settled)");
        var cpu = new CpuMeter(app.Pid, db.Storage.IsPostgres ? postmaster : null);
        var floorCpu = new CpuMeter(floorApp.Pid, db.Storage.IsPostgres ? postmaster : null);
        var rounds = new Dictionary<string, List<LoadResult>> { ["floor"] = [], ["members"] = [], ["pending"] = [] };
        var slice = o.PhaseDuration / o.Rounds;
        for (var r = 0; r < o.Rounds; r++)
        {
            rounds["floor"].Add(await LoadDriver.RunAsync("floor", concurrency, slice, floor, floorCpu));
            rounds["members"].Add(await LoadDriver.RunAsync("members", concurrency, slice, members, cpu));
            rounds["pending"].Add(await LoadDriver.RunAsync("pending", concurrency, slice, pending, cpu));
            log($"read/{provider} round {r + 1}: floor {rounds["floor"][^1].PerSecond:0}/s, members {rounds["members"][^1].PerSecond:0}/s, pending {rounds["pending"][^1].PerSecond:0}/s");
        }
        var profiles = new List<CpuProfile>();
        // Both providers, and the floor too: the difference between its profile and a route's is where the route's extra time goes.
        if (o.Profile)
            foreach (var (name, op, pid) in new[] { ("floor", floor, floorApp.Pid), ("members", members, app.Pid), ("pending", pending, app.Pid) })
                profiles.Add(await Profiler.SampleAsync(pid, $"read {provider} {name}", o.WorkDir,
                    async () => (int)(await LoadDriver.RunAsync("profiled", concurrency, o.ProfileDuration, op)).Count));
        // SQLite compiles each statement every time it runs: what that costs each read (the user lookup is the floor's too).
        var compilation = db.Storage.IsPostgres ? null : await CompilationAsync(o, secrets, db.Storage, provider, callers);
        return new ReadResult(db.Storage.Label, concurrency, db.Shape.Memberships,
            LoadResult.Combine("GET /floor (bench/ReadFloorApp)", rounds["floor"]),
            LoadResult.Combine("GET /api/organizations/{orgId}/members", rounds["members"]),
            LoadResult.Combine("GET /api/membership-requests/mine/pending", rounds["pending"]), profiles, compilation);
    }

    private static async Task<List<StatementCompile>> CompilationAsync(BenchOptions o, BenchSecrets secrets, Storage storage, string provider, SeededCallers callers)
    {
        List<List<string>> requests;
        await using (var capture = await RosterProcess.StartAsync(o, secrets, storage, $"read-{provider}-statements", StatementCompilation.CaptureEnvironment,
                           command: StatementCompilation.CaptureArguments))
        {
            using var client = Http.Client(capture.BaseAddress, 1);
            foreach (var caller in new[] { callers.AnyMember(), callers.AnyInvitee() })
                if (!await Http.GetOkAsync(client, caller.Path, caller.Token, CancellationToken.None))
                    throw new InvalidOperationException($"The statement capture's GET {caller.Path} failed; see {capture.LogFile}");
            requests = await StatementCompilation.AwaitCapturedAsync(capture.LogFile, "/api/", 2);
        }
        return
        [
            .. StatementCompilation.Measure(storage.ConnectionString, "members", requests[0]),
            .. StatementCompilation.Measure(storage.ConnectionString, "mine/pending", requests[1]),
        ];
    }
}
