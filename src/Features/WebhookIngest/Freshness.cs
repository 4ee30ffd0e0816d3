using System.Linq.Expressions;
using Roster.Infrastructure.Data;

namespace Roster.Features.WebhookIngest;

/// <summary>
/// Newer state wins. An event is stale when the row has already seen a later <c>updated_at</c>, or the same one
/// from an event whose id (a time-ordered ULID) is not smaller than this one's.
/// </summary>
public static class Freshness
{
    public static bool IsStale(DateTime? rowUpdatedAt, string? rowLastEventId, DateTime eventUpdatedAt, string eventId)
    {
        if (rowUpdatedAt is null) return false;
        if (eventUpdatedAt < rowUpdatedAt.Value) return true;
        return eventUpdatedAt == rowUpdatedAt.Value && string.CompareOrdinal(eventId, rowLastEventId) <= 0;
    }

    /// <summary>
    /// The same rule as a query filter, for rows an event changes in bulk: role assignments the event is not older than
    /// (a deletion clears what earlier events assigned, never what a newer one did).
    /// </summary>
    public static Expression<Func<OrganizationRoleAssignment, bool>> AssignedNoLaterThan(DateTime eventUpdatedAt, string eventId) =>
        a => a.WorkosUpdatedAt == null || a.WorkosUpdatedAt < eventUpdatedAt
             || (a.WorkosUpdatedAt == eventUpdatedAt && string.Compare(a.WorkosLastEventId, eventId) <= 0);
}
