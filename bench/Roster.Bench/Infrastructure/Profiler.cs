using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers;

namespace Roster.Bench.Infrastructure;

public sealed record ProfileShare(string Name, double Percent);

/// <summary>Where the service's managed CPU went during a profiled phase.</summary>
public sealed record CpuProfile(string Phase, int Samples, double Seconds, int Collections, int Operations,
    IReadOnlyList<ProfileShare> Components, IReadOnlyList<ProfileShare> Methods)
{
    /// <summary>perf's split of all the service's CPU (kernel and native runtime included) by code region; null without perf.</summary>
    public IReadOnlyList<ProfileShare>? Native { get; init; }
    public int NativeSamples { get; init; }
}

/// <summary>
/// A CPU-sampling profile of the service process taken from outside, over EventPipe (the runtime's own sample profiler,
/// what dotnet-trace's cpu-sampling profile uses), while the load driver runs. Each sample of a thread running managed
/// code is charged to the library it is in: the first frame from the leaf up that belongs to a known component
/// (Npgsql, EF Core, ASP.NET Core, JSON, logging, the service's own code, …), so BCL helpers count for their caller.
/// </summary>
public static class Profiler
{
    private static readonly (string Prefix, string Component)[] Components =
    [
        ("Npgsql", "Npgsql (PostgreSQL driver)"),
        ("Microsoft.Data.Sqlite", "Microsoft.Data.Sqlite"),
        ("SQLitePCL", "Microsoft.Data.Sqlite"),
        ("Microsoft.EntityFrameworkCore", "EF Core"),
        ("Microsoft.AspNetCore.Server.Kestrel", "Kestrel (HTTP server)"),
        ("Microsoft.AspNetCore.Authentication", "authentication (JWT bearer)"),
        ("Microsoft.IdentityModel", "authentication (JWT bearer)"),
        ("System.IdentityModel", "authentication (JWT bearer)"),
        ("Microsoft.AspNetCore", "ASP.NET Core (routing, middleware, results)"),
        ("Microsoft.Extensions.Logging", "logging"),
        ("Microsoft.Extensions.DependencyInjection", "dependency injection"),
        ("System.Text.Json", "System.Text.Json"),
        ("System.Security.Cryptography", "cryptography (HMAC, RSA)"),
        ("Roster", "Roster (the service's own code)"),
        ("FluentValidation", "FluentValidation"),
        ("System.Net.Sockets", "sockets"),
        ("System.Net", "sockets"),
        ("System.Linq.Expressions", "expression trees (EF query cache keys)"),
        ("System.Linq", "LINQ"),
    ];

    public static async Task<CpuProfile> SampleAsync(int pid, string phase, string workDir, Func<Task<int>> load)
    {
        var (native, nativeSamples) = await PerfAsync(pid, workDir, load);
        var managed = await EventPipeAsync(pid, phase, workDir, load);
        return managed with { Native = native, NativeSamples = nativeSamples };
    }

    /// <summary>
    /// `perf record -p &lt;service&gt;` (cpu-clock, 499 Hz) over one load phase, reported by shared object: JIT-compiled
    /// code, the CLR runtime, the JIT compiler, the kernel (syscalls), ReadyToRun framework code, libc. Unlike the
    /// EventPipe sampler it sees everything the process spends CPU on, and it does not stop the process to sample.
    /// </summary>
    private static async Task<(IReadOnlyList<ProfileShare>?, int)> PerfAsync(int pid, string workDir, Func<Task<int>> load)
    {
        if (!File.Exists("/usr/bin/perf") && !File.Exists("/usr/local/bin/perf")) return (null, 0);
        var data = Path.Combine(workDir, $"perf-{pid}.data");
        try
        {
            var record = new System.Diagnostics.ProcessStartInfo("perf") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "record", "-F", "499", "-p", pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "-o", data, "--", "sleep", "4" })
                record.ArgumentList.Add(a);
            using var perf = System.Diagnostics.Process.Start(record)!;
            var drain = perf.StandardError.ReadToEndAsync();
            await load();
            await perf.WaitForExitAsync();
            await drain;
            if (perf.ExitCode != 0 || !File.Exists(data)) return (null, 0);
            var report = Shell.Run("perf", "report", "-i", data, "--stdio", "--no-children", "--sort", "dso", "-g", "none");
            var shares = new Dictionary<string, double>(StringComparer.Ordinal);
            var samples = 0;
            foreach (var line in report.Split('\n'))
            {
                var t = line.Trim();
                if (t.StartsWith("# Samples:", StringComparison.Ordinal))
                    _ = int.TryParse(t["# Samples:".Length..].Trim().Split(' ')[0], out samples);
                if (t.StartsWith('#') || !t.Contains('%')) continue;
                var parts = t.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                if (parts.Length < 2 || !double.TryParse(parts[0].TrimEnd('%'), System.Globalization.CultureInfo.InvariantCulture, out var pct)) continue;
                var region = Region(parts[1]);
                shares[region] = shares.GetValueOrDefault(region) + pct;
            }
            return (shares.OrderByDescending(kv => kv.Value).Select(kv => new ProfileShare(kv.Key, kv.Value)).ToList(), samples);
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or IOException or InvalidOperationException)
        {
            return (null, 0);
        }
        finally
        {
            if (File.Exists(data)) File.Delete(data);
        }
    }

    private static string Region(string dso) => dso switch
    {
        _ when dso.StartsWith("memfd:doublemapper", StringComparison.Ordinal) || dso.StartsWith("[JIT]", StringComparison.Ordinal) || dso.StartsWith("perf-", StringComparison.Ordinal)
            => "JIT-compiled managed code (EF Core, Npgsql, ASP.NET Core once re-jitted, the service)",
        "libcoreclr.so" => "CLR runtime native code (GC, allocation/cast/generic-lookup helpers, stubs, locks, thread-pool waits)",
        "libclrjit.so" => "JIT compiler (tiered re-compilation)",
        "[kernel.kallsyms]" => "kernel (socket syscalls incl. loopback TCP to PostgreSQL, futex, scheduling)",
        "libSystem.Native.so" => "System.Native (syscall shims)",
        _ when dso.EndsWith(".dll", StringComparison.Ordinal) => "ReadyToRun framework code (CoreLib, ASP.NET Core, … before re-jit)",
        _ when dso.StartsWith("libc.so", StringComparison.Ordinal) || dso.StartsWith("ld-linux", StringComparison.Ordinal) => "libc and loader",
        _ => dso,
    };

    private static async Task<CpuProfile> EventPipeAsync(int pid, string phase, string workDir, Func<Task<int>> load)
    {
        var file = Path.Combine(workDir, $"profile-{phase.Replace(' ', '-').Replace('/', '-')}.nettrace");
        var providers = new List<EventPipeProvider>
        {
            new("Microsoft-DotNETCore-SampleProfiler", EventLevel.Informational),
            // Method load events, so the sampled addresses resolve to method names.
            new("Microsoft-Windows-DotNETRuntime", EventLevel.Informational, (long)ClrTraceEventParser.Keywords.Default),
        };
        var client = new DiagnosticsClient(pid);
        var started = DateTime.UtcNow;
        var operations = 0;
        using (var session = client.StartEventPipeSession(providers, requestRundown: true, circularBufferMB: 512))
        {
            await using var output = File.Create(file);
            var copy = session.EventStream.CopyToAsync(output);
            operations = await load();
            await session.StopAsync(CancellationToken.None);
            await copy;
        }
        var seconds = (DateTime.UtcNow - started).TotalSeconds;
        return Analyze(file, phase, seconds, operations);
    }

    private static CpuProfile Analyze(string nettrace, string phase, double seconds, int operations)
    {
        var etlx = TraceLog.CreateFromEventPipeDataFile(nettrace);
        using var log = new TraceLog(etlx);
        var byComponent = new Dictionary<string, int>(StringComparer.Ordinal);
        var byMethod = new Dictionary<string, int>(StringComparer.Ordinal);
        var samples = 0;
        var gcs = 0;
        foreach (var e in log.Events)
        {
            if (e.EventName == "GC/Start")
            {
                gcs++;
                continue;
            }
            if (e.ProviderName != "Microsoft-DotNETCore-SampleProfiler" || e.EventName != "Thread/Sample") continue;
            // Managed = the thread was running managed code (External: waiting, in native code or in a syscall).
            if (e.PayloadByName("Type")?.ToString() != "Managed") continue;
            var frame = e.CallStack();
            if (frame is null) continue;
            samples++;
            string? component = null, method = null;
            for (var f = frame; f is not null; f = f.Caller)
            {
                var name = f.CodeAddress.FullMethodName;
                if (string.IsNullOrEmpty(name)) continue;
                foreach (var (prefix, c) in Components)
                {
                    if (!name.StartsWith(prefix, StringComparison.Ordinal)) continue;
                    component = c;
                    method = Shorten(name);
                    break;
                }
                if (component is not null) break;
            }
            component ??= "runtime and BCL (thread pool, async machinery, collections)";
            method ??= Shorten(frame.CodeAddress.FullMethodName is { Length: > 0 } leaf ? leaf : "?");
            byComponent[component] = byComponent.GetValueOrDefault(component) + 1;
            byMethod[method] = byMethod.GetValueOrDefault(method) + 1;
        }
        try
        {
            File.Delete(etlx);
        }
        catch (IOException)
        {
        }
        double Pct(int n) => samples == 0 ? 0 : 100.0 * n / samples;
        return new CpuProfile(phase, samples, seconds, gcs, operations,
            byComponent.OrderByDescending(kv => kv.Value).Select(kv => new ProfileShare(kv.Key, Pct(kv.Value))).ToList(),
            byMethod.OrderByDescending(kv => kv.Value).Take(25).Select(kv => new ProfileShare(kv.Key, Pct(kv.Value))).ToList());
    }

    private static string Shorten(string method)
    {
        var paren = method.IndexOf('(');
        var name = paren > 0 ? method[..paren] : method;
        return name.Length > 140 ? name[..140] + "…" : name;
    }
}
