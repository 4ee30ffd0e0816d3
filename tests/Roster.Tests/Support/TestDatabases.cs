using Microsoft.Data.Sqlite;
using Npgsql;
using Roster.Infrastructure.Data;

namespace Roster.Tests.Support;

/// <summary>Creates throwaway databases. PostgreSQL comes from scripts/test.sh; without it the PostgreSQL tests fail loudly.</summary>
public static class TestDatabases
{
    public const string PostgresVariable = "ROSTER_TEST_POSTGRES";

    public static StorageOptions Create(StorageProvider provider) =>
        provider == StorageProvider.Postgres ? CreatePostgres() : CreateSqlite();

    public static StorageOptions CreateSqlite()
    {
        var folder = Path.Combine(Path.GetTempPath(), "roster-tests");
        Directory.CreateDirectory(folder);
        var file = Path.Combine(folder, $"{Guid.NewGuid():N}.db");
        return new StorageOptions
        {
            Provider = StorageProvider.Sqlite,
            ConnectionString = new SqliteConnectionStringBuilder { DataSource = file, DefaultTimeout = 60 }.ToString(),
        };
    }

    public static string PostgresServer =>
        Environment.GetEnvironmentVariable(PostgresVariable) is { Length: > 0 } cs
            ? cs
            : throw new InvalidOperationException(
                $"{PostgresVariable} is not set. The PostgreSQL half of the suite needs a server: run scripts/test.sh, " +
                "which provisions a throwaway PostgreSQL and sets it.");

    public static StorageOptions CreatePostgres()
    {
        var name = $"roster_t_{Guid.NewGuid():N}";
        using (var admin = new NpgsqlConnection(PostgresServer))
        {
            admin.Open();
            using var create = admin.CreateCommand();
            create.CommandText = $"CREATE DATABASE \"{name}\"";
            create.ExecuteNonQuery();
        }
        return new StorageOptions
        {
            Provider = StorageProvider.Postgres,
            ConnectionString = new NpgsqlConnectionStringBuilder(PostgresServer) { Database = name, MaxPoolSize = 120 }.ToString(),
        };
    }

    public static void Drop(StorageOptions options)
    {
        if (options.Provider == StorageProvider.Sqlite)
        {
            SqliteConnection.ClearAllPools();
            var file = new SqliteConnectionStringBuilder(options.ConnectionString).DataSource;
            foreach (var path in new[] { file, file + "-wal", file + "-shm" })
                if (File.Exists(path)) File.Delete(path);
            return;
        }
        NpgsqlConnection.ClearAllPools();
        var database = new NpgsqlConnectionStringBuilder(options.ConnectionString).Database;
        using var admin = new NpgsqlConnection(PostgresServer);
        admin.Open();
        using var drop = admin.CreateCommand();
        drop.CommandText = $"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)";
        drop.ExecuteNonQuery();
    }
}
