using Microsoft.EntityFrameworkCore;

namespace Roster.Infrastructure.Data;

/// <summary>
/// Serializes, until the surrounding transaction ends, everything that reads and then writes the mirror of one WorkOS
/// object (a user, an organization, a role) — across every instance. Without it two events for one object, or a
/// membership event and its user's user.created, each check what the other has not committed yet and both write: the
/// older update wins, or the membership is left without its user. On PostgreSQL this is a transaction-scoped advisory
/// lock keyed by the object; SQLite transactions already hold the database's write lock from their first statement
/// (Microsoft.Data.Sqlite begins them IMMEDIATE), so there it costs nothing.
/// </summary>
public static class MirrorLocks
{
    public const string User = "user";
    public const string Organization = "organization";
    public const string Role = "role";
    public const string Email = "email";

    /// <summary>Takes the lock of <paramref name="kind"/> <paramref name="workosId"/>; call it before reading the object's row.</summary>
    public static async Task LockAsync(this RosterDb db, string kind, string workosId, CancellationToken ct)
    {
        if (db.Database.CurrentTransaction is null)
            throw new InvalidOperationException("A mirror lock only means something inside a transaction.");
        if (!db.Database.IsNpgsql()) return;
        var key = Key(kind, workosId);
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({key})", ct);
    }

    /// <summary>A stable 64-bit key (string.GetHashCode differs between processes); for a statement that takes the lock itself.</summary>
    public static long Key(string kind, string workosId)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"roster-mirror:{kind}:{workosId}"));
        return BitConverter.ToInt64(hash, 0);
    }
}
