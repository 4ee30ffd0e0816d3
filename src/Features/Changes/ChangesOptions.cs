using Roster.Infrastructure.Changes;
using Roster.Infrastructure.Configuration;

namespace Roster.Features.Changes;

/// <summary>Settings of the change feed (section <c>Changes</c>).</summary>
public sealed class ChangesOptions : IValidatedSettings
{
    /// <summary>How long changes are kept; a cursor older than that answers 410 cursor_expired.</summary>
    public int RetentionDays { get; set; } = 90;

    /// <summary>How often the sequencer looks for committed changes to place (it is also woken by every commit that made some).</summary>
    public int SequencerIntervalMilliseconds { get; set; } = 1000;

    /// <summary>Run the sequencer (positions, webhook fan-out, retention) in the background.</summary>
    public bool SequencerEnabled { get; set; } = true;

    public IEnumerable<string> Problems()
    {
        if (RetentionDays is < 1 or > 36500) yield return "Changes:RetentionDays must be a whole number of days from 1 to 36500.";
        if (SequencerIntervalMilliseconds is < 10 or > 600_000) yield return "Changes:SequencerIntervalMilliseconds must be from 10 to 600000.";
    }
}
