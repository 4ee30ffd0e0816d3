using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Roster.Infrastructure.Data;

public sealed class PendingMembershipWithoutSourceException(Guid membershipId, string? source)
    : InvalidOperationException(
        $"Membership {membershipId} is pending with source '{source ?? "(none)"}'; a pending membership must come from a join request or an owner add.");

/// <summary>
/// Refuses to write a PENDING membership whose source is not join_request or owner_add, and any source
/// Roster does not know. The database CHECK constraint says the same; this guard fails first, with a clear
/// message, before the row leaves the process.
/// </summary>
public sealed class PendingMembershipSourceGuard : SaveChangesInterceptor
{
    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Check(eventData.Context);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(
        DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Check(eventData.Context);
        return ValueTask.FromResult(result);
    }

    private static void Check(DbContext? context)
    {
        if (context is null) return;
        foreach (var entry in context.ChangeTracker.Entries<Membership>())
        {
            if (entry.State is not (EntityState.Added or EntityState.Modified)) continue;
            var m = entry.Entity;
            if (m.Source is not null && !MembershipSource.All.Contains(m.Source))
                throw new PendingMembershipWithoutSourceException(m.Id, m.Source);
            if (m.Status == MembershipStatus.Pending && !MembershipSource.MayBePending(m.Source))
                throw new PendingMembershipWithoutSourceException(m.Id, m.Source);
        }
    }
}
