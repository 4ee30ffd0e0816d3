using System.Reflection;
using Roster.Infrastructure.Seats;
using Roster.Infrastructure.Telemetry;

namespace Roster.Tests.Architecture;

/// <summary>
/// The seat rule — lock with the plan, count, decide room or refuse (with the refusal metric), re-evaluate the warnings —
/// is written once, in src/Infrastructure/Seats (<see cref="SeatGate"/>). Everything else asks the gate: no other code
/// compares usage with a limit, calls the ledger, counts a refusal or evaluates warnings. Read from the compiled
/// assembly (IL), so a copy of the rule anywhere fails here naming the method that made it.
/// </summary>
public class SeatRuleTests
{
    private const string SeatsNamespace = "Roster.Infrastructure.Seats";
    private static readonly Assembly Roster = typeof(Program).Assembly;

    /// <summary>What only the seat folder may call: the decision's inputs and outputs.</summary>
    public static TheoryData<string> SeatRuleMembers()
    {
        var data = new TheoryData<string>();
        foreach (var (_, name) in Targets()) data.Add(name);
        return data;
    }

    private static IEnumerable<(MethodBase Method, string Name)> Targets()
    {
        const BindingFlags declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        yield return (typeof(SeatUsage).GetProperty(nameof(SeatUsage.HasRoom))!.GetMethod!, "SeatUsage.HasRoom");
        // The ledger (the lock statement and the counts) is the gate's; its constructor is the container's.
        foreach (var method in typeof(SeatLedger).GetMethods(declared).Where(m => !m.IsSpecialName))
            yield return (method, $"SeatLedger.{method.Name}({string.Join(", ", method.GetParameters().Select(p => p.ParameterType.Name))})");
        yield return (typeof(RosterMetrics).GetMethod(nameof(RosterMetrics.SeatRefused))!, "RosterMetrics.SeatRefused");
        foreach (var method in typeof(SeatWarnings).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            yield return (method, $"SeatWarnings.{method.Name}");
    }

    private static MethodBase TargetNamed(string name) => Targets().Single(t => t.Name == name).Method;

    [Theory]
    [MemberData(nameof(SeatRuleMembers))]
    public void OnlyTheSeatFolderUses(string member)
    {
        var outside = DependencyGraph.CallersOf(Roster, "Roster", TargetNamed(member))
            .Where(caller => !caller.StartsWith(SeatsNamespace + ".", StringComparison.Ordinal))
            .ToList();
        Assert.True(outside.Count == 0,
            $"{member} is the seat gate's (src/Infrastructure/Seats/SeatGate.cs): take a seat with SeatGate.TryTakeAsync (or " +
            "Decide/DecideAsync on WorkOS's paths, CheckAsync to only ask), then SeatDecision.TakenAsync. Used by:"
            + Environment.NewLine + string.Join(Environment.NewLine, outside.Select(c => "  " + c)));
    }

    [Fact]
    public void TheReaderSeesTheSeatFolderUseTheRule()
    {
        // If the IL reading broke, the rule above would pass on anything: the gate's own uses must be seen.
        Assert.Contains(DependencyGraph.CallersOf(Roster, SeatsNamespace, TargetNamed("SeatUsage.HasRoom")),
            c => c.StartsWith(typeof(SeatDecision).FullName!, StringComparison.Ordinal));
        Assert.Contains(DependencyGraph.CallersOf(Roster, SeatsNamespace, TargetNamed("RosterMetrics.SeatRefused")),
            c => c.StartsWith(typeof(SeatGate).FullName!, StringComparison.Ordinal));
        Assert.NotEmpty(DependencyGraph.CallersOf(Roster, SeatsNamespace, typeof(SeatLedger).GetMethod(nameof(SeatLedger.LockAsync))!));
        // …and a use in a feature would be seen: the gate's API is called from the features that take seats.
        Assert.Contains(DependencyGraph.CallersOf(Roster, "Roster.Features", typeof(SeatGate).GetMethod(nameof(SeatGate.TryTakeAsync))!),
            c => c.Contains("JoinRequestsEndpoints", StringComparison.Ordinal));
    }
}
