using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;
using Roster.Infrastructure.Auth;

namespace Roster.Bench.Infrastructure;

/// <summary>Keys and secrets one bench run configures the service with (generated per run, never stored).</summary>
public sealed class BenchSecrets
{
    public const string Issuer = "roster-bench";
    public const string Audience = "roster-bench-api";

    public BenchSecrets()
    {
        using var rsa = RSA.Create(2048);
        SigningKeyPem = rsa.ExportPkcs8PrivateKeyPem();
        SigningKey = DevSigningKey.Parse(SigningKeyPem);
        WebhookSecret = "whsec_bench_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
    }

    public string SigningKeyPem { get; }
    public SecurityKey SigningKey { get; }
    public string WebhookSecret { get; }

    private static readonly AuthOptions TokenOptions = new() { Issuer = Issuer, Audience = Audience };

    public string Token(string sub, string email, string name, bool admin = false) =>
        TokenMinter.Mint(SigningKey, TokenOptions, new TokenRequest(sub, email, name, EmailVerified: true, PlatformAdmin: admin, Lifetime: TimeSpan.FromHours(6)));
}

/// <summary>
/// The real service, started from its built dll as a child process on 127.0.0.1 (real Kestrel, real sockets), so its
/// CPU and RSS are measured apart from the load driver. Stdout/stderr go to a log file in the scratch folder.
/// </summary>
public sealed class RosterProcess : IAsyncDisposable
{
    private readonly Process _process;

    private RosterProcess(Process process, Uri baseAddress, string logFile)
    {
        _process = process;
        BaseAddress = baseAddress;
        LogFile = logFile;
    }

    public Uri BaseAddress { get; }
    public string LogFile { get; }
    public int Pid => _process.Id;

    /// <param name="dll">Another build of the service (the baseline), or the read-path floor app (<see cref="ReadFloorApp"/>); default the service.</param>
    /// <param name="command">A first argument for that dll (the floor app's "read-floor").</param>
    public static async Task<RosterProcess> StartAsync(BenchOptions options, BenchSecrets secrets, Storage storage, string name,
        IReadOnlyDictionary<string, string>? extra = null, string? dll = null, string? command = null)
    {
        dll ??= options.RosterDll;
        var port = FreePort();
        var url = $"http://127.0.0.1:{port}";
        var log = Path.Combine(options.WorkDir, $"roster-{name}.log");
        var psi = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
            // The service reads appsettings.json from its content root: start it in its own folder.
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        // exec: the pid we hold is the dotnet process itself, so /proc/<pid> is the service.
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("exec dotnet \"$0\" $3 --urls \"$1\" >\"$2\" 2>&1");
        psi.ArgumentList.Add(dll);
        psi.ArgumentList.Add(url);
        psi.ArgumentList.Add(log);
        psi.ArgumentList.Add(command ?? "");
        foreach (var (key, value) in Environment(secrets, storage)) psi.Environment[key] = value;
        foreach (var (key, value) in options.ServiceEnvironment) psi.Environment[key] = value;
        foreach (var (key, value) in extra ?? new Dictionary<string, string>()) psi.Environment[key] = value;

        var process = Process.Start(psi) ?? throw new InvalidOperationException("Could not start the service.");
        // bench/run.sh stops whatever is listed here if the bench itself dies.
        await File.AppendAllTextAsync(Path.Combine(options.WorkDir, "service.pids"), process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\n");
        var roster = new RosterProcess(process, new Uri(url + "/"), log);
        using var probe = new HttpClient { BaseAddress = roster.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"The service exited with {process.ExitCode}; see {log}:\n{Tail(log)}");
            try
            {
                using var ready = await probe.GetAsync("health/ready");
                if (ready.StatusCode == HttpStatusCode.OK) return roster;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            if (DateTime.UtcNow > deadline)
            {
                await roster.DisposeAsync();
                throw new TimeoutException($"The service did not become ready; see {log}:\n{Tail(log)}");
            }
            await Task.Delay(200);
        }
    }

    /// <summary>Runs a CLI command of the service (e.g. migrate) against the storage and waits for it.</summary>
    public static async Task RunCommandAsync(BenchOptions options, BenchSecrets secrets, Storage storage, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(options.RosterDll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.ArgumentList.Add(options.RosterDll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (key, value) in Environment(secrets, storage)) psi.Environment[key] = value;
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"Roster {string.Join(' ', args)} failed ({process.ExitCode}): {await stdout}{await stderr}");
    }

    public static Dictionary<string, string> Environment(BenchSecrets secrets, Storage storage) => new()
    {
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
        ["Storage__Provider"] = storage.Provider,
        ["Storage__ConnectionString"] = storage.ConnectionString,
        ["Storage__MigrateOnStartup"] = "true",
        ["Auth__DevSigningKey"] = secrets.SigningKeyPem,
        ["Auth__Issuer"] = BenchSecrets.Issuer,
        ["Auth__Audience"] = BenchSecrets.Audience,
        ["WorkOS__WebhookSecret"] = secrets.WebhookSecret,
    };

    /// <summary>Resident set size of the service, from /proc/&lt;pid&gt;/status (kB → bytes).</summary>
    public long RssBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        return 0;
    }

    private bool _disposed;

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        if (_process.HasExited)
        {
            _process.Dispose();
            return;
        }
        // SIGTERM first (graceful shutdown), SIGKILL if it does not go.
        Shell.Run("kill", "-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await _process.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string Tail(string file) =>
        File.Exists(file) ? string.Join('\n', File.ReadLines(file).TakeLast(30)) : "(no log)";
}
