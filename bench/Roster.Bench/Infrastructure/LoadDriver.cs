using System.Diagnostics;

namespace Roster.Bench.Infrastructure;

/// <summary>One operation of a load run: returns false (or throws) when the answer was not the expected one.</summary>
public delegate Task<bool> Operation(int worker, CancellationToken ct);

/// <summary>
/// A closed-loop load driver: <c>concurrency</c> workers each run the operation back to back for a fixed time and
/// record every request's latency. Throughput is completed operations over the measured wall time.
/// </summary>
public static class LoadDriver
{
    /// <param name="dedicatedThreads">One OS thread per worker: for a provider whose "async" calls complete synchronously
    /// (Microsoft.Data.Sqlite), so <paramref name="concurrency"/> transactions really are in flight at once instead of as
    /// many as the thread pool happens to have threads.</param>
    public static async Task<LoadResult> RunAsync(string name, int concurrency, TimeSpan duration, Operation operation, CpuMeter? cpu = null,
        bool dedicatedThreads = false)
    {
        var latencies = new List<double>[concurrency];
        var errors = new long[concurrency];
        var firstError = (string?)null;
        using var stop = new CancellationTokenSource();
        var before = cpu?.Take();
        var started = Stopwatch.GetTimestamp();
        Func<Func<Task>, Task> start = dedicatedThreads
            ? body =>
            {
                var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                var thread = new Thread(() =>
                {
                    try
                    {
                        body().GetAwaiter().GetResult();
                        done.SetResult();
                    }
                    catch (Exception ex)
                    {
                        done.SetException(ex);
                    }
                }) { IsBackground = true, Name = "floor worker" };
                thread.Start();
                return done.Task;
            }
            : Task.Run;
        var workers = Enumerable.Range(0, concurrency).Select(w => start(async () =>
        {
            var mine = latencies[w] = new List<double>(16_384);
            while (!stop.IsCancellationRequested)
            {
                var t0 = Stopwatch.GetTimestamp();
                bool ok;
                try
                {
                    ok = await operation(w, CancellationToken.None);
                }
                catch (Exception ex)
                {
                    ok = false;
                    Interlocked.CompareExchange(ref firstError, $"{ex.GetType().Name}: {ex.Message}", null);
                }
                var ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                if (ok) mine.Add(ms);
                else
                {
                    errors[w]++;
                    Interlocked.CompareExchange(ref firstError, "an operation returned an unexpected answer", null);
                }
            }
        })).ToArray();
        stop.CancelAfter(duration);
        await Task.WhenAll(workers);
        var wall = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var after = cpu?.Take();
        var all = latencies.SelectMany(l => l).ToArray();
        return new LoadResult(name, concurrency, wall, all, errors.Sum(), firstError,
            before is { } b && after is { } a ? CpuMeter.Between(b, a) : null);
    }

    /// <summary>
    /// One request at a time, alternating between the operations in a random order per turn, each latency recorded
    /// against its operation: consecutive requests see the same machine, so drift and noise hit every side alike.
    /// </summary>
    public static async Task<LoadResult[]> RunInterleavedAsync(string name, TimeSpan duration, params Operation[] operations)
    {
        var latencies = operations.Select(_ => new List<double>(8192)).ToArray();
        var errors = new long[operations.Length];
        var busy = new double[operations.Length];
        string? firstError = null;
        var order = Enumerable.Range(0, operations.Length).ToArray();
        var started = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(started) < duration)
        {
            Random.Shared.Shuffle(order);
            foreach (var i in order)
            {
                var t0 = Stopwatch.GetTimestamp();
                bool ok;
                try
                {
                    ok = await operations[i](0, CancellationToken.None);
                }
                catch (Exception ex)
                {
                    ok = false;
                    firstError ??= $"{ex.GetType().Name}: {ex.Message}";
                }
                var ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                busy[i] += ms / 1000;
                if (ok) latencies[i].Add(ms);
                else
                {
                    errors[i]++;
                    firstError ??= "an operation returned an unexpected answer";
                }
            }
        }
        return operations.Select((_, i) => new LoadResult(name, 1, busy[i], latencies[i].ToArray(), errors[i], firstError, null)).ToArray();
    }

    /// <summary>Runs the operation without recording anything (JIT, pools, caches).</summary>
    public static Task WarmAsync(int concurrency, TimeSpan duration, Operation operation, bool dedicatedThreads = false) =>
        RunAsync("warm-up", concurrency, duration, operation, dedicatedThreads: dedicatedThreads);

    /// <summary>
    /// Warms the service until it has settled. Tier-up (tier 0 → instrumented → tier 1) runs on a background thread
    /// that a saturated 2-core machine starves, so the settling runs at low concurrency (at most 4 workers), where the
    /// JIT gets CPU: at least <paramref name="minimum"/>, then in 3-second steps until a step is no faster than the one
    /// before (within 5%) while the service's tiered-compilation thread used under 5% of a core, or
    /// <paramref name="maximum"/>; then 3 seconds at full concurrency (connection pools, thread pool).
    /// </summary>
    public static async Task<double> WarmServiceAsync(int concurrency, TimeSpan minimum, TimeSpan maximum, Operation operation, int servicePid)
    {
        var clock = Stopwatch.StartNew();
        var low = Math.Min(concurrency, 4);
        await RunAsync("warm-up", low, minimum, operation);
        var meter = new CpuMeter(servicePid, null);
        var previous = 0.0;
        while (clock.Elapsed < maximum)
        {
            var before = meter.Take();
            var step = await RunAsync("warm-up", low, TimeSpan.FromSeconds(3), operation);
            var use = CpuMeter.Between(before, meter.Take());
            if (use.AppJit / use.Wall < 0.05 && step.PerSecond < previous * 1.05) break;
            previous = Math.Max(previous, step.PerSecond);
        }
        await RunAsync("warm-up", concurrency, TimeSpan.FromSeconds(3), operation);
        return clock.Elapsed.TotalSeconds;
    }
}

public sealed class LoadResult
{
    public LoadResult(string name, int concurrency, double seconds, double[] latencies, long errors, string? firstError, CpuUse? cpu)
    {
        Name = name;
        Concurrency = concurrency;
        Seconds = seconds;
        Latencies = latencies;
        Array.Sort(Latencies);
        Errors = errors;
        FirstError = firstError;
        Cpu = cpu;
    }

    public string Name { get; }
    public int Concurrency { get; }
    public double Seconds { get; }
    public double[] Latencies { get; }
    public long Errors { get; }
    public string? FirstError { get; }
    public CpuUse? Cpu { get; }

    public long Count => Latencies.Length;
    public double PerSecond => Count / Seconds;
    public double P50 => Percentile(0.50);
    public double P99 => Percentile(0.99);
    public double Mean => Latencies.Length == 0 ? double.NaN : Latencies.Average();

    public double Percentile(double p)
    {
        if (Latencies.Length == 0) return double.NaN;
        var rank = p * (Latencies.Length - 1);
        var lo = (int)Math.Floor(rank);
        var hi = (int)Math.Ceiling(rank);
        return Latencies[lo] + (Latencies[hi] - Latencies[lo]) * (rank - lo);
    }

    /// <summary>Pools several rounds of the same phase into one result (latencies together, time and CPU summed).</summary>
    public static LoadResult Combine(string name, IReadOnlyList<LoadResult> rounds) => new(
        name,
        rounds[0].Concurrency,
        rounds.Sum(r => r.Seconds),
        rounds.SelectMany(r => r.Latencies).ToArray(),
        rounds.Sum(r => r.Errors),
        rounds.Select(r => r.FirstError).FirstOrDefault(e => e is not null),
        rounds.All(r => r.Cpu is not null) ? rounds.Select(r => r.Cpu!).Aggregate(CpuUse.Zero, (a, b) => a + b) : null);
}
