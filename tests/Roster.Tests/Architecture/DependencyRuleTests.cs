namespace Roster.Tests.Architecture;

/// <summary>
/// Dependencies point one way: Infrastructure (shared: data, seats, outbox, WorkOS client and envelope, …) never uses a
/// feature, and no feature folders use each other in a cycle. Read from the compiled Roster assembly (signatures and
/// IL), so a new edge fails here naming the type and member that made it.
/// </summary>
public class DependencyRuleTests
{
    private static readonly IReadOnlyList<DependencyGraph.Edge> Edges = DependencyGraph.Edges(typeof(Program).Assembly);

    private static string Describe(IEnumerable<DependencyGraph.Edge> edges) =>
        string.Join(Environment.NewLine, edges.DistinctBy(e => (e.Where, e.Target)).OrderBy(e => e.ToString(), StringComparer.Ordinal)
            .Select(e => "  " + e));

    [Fact]
    public void InfrastructureNeverUsesAFeature()
    {
        var wrong = Edges.Where(e => e.From == "Roster.Infrastructure" && e.To.StartsWith("Roster.Features.", StringComparison.Ordinal)).ToList();
        Assert.True(wrong.Count == 0,
            "Infrastructure must not use Features (move the type to Infrastructure, or invert the edge with an interface there):"
            + Environment.NewLine + Describe(wrong));
    }

    [Fact]
    public void InfrastructureSourceNamesNoFeatureEvenWhereTheCompilerLeavesNoTrace()
    {
        // A const (e.g. a feature's meter name) is copied into the caller's IL, so the reader above cannot see it; the source can.
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Api.sln"))) root = root.Parent;
        Assert.True(root is not null, "Api.sln not found above " + AppContext.BaseDirectory);
        var mentions = Directory.EnumerateFiles(Path.Combine(root.FullName, "src", "Infrastructure"), "*.cs", SearchOption.AllDirectories)
            .SelectMany(file => File.ReadLines(file).Select((line, i) => (file, line, i)))
            .Where(x => System.Text.RegularExpressions.Regex.IsMatch(x.line, @"(^using Roster\.Features|Roster\.Features\.|(?<![\w"".])Features\.[A-Z]\w*\.)"))
            .Select(x => $"  {Path.GetRelativePath(root.FullName, x.file)}:{x.i + 1}: {x.line.Trim()}")
            .ToList();
        Assert.True(mentions.Count == 0, "Infrastructure source names a feature:" + Environment.NewLine + string.Join(Environment.NewLine, mentions));
    }

    [Fact]
    public void NoFeatureFoldersDependOnEachOtherInACycle()
    {
        var between = Edges.Where(e => e.From.StartsWith("Roster.Features.", StringComparison.Ordinal)
                                       && e.To.StartsWith("Roster.Features.", StringComparison.Ordinal)).ToList();
        var cycles = DependencyGraph.Cycles(between.Select(e => (e.From, e.To)));
        var message = string.Join(Environment.NewLine, cycles.Select(cycle =>
            $"Cycle between {string.Join(", ", cycle)}:" + Environment.NewLine
            + Describe(between.Where(e => cycle.Contains(e.From) && cycle.Contains(e.To)))));
        Assert.True(cycles.Count == 0, "Feature folders depend on each other in a cycle (move the shared part to Infrastructure):"
                                       + Environment.NewLine + message);
    }

    [Fact]
    public void TheReaderSeesAUseThatOnlyAMethodBodyMakes()
    {
        // EventSync resolves the webhook processor from a scope inside a method (GetRequiredService<WebhookProcessor>);
        // no signature names it. If the IL reading broke, the two rules above would pass on anything.
        Assert.Contains(Edges, e => e.From == "Roster.Features.WorkOsSync" && e.To == "Roster.Features.WebhookIngest"
                                    && e.Where.StartsWith("Roster.Features.WorkOsSync.EventSync", StringComparison.Ordinal)
                                    && e.Target == "Roster.Features.WebhookIngest.WebhookProcessor");
        // Infrastructure's own uses are seen too (the seat warnings queue through the outbox).
        Assert.Contains(Edges, e => e.From == "Roster.Features.WebhookIngest" && e.To == "Roster.Infrastructure");
    }

    [Fact]
    public void ACycleIsFoundAndADagIsNot()
    {
        Assert.Empty(DependencyGraph.Cycles([("a", "b"), ("b", "c"), ("a", "c")]));
        var cycles = DependencyGraph.Cycles([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "e"), ("e", "d")]);
        Assert.Equal(2, cycles.Count);
        Assert.Contains(cycles, c => c.SequenceEqual(["a", "b", "c"]));
        Assert.Contains(cycles, c => c.SequenceEqual(["d", "e"]));
    }

    [Theory]
    [InlineData("Roster.Features.WebhookIngest", "Roster.Features.WebhookIngest")]
    [InlineData("Roster.Features.WorkOsSync.Inner", "Roster.Features.WorkOsSync")]
    [InlineData("Roster.Infrastructure.Seats", "Roster.Infrastructure")]
    [InlineData("Roster.Infrastructure.Http.OpenApi", "Roster.Infrastructure")]
    [InlineData("Roster.Cli", "Roster.Cli")]
    [InlineData("System.Text", null)]
    public void ANamespaceBelongsToItsFeatureFolderOrToInfrastructure(string ns, string? component) =>
        Assert.Equal(component, DependencyGraph.ComponentOf(ns));
}
