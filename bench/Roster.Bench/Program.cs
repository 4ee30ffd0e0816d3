using System.Diagnostics;
using Roster.Bench;
using Roster.Bench.Benchmarks;
using Roster.Bench.Infrastructure;
using Roster.Bench.Micro;

if (args.Length > 0 && args[0] == ReadFloorApp.Command) return await ReadFloorApp.RunAsync(args[1..]);

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (UsageException ex)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}

var clock = Stopwatch.StartNew();
void Log(string message) => Console.WriteLine($"[{clock.Elapsed:mm\\:ss}] {message}");

if (!File.Exists(options.RosterDll))
{
    Console.Error.WriteLine($"The service is not built: {options.RosterDll} (dotnet build src -c Release)");
    return 2;
}
// Uncommitted changes other than the results files themselves make the recorded commit inexact.
var dirty = Shell.Run("git", "-C", options.RepoRoot, "status", "--porcelain").Split('\n', StringSplitOptions.RemoveEmptyEntries)
    .Any(line => !line.Contains("bench/RESULTS", StringComparison.Ordinal));
var git = (Shell.Run("git", "-C", options.RepoRoot, "rev-parse", "HEAD").Trim(), dirty);
var results = new RunResults { Options = options, Commit = git.Item1, Dirty = git.Item2 };
var postgresVersion = options.HasPostgres ? await Storage.PostgresVersionAsync(options.PostgresAdmin!) : null;
results.Machine = MachineInfo.Capture(postgresVersion);
var postmaster = await Storage.PostmasterPidAsync(options.PostgresAdmin);
var secrets = new BenchSecrets();
Log($"Roster.Bench {options.Command}: service {options.RosterDll}; scratch {options.WorkDir}; {postgresVersion ?? "no PostgreSQL (--pg)"}");

var providers = options.Providers.Where(p => p != "postgres" || options.HasPostgres).ToList();
if (!options.HasPostgres) results.Notes.Add("No PostgreSQL was given (--pg): PostgreSQL figures are missing from this run.");
bool Runs(string name) => options.Command == "all" || options.Command.Split(',').Contains(name);

try
{
    if (Runs("micro"))
    {
        Log("micro: BenchmarkDotNet (signature verification, seat ledger)");
        results.Micro = MicroRunner.Run(options, Log);
    }
    if (Runs("ingest"))
        foreach (var p in providers)
            results.Ingest.Add(await IngestBench.RunAsync(options, secrets, p, postmaster, Log));
    if (Runs("read"))
        foreach (var p in providers)
            results.Read.Add(await ReadBench.RunAsync(options, secrets, p, postmaster, Log));
    if (Runs("scale"))
        foreach (var p in providers.Where(p => p == "postgres" || options.SqliteScale))
            results.Scale.Add(await ScaleBench.RunAsync(options, secrets, p, Log));
    if (Runs("soak"))
        results.Soak = await SoakBench.RunAsync(options, secrets, providers[0], Log);
}
finally
{
    results.FinishedUtc = DateTime.UtcNow;
    results.UptimeAfter = MachineInfo.CurrentUptime();
}

Console.WriteLine();
Console.WriteLine(results.ConsoleTable());
var markdown = results.Markdown();
if (options.OutFile is { } outFile)
{
    await File.WriteAllTextAsync(outFile, markdown);
    Log($"wrote {outFile}");
}
else
{
    var scratch = Path.Combine(options.WorkDir, "RESULTS.md");
    await File.WriteAllTextAsync(scratch, markdown);
    Log($"wrote {scratch}");
}
return 0;
