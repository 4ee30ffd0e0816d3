using System.Diagnostics;
using System.Globalization;
using FsCheck;
using Xunit.Abstractions;

namespace Roster.Tests.Reliability;

/// <summary>
/// Runs an FsCheck property from a plain [Fact] (FsCheck.Xunit is not on the package feed) with a seed that is fixed
/// per property, so a failure reproduces on the next run. <c>ROSTER_FUZZ_SEED=&lt;number&gt;</c> replays another seed,
/// <c>ROSTER_FUZZ_SEED=random</c> draws a new one; either way the seed is printed, and named again in the failure.
/// </summary>
public static class PropertyRun
{
    public const string SeedVariable = "ROSTER_FUZZ_SEED";

    public static ulong Seed(ulong fixedSeed)
    {
        var configured = Environment.GetEnvironmentVariable(SeedVariable);
        if (string.IsNullOrWhiteSpace(configured)) return fixedSeed;
        if (string.Equals(configured, "random", StringComparison.OrdinalIgnoreCase)) return (ulong)Random.Shared.NextInt64(1, long.MaxValue);
        return ulong.Parse(configured, NumberStyles.None, CultureInfo.InvariantCulture);
    }

    /// <summary>Checks <paramref name="property"/> on <paramref name="maxTest"/> generated cases; throws (naming the seed) on the first counter-example.</summary>
    public static async Task CheckAsync(string name, ulong seed, int maxTest, Property property, ITestOutputHelper output,
        int endSize = 100)
    {
        var rnd = new Rnd(seed);
        var config = Config.QuickThrowOnFailure
            .WithName(name)
            .WithMaxTest(maxTest)
            .WithEndSize(endSize)
            .WithQuietOnSuccess(true)
            .WithReplay(rnd.Seed, rnd.Gamma);
        output.WriteLine($"{name}: seed {seed} ({SeedVariable}={seed} replays it), {maxTest} cases");
        var clock = Stopwatch.StartNew();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        try
        {
            // FsCheck waits for Task properties synchronously; off the test's synchronization context nothing can deadlock.
            await Task.Run(() => Check.One(config, property));
        }
        catch (Exception ex)
        {
            throw new PropertyFailedException(
                $"{name} failed with seed {seed}; replay it with {SeedVariable}={seed}.{Environment.NewLine}{ex.Message}");
        }
        // CPU time is the whole test process's (other test classes running alongside included): a guide for sizing maxTest.
        output.WriteLine($"{name}: {maxTest} cases passed in {clock.Elapsed.TotalSeconds:F1}s " +
                         $"(process CPU {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds:F1}s)");
    }
}

/// <summary>FsCheck's report (counter-example, shrinks, the failing assertion) under the seed that reproduces it.</summary>
public sealed class PropertyFailedException(string message) : Exception(message);

/// <summary>DESIGN.md section 5: every error is application/problem+json with a machine-readable code.</summary>
public static class ProblemBody
{
    /// <summary>Null when the response is a well-formed problem with a non-empty string code; else what is wrong with it.</summary>
    public static string? Defect(int status, string? mediaType, string body)
    {
        if (mediaType != "application/problem+json") return $"not a problem document ({mediaType ?? "no content type"})";
        System.Text.Json.Nodes.JsonNode? problem;
        try
        {
            problem = System.Text.Json.Nodes.JsonNode.Parse(body);
        }
        catch (System.Text.Json.JsonException)
        {
            return "a problem that is not JSON";
        }
        if (problem is not System.Text.Json.Nodes.JsonObject o) return "a problem that is not a JSON object";
        if (o["code"] is not System.Text.Json.Nodes.JsonValue v || !v.TryGetValue<string>(out var code) || string.IsNullOrWhiteSpace(code))
            return "a problem without a code";
        if (o["status"] is System.Text.Json.Nodes.JsonValue s && s.TryGetValue<int>(out var declared) && declared != status)
            return $"a problem whose status ({declared}) is not the response's";
        return null;
    }
}
