using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Roster.Tests.Reliability;

/// <summary>
/// A PostgreSQL cluster of a test's own, so it can be stopped abruptly without breaking the other tests: initdb into a
/// temp folder and pg_ctl start on a free loopback port, the way scripts/test.sh provisions the shared server. The
/// binaries come from <c>ROSTER_TEST_PG_BIN</c>; as root the cluster belongs to <c>ROSTER_TEST_PG_RUNAS</c> (PostgreSQL
/// refuses to run as root). scripts/test.sh sets both; without them the test fails loudly instead of being skipped.
/// </summary>
public sealed class PrivatePostgres : IDisposable
{
    public const string BinVariable = "ROSTER_TEST_PG_BIN";
    public const string RunAsVariable = "ROSTER_TEST_PG_RUNAS";

    private readonly string _bin;
    private readonly string? _runAs;
    private readonly string _folder;

    private PrivatePostgres(string bin, string? runAs, string folder, int port)
    {
        _bin = bin;
        _runAs = runAs;
        _folder = folder;
        Port = port;
    }

    public int Port { get; }

    private string DataFolder => Path.Combine(_folder, "data");
    private string LogFile => Path.Combine(_folder, "server.log");

    /// <summary>initdb's a new cluster (not started yet).</summary>
    public static PrivatePostgres Create()
    {
        var bin = Environment.GetEnvironmentVariable(BinVariable) is { Length: > 0 } b
            ? b
            : throw new InvalidOperationException(
                $"{BinVariable} is not set. The PostgreSQL fault tests start and stop a private cluster with the binaries " +
                "scripts/test.sh found: run scripts/test.sh (it sets it, and ROSTER_TEST_PG_RUNAS when run as root).");
        if (!File.Exists(Path.Combine(bin, "initdb")) || !File.Exists(Path.Combine(bin, "pg_ctl")))
            throw new InvalidOperationException($"{BinVariable}={bin} holds no initdb/pg_ctl.");
        var runAs = Environment.GetEnvironmentVariable(RunAsVariable) is { Length: > 0 } r ? r : null;
        if (runAs is null && Environment.UserName == "root")
            throw new InvalidOperationException($"Running as root, PostgreSQL needs another user: set {RunAsVariable} (scripts/test.sh does).");

        var folder = Directory.CreateTempSubdirectory("roster-pgfault-").FullName;
        var cluster = new PrivatePostgres(bin, runAs, folder, FreePort());
        if (runAs is not null) Run("chown", [runAs, folder], folder, TimeSpan.FromSeconds(30));
        cluster.Pg("initdb", ["-D", cluster.DataFolder, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale"], TimeSpan.FromSeconds(120));
        return cluster;
    }

    /// <summary>
    /// Starts (or restarts, with crash recovery) the server. fsync is off as in scripts/test.sh: an immediate stop kills
    /// processes, not the OS, so written WAL survives it. synchronous_commit stays on: a commit the server confirmed
    /// is in the WAL, which is what lets the tests demand that every answered 200 survives the crash.
    /// </summary>
    public void Start() => Start(maxConnections: 300);

    /// <summary>Starts the server with this many connection slots (PostgreSQL's own default is 100).</summary>
    public void Start(int maxConnections) =>
        Pg("pg_ctl", ["-D", DataFolder, "-l", LogFile, "-w", "-t", "60", "start", "-o",
            $"-p {Port} -k {_folder} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections={maxConnections}"],
            TimeSpan.FromSeconds(90));

    /// <summary>The abrupt stop: every server process is killed at once, open transactions die mid-flight.</summary>
    public void StopImmediately() =>
        Pg("pg_ctl", ["-D", DataFolder, "-m", "immediate", "-w", "-t", "60", "stop"], TimeSpan.FromSeconds(90));

    public string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = Port,
            Username = "postgres",
            Database = database,
            MaxPoolSize = 120,
        }.ToString();

    public void CreateDatabase(string name)
    {
        // Pooling off: this admin connection must not linger in a pool when the server goes away.
        using var admin = new NpgsqlConnection(ConnectionString("postgres") + ";Pooling=false");
        admin.Open();
        using var create = admin.CreateCommand();
        create.CommandText = $"CREATE DATABASE \"{name}\"";
        create.ExecuteNonQuery();
    }

    public string ServerLog => File.Exists(LogFile) ? File.ReadAllText(LogFile) : "(no server log)";

    public void Dispose()
    {
        try
        {
            if (File.Exists(Path.Combine(DataFolder, "postmaster.pid"))) StopImmediately();
        }
        catch (InvalidOperationException)
        {
            // Best effort: the folder goes anyway.
        }
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private void Pg(string tool, IReadOnlyList<string> arguments, TimeSpan timeout)
    {
        var exe = Path.Combine(_bin, tool);
        try
        {
            if (_runAs is null) Run(exe, arguments, _folder, timeout);
            else Run("runuser", ["-u", _runAs, "--", exe, .. arguments], _folder, timeout);
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidOperationException($"{ex.Message}\n--- server log ---\n{Tail(ServerLog)}", ex);
        }
    }

    private static string Tail(string text) => text.Length <= 4000 ? text : text[^4000..];

    private static void Run(string file, IReadOnlyList<string> arguments, string workingDirectory, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            // PostgreSQL tools complain when the current directory is not readable by the cluster's user.
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} did not finish within {timeout}.");
        }
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException(
                $"{file} {string.Join(' ', arguments)} exited with {process.ExitCode}: {stdout.Result} {stderr.Result}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
