using System.Net.Sockets;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
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

}
