using System.Diagnostics.Metrics;

namespace Roster.Features.Actions;

/// <summary>
/// Meter <c>Roster.Actions</c>: <c>roster.actions.verdicts</c> counts every answer by action type, verdict and reason;
/// <c>roster.actions.storage_unavailable</c> counts the answers given without the database (by the configured verdict),
/// the number an operator alerts on.
/// </summary>
public sealed class ActionsMetrics
{
    public const string MeterName = "Roster.Actions";

    private readonly Counter<long> _verdicts;
    private readonly Counter<long> _storageUnavailable;

    public ActionsMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _verdicts = meter.CreateCounter<long>("roster.actions.verdicts", description: "Answers to WorkOS actions, by type, verdict and reason.");
        _storageUnavailable = meter.CreateCounter<long>("roster.actions.storage_unavailable",
            description: "WorkOS actions answered without the database (Actions:WhenStorageDown), by verdict.");
    }

    public void Answered(string actionType, ActionDecision decision) =>
        _verdicts.Add(1, new("action", actionType), new("verdict", decision.Verdict), new("reason", decision.Reason));

    public void StorageUnavailable(string actionType, string verdict) =>
        _storageUnavailable.Add(1, new("action", actionType), new("verdict", verdict));
}
