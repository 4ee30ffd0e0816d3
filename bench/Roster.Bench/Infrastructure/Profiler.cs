using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers;

namespace Roster.Bench.Infrastructure;

public sealed record ProfileShare(string Name, double Percent);

/// <summary>Where the service's managed CPU went during a profiled phase.</summary>
public sealed record CpuProfile(string Phase, int Samples, double Seconds, int Collections, int Operations,
    IReadOnlyList<ProfileShare> Components, IReadOnlyList<ProfileShare> Methods);

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
