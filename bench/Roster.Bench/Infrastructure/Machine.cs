using System.Diagnostics;
using System.Globalization;

namespace Roster.Bench.Infrastructure;

/// <summary>What the run was measured on: CPU, memory, OS, runtime, and how busy the machine was.</summary>
public sealed record MachineInfo(string Cpu, int Cores, string Memory, string Os, string Dotnet, string? Postgres, string Uptime, string Top)
{
    public static MachineInfo Capture(string? postgresVersion)
    {
        var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        var os = File.Exists("/etc/os-release")
            ? File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?.Split('=', 2)[1].Trim('"') ?? "Linux"
            : "Linux";
        return new MachineInfo(cpu, Environment.ProcessorCount, Shell.Run("free", "-h").Trim(), $"{os}, kernel {Shell.Run("uname", "-r").Trim()}",
            Shell.Run("dotnet", "--version").Trim(), postgresVersion, CurrentUptime(), CurrentTop());
    }

    public static string CurrentUptime() => Shell.Run("uptime").Trim();

    /// <summary>The busiest processes right now (other agents' test suites show up here).</summary>
    public static string CurrentTop()
    {
        var lines = Shell.Run("top", "-bn1", "-w", "160").Split('\n');
        return string.Join('\n', lines.Take(18)).TrimEnd();
    }
}

public static class Shell
{
    public static string Run(string file, params string[] args)
    {
        try
        {
            var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return output;
        }
        catch (Exception ex)
        {
            return $"({file} unavailable: {ex.Message})";
        }
    }
}

/// <summary>
/// CPU seconds spent by the service process, the load driver (this process), our PostgreSQL cluster and everything
/// else on the machine, between two snapshots. On a 2-core box this is the profile that says where the time goes.
/// </summary>
public sealed class CpuMeter(int? appPid, int? postmasterPid)
{
    private const double TicksPerSecond = 100.0; // getconf CLK_TCK on Linux

    public CpuSnapshot Take() => new(
        Stopwatch.GetTimestamp(),
        MachineBusy(),
        appPid is { } a ? ProcessTicks(a) : 0,
        appPid is { } p ? RuntimeThreadTicks(p) : new Dictionary<int, (bool, long)>(),
        ProcessTicks(Environment.ProcessId),
        postmasterPid is { } pm ? ClusterTicks(pm) : 0);

    public static CpuUse Between(CpuSnapshot a, CpuSnapshot b)
    {
        // Runtime threads come and go (the tiered-JIT thread exits when idle): count what each thread alive at the end
        // did since the start (or since it began); a thread that ended in between is missed, never counted negative.
        double jit = 0, gc = 0;
        foreach (var (tid, (isJit, ticks)) in b.RuntimeThreads)
        {
            var delta = ticks - (a.RuntimeThreads.TryGetValue(tid, out var before) ? before.Ticks : 0);
            if (isJit) jit += delta;
            else gc += delta;
        }
        return new(
            Stopwatch.GetElapsedTime(a.At, b.At).TotalSeconds,
            (b.App - a.App) / TicksPerSecond,
            (b.Driver - a.Driver) / TicksPerSecond,
            (b.Postgres - a.Postgres) / TicksPerSecond,
            Math.Max(0, (b.MachineBusy - a.MachineBusy) / TicksPerSecond - (b.App - a.App + b.Driver - a.Driver + b.Postgres - a.Postgres) / TicksPerSecond),
            jit / TicksPerSecond,
            gc / TicksPerSecond);
    }

    /// <summary>Ticks of the service's tiered-JIT thread(s) and GC threads, by thread id (the runtime names them).</summary>
    private static Dictionary<int, (bool IsJit, long Ticks)> RuntimeThreadTicks(int pid)
    {
        var threads = new Dictionary<int, (bool, long)>();
        try
        {
            foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                try
                {
                    var comm = File.ReadAllText(Path.Combine(task, "comm")).Trim();
                    var isJit = comm.StartsWith(".NET Tiered", StringComparison.Ordinal);
                    var isGc = comm.Contains("GC", StringComparison.Ordinal);
                    if (!isJit && !isGc) continue;
                    var stat = File.ReadAllText(Path.Combine(task, "stat"));
                    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                    var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                    threads[int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture)] = (isJit, ticks);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
                {
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
        return threads;
    }

    /// <summary>utime+stime of one process, in clock ticks (0 if it is gone).</summary>
    public static long ProcessTicks(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // fields[0] is state (field 3); utime is field 14, stime field 15 → indexes 11 and 12.
            return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return 0;
        }
    }

    /// <summary>The postmaster and its children (backends, checkpointer, autovacuum …).</summary>
    private static long ClusterTicks(int postmaster)
    {
        long total = ProcessTicks(postmaster);
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            var name = Path.GetFileName(dir);
            if (!int.TryParse(name, out var pid) || pid == postmaster) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1], CultureInfo.InvariantCulture) != postmaster) continue;
                total += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
            }
        }
        return total;
    }

    private static long MachineBusy()
    {
        var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // user nice system idle iowait irq softirq steal
        long v(int i) => long.Parse(cpu[i], CultureInfo.InvariantCulture);
        return v(1) + v(2) + v(3) + v(6) + v(7) + v(8);
    }
}

public readonly record struct CpuSnapshot(long At, long MachineBusy, long App, IReadOnlyDictionary<int, (bool IsJit, long Ticks)> RuntimeThreads, long Driver, long Postgres);

/// <summary>CPU seconds per component over <see cref="Wall"/> seconds (AppJit and AppGc are parts of App).</summary>
public sealed record CpuUse(double Wall, double App, double Driver, double Postgres, double Other, double AppJit, double AppGc)
{
    public double Total => App + Driver + Postgres + Other;
    public static CpuUse operator +(CpuUse a, CpuUse b) =>
        new(a.Wall + b.Wall, a.App + b.App, a.Driver + b.Driver, a.Postgres + b.Postgres, a.Other + b.Other, a.AppJit + b.AppJit, a.AppGc + b.AppGc);
    public static readonly CpuUse Zero = new(0, 0, 0, 0, 0, 0, 0);
}
