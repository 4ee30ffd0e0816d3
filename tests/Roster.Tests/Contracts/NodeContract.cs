using System.Diagnostics;
using System.Text;

namespace Roster.Tests.Contracts;

/// <summary>
/// Runs one script of the Node contract suite (<c>tests/contracts</c>, the vendors' official SDKs pinned by its lock
/// file) as a child process and returns what it printed. The .NET side starts the fakes and Roster; the script drives
/// them with the SDK and prints its findings (JSON on stdout) or exits non-zero with the SDK's complaint.
/// <c>scripts/test.sh</c> runs <c>npm ci</c> there and exports <c>ROSTER_CONTRACTS_DIR</c>; without installed packages
/// these tests fail (never skip).
/// </summary>
public static class NodeContract
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public Result EnsureSuccess()
        {
            if (ExitCode != 0)
                throw new Xunit.Sdk.XunitException($"contract script failed (exit {ExitCode})\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
            return this;
        }
    }

    public static string Directory { get; } = FindDirectory();

    private static string FindDirectory()
    {
        var fromEnv = Environment.GetEnvironmentVariable("ROSTER_CONTRACTS_DIR");
        if (!string.IsNullOrEmpty(fromEnv)) return fromEnv;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "contracts");
            if (File.Exists(Path.Combine(candidate, "package.json"))) return candidate;
        }
        throw new InvalidOperationException("tests/contracts not found; set ROSTER_CONTRACTS_DIR");
    }

    /// <summary>Runs <c>node &lt;script&gt; args…</c> in the contract folder with the given environment and stdin.</summary>
    public static async Task<Result> RunAsync(string script, IReadOnlyDictionary<string, string>? env = null,
        string? stdin = null, IEnumerable<string>? args = null, TimeSpan? timeout = null)
    {
        if (!System.IO.Directory.Exists(Path.Combine(Directory, "node_modules")))
            throw new InvalidOperationException($"{Directory}/node_modules is missing: run `npm ci` there (scripts/test.sh does)");
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = Directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add(script);
        foreach (var arg in args ?? []) start.ArgumentList.Add(arg);
        start.Environment["NODE_NO_WARNINGS"] = "1";
        foreach (var (key, value) in env ?? new Dictionary<string, string>()) start.Environment[key] = value;

        using var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null) await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try { await process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"node {script} did not finish in time\nstdout:\n{await stdout}\nstderr:\n{await stderr}");
        }
        return new Result(process.ExitCode, await stdout, await stderr);
    }
}
