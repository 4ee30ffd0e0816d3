using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Roster.Infrastructure.Data;

namespace Roster.Migrations;

public sealed class MigrationAbortedException(string version, string problem, IReadOnlyList<string> ids)
    : Exception($"Migration {version} aborted: {problem}. Offending membership ids: {string.Join(", ", ids)}")
{
    public string Version { get; } = version;
    public IReadOnlyList<string> Ids { get; } = ids;
}

public sealed record MigrationState(string Version, string Name, DateTime? AppliedAt);

/// <summary>
/// Applies the SQL scripts in order. Each migration runs in its own transaction under a lock
/// (an advisory transaction lock on PostgreSQL, the write lock of BEGIN IMMEDIATE on SQLite), and re-reads the
/// history inside that lock, so two instances starting together apply each script exactly once.
/// </summary>
public sealed class MigrationRunner(StorageOptions options, ILogger<MigrationRunner> logger)
{
    private const long AdvisoryLockKey = 0x526f73746572; // "Roster"
    private string ProviderFolder => options.Provider == StorageProvider.Postgres ? "Postgres" : "Sqlite";

    public async Task<IReadOnlyList<string>> MigrateAsync(string? upToVersion = null, CancellationToken ct = default)
    {
        PrepareSqliteFile();
        var applied = new List<string>();
        foreach (var migration in MigrationCatalog.All)
        {
            if (upToVersion is not null && string.CompareOrdinal(migration.Version, upToVersion) > 0) break;
            if (await ApplyAsync(migration, ct)) applied.Add(migration.Version);
        }
        return applied;
    }

    public async Task<IReadOnlyList<MigrationState>> StatusAsync(CancellationToken ct = default)
    {
        PrepareSqliteFile();
        await using var connection = StorageRegistration.OpenRawConnection(options);
        var applied = await ReadHistoryAsync(connection, null, ct);
        return MigrationCatalog.All
            .Select(m => new MigrationState(m.Version, m.Name, applied.TryGetValue(m.Version, out var at) ? at : null))
            .ToList();
    }

    private async Task<bool> ApplyAsync(Migration migration, CancellationToken ct)
    {
        await using var connection = StorageRegistration.OpenRawConnection(options);
        await using var tx = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
        if (options.Provider == StorageProvider.Postgres)
            await ExecuteAsync(connection, tx, $"SELECT pg_advisory_xact_lock({AdvisoryLockKey})", ct);

        await ExecuteAsync(connection, tx, HistoryTableDdl, ct);
        var history = await ReadHistoryAsync(connection, tx, ct);
        if (history.ContainsKey(migration.Version)) return false;

        var problems = new List<string>();
        var offending = new List<string>();
        foreach (var guard in migration.Guards)
        {
            var ids = await QueryIdsAsync(connection, tx, guard.Sql, ct);
            if (ids.Count == 0) continue;
            logger.LogError("Migration {Version} aborted: {Problem}. Offending ids: {Ids}",
                migration.Version, guard.Problem, string.Join(", ", ids));
            problems.Add(guard.Problem);
            offending.AddRange(ids.Where(id => !offending.Contains(id)));
        }
        if (problems.Count > 0)
            throw new MigrationAbortedException(migration.Version, string.Join("; ", problems), offending);

        await ExecuteAsync(connection, tx, LoadScript(migration), ct);
        await using (var record = connection.CreateCommand())
        {
            record.Transaction = tx;
            record.CommandText = "INSERT INTO roster_schema_migrations (version, name, applied_at) VALUES (@v, @n, @at)";
            AddParameter(record, "@v", migration.Version);
            AddParameter(record, "@n", migration.Name);
            AddParameter(record, "@at", options.Provider == StorageProvider.Postgres
                ? DateTime.UtcNow
                : DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF"));
            await record.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        logger.LogInformation("Applied migration {Version}_{Name}", migration.Version, migration.Name);
        return true;
    }

    private string HistoryTableDdl => options.Provider == StorageProvider.Postgres
        ? "CREATE TABLE IF NOT EXISTS roster_schema_migrations (version text PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)"
        : "CREATE TABLE IF NOT EXISTS roster_schema_migrations (version TEXT NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)";

    private async Task<Dictionary<string, DateTime>> ReadHistoryAsync(DbConnection connection, DbTransaction? tx, CancellationToken ct)
    {
        var result = new Dictionary<string, DateTime>(StringComparer.Ordinal);
        await using var exists = connection.CreateCommand();
        exists.Transaction = tx;
        exists.CommandText = options.Provider == StorageProvider.Postgres
            ? "SELECT to_regclass('roster_schema_migrations') IS NOT NULL"
            : "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'roster_schema_migrations'";
        if (!Convert.ToBoolean(await exists.ExecuteScalarAsync(ct))) return result;

        await using var read = connection.CreateCommand();
        read.Transaction = tx;
        read.CommandText = "SELECT version, applied_at FROM roster_schema_migrations";
        await using var reader = await read.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var at = reader.GetValue(1) switch
            {
                DateTime d => DateTime.SpecifyKind(d, DateTimeKind.Utc),
                string s => DateTime.SpecifyKind(DateTime.Parse(s, System.Globalization.CultureInfo.InvariantCulture), DateTimeKind.Utc),
                var other => throw new InvalidOperationException($"Unexpected applied_at value {other}"),
            };
            result[reader.GetString(0)] = at;
        }
        return result;
    }

    private static async Task<List<string>> QueryIdsAsync(DbConnection connection, DbTransaction tx, string sql, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        var ids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) ids.Add(Convert.ToString(reader.GetValue(0))!.ToLowerInvariant());
        return ids;
    }

    private static async Task ExecuteAsync(DbConnection connection, DbTransaction tx, string sql, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(ct);
    }

    private static void AddParameter(DbCommand command, string name, object value)
    {
        var p = command.CreateParameter();
        p.ParameterName = name;
        p.Value = value;
        command.Parameters.Add(p);
    }

    private string LoadScript(Migration migration)
    {
        var name = migration.ResourceName(ProviderFolder);
        using var stream = typeof(MigrationRunner).Assembly.GetManifestResourceStream(name)
                           ?? throw new InvalidOperationException($"Migration script {name} is not embedded.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>WAL lets readers carry on while one writer holds the lock; it must be set outside a transaction.</summary>
    private void PrepareSqliteFile()
    {
        if (options.Provider != StorageProvider.Sqlite) return;
        var builder = new SqliteConnectionStringBuilder(options.ConnectionString);
        var folder = Path.GetDirectoryName(Path.GetFullPath(builder.DataSource));
        if (!string.IsNullOrEmpty(folder)) Directory.CreateDirectory(folder);
        using var connection = new SqliteConnection(options.ConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode=WAL";
        command.ExecuteNonQuery();
    }
}
