using Roster.Infrastructure.Data;

namespace Roster.Infrastructure.Changes;

/// <summary>Something that acts on newly placed changes in the sequencer's transaction (webhook subscriptions).</summary>
public interface IChangeFanOut
{
    Task PlacedAsync(RosterDb db, IReadOnlyList<ChangeRow> placed, CancellationToken ct);
}
