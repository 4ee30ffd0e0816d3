using System.Globalization;

namespace Roster.Bench.Infrastructure;

/// <summary>Command-line settings of a bench run. Every duration has a full (recorded) and a --quick value.</summary>
public sealed class BenchOptions
{
    public required string Command { get; init; }
    public required string RepoRoot { get; init; }
    public required string RosterDll { get; init; }
    /// <summary>A build of another commit (bench/run.sh --baseline &lt;ref&gt;) that ingest alternates with this one.</summary>
    public string? BaselineDll { get; init; }
    public string? BaselineRef { get; init; }
    public required string WorkDir { get; init; }
    public string? PostgresAdmin { get; init; }
    public string? PostgresLog { get; init; }
    public string? OutFile { get; init; }
    public string CommandLine { get; init; } = "";
    public bool Quick { get; init; }

    /// <summary>Concurrent connections of the ingest and read load drivers (the issue asks for 16–64).</summary>
    public int Concurrency { get; init; } = 32;
    public int SqliteConcurrency { get; init; } = 16;
    public TimeSpan PhaseDuration { get; init; }
    public TimeSpan WarmupDuration { get; init; }
    public TimeSpan MaxWarmup { get; init; }
    public int Rounds { get; init; } = 2;
    public int IngestOrganizations { get; init; } = 200;
    public IReadOnlyList<int> ScaleSizes { get; init; } = [10_000, 1_000_000];
    public TimeSpan ScaleOpDuration { get; init; }
    public bool SqliteScale { get; init; } = true;
    public double SoakMinutes { get; init; } = 5;
    public int SoakConcurrency { get; init; } = 16;
    public bool MicroQuick { get; init; }
    public bool Profile { get; init; } = true;

    /// <summary>Extra environment for the service process (experiments, e.g. runtime knobs); recorded in RESULTS.md.</summary>
    public IReadOnlyDictionary<string, string> ServiceEnvironment { get; init; } = new Dictionary<string, string>();
    public TimeSpan ProfileDuration { get; init; } = TimeSpan.FromSeconds(5);
    public IReadOnlyList<string> Providers { get; init; } = ["postgres", "sqlite"];

    public bool HasPostgres => !string.IsNullOrWhiteSpace(PostgresAdmin);

    public static readonly string[] Commands = ["ingest", "read", "scale", "soak", "micro", "all"];

    public const string Usage = """
        usage: Roster.Bench <ingest|read|scale|soak|micro|all>[,…] [options]
          --roster <Roster.dll>        the built service (default: <repo>/src/bin/Release/net10.0/Roster.dll)
          --pg <connection string>     superuser connection to a throwaway PostgreSQL (bench/run.sh provisions one)
          --pg-log <file>              that server's log file (EXPLAIN plans are read from it via auto_explain)
          --out <file>                 write RESULTS.md there (all)
          --quick                      short phases, small scale sizes, 1-minute soak, short micro jobs (smoke test)
          --soak-minutes <m>           soak length (default 5)
          --duration <s>               measured seconds per ingest/read phase (default 10; quick 3)
          --warmup <s>                 minimum warm-up seconds per phase (default 8; quick 3); the service is warmed on
                                       until its tiered JIT settles, up to --max-warmup <s> (default 30; quick 10)
          --concurrency <n>            load-driver connections on PostgreSQL (default 32) ; --sqlite-concurrency <n> (default 16)
          --scale-sizes <a,b>          membership counts (default 10000,1000000; quick 2000,50000)
          --no-sqlite-scale            scale only PostgreSQL
          --no-profile                 skip the sampling-profiler phases (EventPipe)
          --providers <p,q>            postgres,sqlite (default both)
          --work <dir>                 scratch folder (default: a new temp folder)
          --baseline-roster <Roster.dll> the same service built from another commit (bench/run.sh --baseline <ref> builds it)
          --baseline-ref <ref>         that commit, for the report
          --service-env <K=V,K=V>      extra environment for the service process (experiments; recorded in RESULTS.md)
          --command-line <text>        the command to record in RESULTS.md
        """;

    public static BenchOptions Parse(string[] args)
    {
        if (args.Length == 0 || !args[0].Split(',').All(Commands.Contains)) throw new UsageException("Name a subcommand (or several, comma-separated).");
        var flags = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (var i = 1; i < args.Length; i++)
        {
            var a = args[i];
            if (!a.StartsWith("--", StringComparison.Ordinal)) throw new UsageException($"Unexpected argument '{a}'.");
            var isSwitch = a is "--quick" or "--no-sqlite-scale" or "--no-profile";
            if (isSwitch) flags[a] = null;
            else if (i + 1 < args.Length) flags[a] = args[++i];
            else throw new UsageException($"{a} needs a value.");
        }
        string? Get(string key) => flags.TryGetValue(key, out var v) ? v : null;
        double Num(string key, double fallback) =>
            Get(key) is { } v ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;

        var quick = flags.ContainsKey("--quick");
        var repo = FindRepoRoot();
        var work = Get("--work") ?? Directory.CreateTempSubdirectory("roster-bench.").FullName;
        Directory.CreateDirectory(work);
        var sizes = Get("--scale-sizes") is { } s
            ? s.Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray()
            : quick ? [2_000, 50_000] : [10_000, 1_000_000];
        return new BenchOptions
        {
            Command = args[0],
            RepoRoot = repo,
            RosterDll = Path.GetFullPath(Get("--roster") ?? Path.Combine(repo, "src", "bin", "Release", "net10.0", "Roster.dll")),
            WorkDir = work,
            BaselineDll = Get("--baseline-roster") is { } b ? Path.GetFullPath(b) : null,
            BaselineRef = Get("--baseline-ref"),
            PostgresAdmin = Get("--pg") ?? Environment.GetEnvironmentVariable("ROSTER_BENCH_POSTGRES"),
            PostgresLog = Get("--pg-log"),
            OutFile = Get("--out"),
            CommandLine = Get("--command-line") ?? "Roster.Bench " + string.Join(' ', args),
            Quick = quick,
            Concurrency = (int)Num("--concurrency", 32),
            SqliteConcurrency = (int)Num("--sqlite-concurrency", 16),
            PhaseDuration = TimeSpan.FromSeconds(Num("--duration", quick ? 3 : 10)),
            WarmupDuration = TimeSpan.FromSeconds(Num("--warmup", quick ? 3 : 8)),
            MaxWarmup = TimeSpan.FromSeconds(Num("--max-warmup", quick ? 10 : 30)),
            Rounds = quick ? 1 : 2,
            IngestOrganizations = 200,
            ScaleSizes = sizes,
            ScaleOpDuration = TimeSpan.FromSeconds(quick ? 4 : 10),
            SqliteScale = !flags.ContainsKey("--no-sqlite-scale"),
            SoakMinutes = Num("--soak-minutes", quick ? 1 : 5),
            SoakConcurrency = 16,
            MicroQuick = quick,
            Profile = !flags.ContainsKey("--no-profile"),
            ServiceEnvironment = (Get("--service-env") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(kv => kv.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv.Length > 1 ? kv[1] : ""),
            ProfileDuration = TimeSpan.FromSeconds(quick ? 4 : 5),
            Providers = (Get("--providers") ?? "postgres,sqlite").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        };
    }

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Api.sln"))) dir = dir.Parent;
        return dir?.FullName ?? Directory.GetCurrentDirectory();
    }
}

public sealed class UsageException(string message) : Exception(message);
