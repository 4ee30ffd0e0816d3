using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Roster.Bench.Infrastructure;

namespace Roster.Bench.Micro;

public sealed record MicroRow(string Benchmark, string Parameters, double MeanNs, double ErrorNs, long AllocatedBytes);

public sealed record MicroResult(IReadOnlyList<MicroRow> Rows, string Job);

/// <summary>
/// Benchmark 5: BenchmarkDotNet, in-process (no generated projects to restore), with the memory diagnoser so every
/// row reports bytes allocated per operation.
/// </summary>
public static class MicroRunner
{
    public static MicroResult Run(BenchOptions o, Action<string> log)
    {
        SeatLedgerBenchmarks.Options = o;
        var job = Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithLaunchCount(1)
            .WithWarmupCount(o.MicroQuick ? 2 : 4)
            .WithIterationCount(o.MicroQuick ? 4 : 8)
            .WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(o.MicroQuick ? 100 : 250));
        var config = ManualConfig.CreateEmpty()
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .AddLogger(new FilteredLogger(log))
            .WithArtifactsPath(Path.Combine(o.WorkDir, "BenchmarkDotNet.Artifacts"))
            .WithOptions(ConfigOptions.DisableLogFile | ConfigOptions.JoinSummary);
        var summaries = new[] { BenchmarkRunner.Run<SignatureBenchmarks>(config), BenchmarkRunner.Run<SeatLedgerBenchmarks>(config) };
        var rows = new List<MicroRow>();
        foreach (var summary in summaries)
            foreach (var report in summary.Reports)
            {
                var c = report.BenchmarkCase;
                var stats = report.ResultStatistics;
                rows.Add(new MicroRow(
                    $"{c.Descriptor.Type.Name}.{c.Descriptor.WorkloadMethodDisplayInfo}",
                    c.HasParameters ? c.Parameters.DisplayInfo : "",
                    stats?.Mean ?? double.NaN,
                    stats?.ConfidenceInterval.Margin ?? double.NaN,
                    report.GcStats.GetBytesAllocatedPerOperation(c) ?? -1));
            }
        return new MicroResult(rows, $"BenchmarkDotNet {typeof(BenchmarkRunner).Assembly.GetName().Version}, in-process emit toolchain, " +
                                     $"{job.Run.WarmupCount} warm-up + {job.Run.IterationCount} measured iterations of ≥{job.Run.IterationTime} each, MemoryDiagnoser");
    }

    /// <summary>Passes BenchmarkDotNet's result lines through and drops its per-iteration chatter.</summary>
    private sealed class FilteredLogger(Action<string> log) : ILogger
    {
        private readonly System.Text.StringBuilder _line = new();
        public string Id => nameof(FilteredLogger);
        public int Priority => 0;
        public void Write(LogKind logKind, string text) => _line.Append(text);
        public void WriteLine() => Flush(LogKind.Default);
        public void WriteLine(LogKind logKind, string text)
        {
            _line.Append(text);
            Flush(logKind);
        }
        public void Flush() { }

        private void Flush(LogKind kind)
        {
            var text = _line.ToString();
            _line.Clear();
            if (kind is LogKind.Error or LogKind.Header || text.Contains("Exception", StringComparison.Ordinal) || text.StartsWith("// ***", StringComparison.Ordinal) || text.StartsWith('|'))
                log("micro: " + text);
        }
    }
}
