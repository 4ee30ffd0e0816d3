using Microsoft.Data.Sqlite;
using Npgsql;

namespace Roster.Bench.Infrastructure;

/// <summary>A database the service runs on: provider name as the service spells it, and its connection string.</summary>
public sealed record Storage(string Provider, string ConnectionString, string Label)
{
    public bool IsPostgres => Provider == "Postgres";

    /// <summary>A fresh PostgreSQL database on the throwaway cluster.</summary>
    /// <summary>Distinguishes the databases of one run from another's on the same cluster.</summary>
    public static readonly string RunTag = Guid.NewGuid().ToString("N")[..6];

    public static async Task<Storage> CreatePostgresAsync(BenchOptions options, string name)
    {
        name = $"{name}_{RunTag}";
        await using (var admin = new NpgsqlConnection(options.PostgresAdmin))
        {
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", admin);
            await create.ExecuteNonQueryAsync();
        }
        var cs = new NpgsqlConnectionStringBuilder(options.PostgresAdmin) { Database = name }.ToString();
        return new Storage("Postgres", cs, "PostgreSQL");
    }

    /// <summary>A fresh SQLite file in the scratch folder (the service's default connection-string shape).</summary>
    public static Storage CreateSqlite(BenchOptions options, string name)
    {
        var file = Path.Combine(options.WorkDir, name + ".db");
        foreach (var f in new[] { file, file + "-wal", file + "-shm" })
            if (File.Exists(f)) File.Delete(f);
        return new Storage("Sqlite", new SqliteConnectionStringBuilder { DataSource = file }.ToString(), "SQLite");
    }

    public static async Task<Storage> CreateAsync(BenchOptions options, string provider, string name) =>
        provider == "postgres" ? await CreatePostgresAsync(options, name) : CreateSqlite(options, name);

    public static async Task<string> PostgresVersionAsync(string admin)
    {
        await using var c = new NpgsqlConnection(admin);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand("SHOW server_version", c);
        return "PostgreSQL " + await cmd.ExecuteScalarAsync();
    }

    /// <summary>The postmaster's pid (first line of postmaster.pid in the data directory), for CPU accounting.</summary>
    public static async Task<int?> PostmasterPidAsync(string? admin)
    {
        if (string.IsNullOrWhiteSpace(admin)) return null;
        try
        {
            await using var c = new NpgsqlConnection(admin);
            await c.OpenAsync();
            await using var cmd = new NpgsqlCommand("SHOW data_directory", c);
            var dir = (string)(await cmd.ExecuteScalarAsync())!;
            return int.Parse(File.ReadLines(Path.Combine(dir, "postmaster.pid")).First(), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NpgsqlException or FormatException)
        {
            return null;
        }
    }
}
