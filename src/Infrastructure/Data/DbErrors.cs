using System.Net.Sockets;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace Roster.Infrastructure.Data;

public static class DbErrors
{
    public static bool IsUniqueViolation(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation }) return true;
            // 2067 = SQLITE_CONSTRAINT_UNIQUE, 1555 = SQLITE_CONSTRAINT_PRIMARYKEY
            if (e is SqliteException { SqliteExtendedErrorCode: 2067 or 1555 }) return true;
        }
        return false;
    }

    /// <summary>
    /// True when the database refused a value the request carried: PostgreSQL's data exceptions (class 22, e.g. a NUL
    /// character in text, which PostgreSQL cannot store) and program limits (class 54, e.g. a value too long for a
    /// btree index row). The statement, and its transaction, changed nothing; retrying cannot help.
    /// </summary>
    public static bool IsUnstorableValue(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
            if (e is PostgresException pg)
                return pg.SqlState.StartsWith("22", StringComparison.Ordinal) || pg.SqlState.StartsWith("54", StringComparison.Ordinal);
        return false;
    }

    /// <summary>True when the failure means "the database could not be reached or used", not "the request was wrong".</summary>
    public static bool IsUnavailable(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case PostgresException pg when pg.SqlState.StartsWith("08", StringComparison.Ordinal)
                                               || pg.SqlState.StartsWith("57P", StringComparison.Ordinal)
                                               // 40001 serialization failure, 40P01 deadlock: the transaction was rolled back; trying again works
                                               || pg.SqlState.StartsWith("40", StringComparison.Ordinal)
                                               || pg.SqlState == PostgresErrorCodes.TooManyConnections
                                               || pg.SqlState == PostgresErrorCodes.InvalidCatalogName:
                    return true;
                case PostgresException:
                    return false;
                case NpgsqlException:
                case SocketException:
                case TimeoutException:
                    return true;
                // 5 BUSY, 6 LOCKED, 10 IOERR, 13 FULL, 14 CANTOPEN
                case SqliteException { SqliteErrorCode: 5 or 6 or 10 or 13 or 14 }:
                    return true;
            }
        }
        return false;
    }

    public static bool IsUniqueViolation(this DbUpdateException ex) => IsUniqueViolation((Exception)ex);

    /// <summary>
    /// Runs <paramref name="once"/> (a whole transaction) again, up to <paramref name="attempts"/> tries in all, while it loses
    /// a race to create a shared row — a placeholder organization or role that concurrent work (on this instance or another)
    /// created meanwhile without either seeing the other's. The loser's transaction was rolled back whole (PostgreSQL aborts
    /// it anyway); the next try finds the winner's row.
    /// </summary>
    public static async Task<T> RetryWhileLosingCreateRaceAsync<T>(this RosterDb db, int attempts, Func<Task<T>> once)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await once();
            }
            catch (Exception ex) when (attempt < attempts && IsUniqueViolation(ex))
            {
                db.ChangeTracker.Clear();
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="write"/>, saves and commits. When a unique index refuses the write — a concurrent request won a
    /// race the checks before it could not see; the indexes are the backstop — rolls the transaction back, forgets what was
    /// staged and returns false, so the caller can read what it lost to and answer with that.
    /// </summary>
    public static async Task<bool> TryCommitAsync(this RosterDb db, IDbContextTransaction tx, Func<Task> write, CancellationToken ct)
    {
        try
        {
            await write();
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            return true;
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            await tx.RollbackAsync(ct);
            db.ChangeTracker.Clear();
            return false;
        }
    }

}
