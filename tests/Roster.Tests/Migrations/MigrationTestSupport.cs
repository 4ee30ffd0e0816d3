using System.Data.Common;
using System.Globalization;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Microsoft.Data.Sqlite;
using Roster.Infrastructure.Data;
using Roster.Migrations;
using Roster.Tests.Support;

namespace Roster.Tests.Migrations;

/// <summary>
/// Raw SQL against a test database, bypassing EF and its guard. Values are written the way EF writes them:
/// on SQLite Guids as upper-case text and times as 'yyyy-MM-dd HH:mm:ss.FFFFFFF'; on PostgreSQL as uuid/timestamptz.
/// Parameters are positional: @p0, @p1, …
/// </summary>
public sealed class RawSql(StorageOptions options)
{
    public bool IsPostgres => options.Provider == StorageProvider.Postgres;

    public object ToDb(object? value) => value switch
    {
        null => DBNull.Value,
        Guid g when !IsPostgres => g.ToString().ToUpperInvariant(),
        DateTime d when !IsPostgres => d.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture),
        bool b when !IsPostgres => b ? 1 : 0,
        _ => value,
    };

    public static Guid ToGuid(object value) => value is Guid g ? g : Guid.Parse((string)value);

    public async Task<int> ExecuteAsync(string sql, params object?[] args)
    {
        await using var connection = StorageRegistration.OpenRawConnection(options);
        await using var command = Command(connection, sql, args);
        return await command.ExecuteNonQueryAsync();
    }

    public async Task<object?> ScalarAsync(string sql, params object?[] args)
    {
        await using var connection = StorageRegistration.OpenRawConnection(options);
        await using var command = Command(connection, sql, args);
        var value = await command.ExecuteScalarAsync();
        return value is DBNull ? null : value;
    }

    public async Task<long> CountAsync(string sql, params object?[] args) => Convert.ToInt64(await ScalarAsync(sql, args));

    public async Task<List<object?[]>> QueryAsync(string sql, params object?[] args)
    {
        await using var connection = StorageRegistration.OpenRawConnection(options);
        await using var command = Command(connection, sql, args);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<object?[]>();
        while (await reader.ReadAsync())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++) row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }

    private DbCommand Command(DbConnection connection, string sql, object?[] args)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        for (var i = 0; i < args.Length; i++)
        {
            var p = command.CreateParameter();
            p.ParameterName = $"@p{i}";
            p.Value = ToDb(args[i]);
            command.Parameters.Add(p);
        }
        return command;
    }
}

/// <summary>
/// One fresh, empty database per test (xunit makes a new instance per test), dropped afterwards. Tests drive the
/// <see cref="MigrationRunner"/> directly and seed rows with raw SQL in the shape each schema version had.
/// </summary>
public abstract class MigrationTestBase(StorageProvider provider) : IAsyncLifetime
{
    protected static readonly DateTime Epoch = new(2024, 1, 15, 9, 30, 0, DateTimeKind.Utc);

    protected static IReadOnlyList<string> AllVersions => MigrationCatalog.All.Select(m => m.Version).ToList();

    protected static IReadOnlyList<string> VersionsAfter(string version) =>
        MigrationCatalog.All.Select(m => m.Version).Where(v => string.CompareOrdinal(v, version) > 0).ToList();

    protected StorageProvider Provider => provider;
    protected StorageOptions Options { get; private set; } = null!;
    protected RawSql Sql { get; private set; } = null!;

    public Task InitializeAsync()
    {
        Options = TestDatabases.Create(provider);
        Sql = new RawSql(Options);
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        TestDatabases.Drop(Options);
        return Task.CompletedTask;
    }

    protected MigrationRunner NewRunner() => new(Options, NullLogger<MigrationRunner>.Instance);

    /// <summary>The versions the history table records, in order, with duplicates kept (there must be none).</summary>
    protected async Task<List<string>> RecordedVersionsAsync() =>
        (await Sql.QueryAsync("SELECT version FROM roster_schema_migrations ORDER BY version")).Select(r => (string)r[0]!).ToList();

    protected async Task<Guid> SeedOrganizationAsync(string name = "Legacy org")
    {
        var id = Guid.CreateVersion7();
        await Sql.ExecuteAsync("INSERT INTO organizations (id, name, created_at, updated_at) VALUES (@p0, @p1, @p2, @p2)", id, name, Epoch);
        return id;
    }

    protected async Task<Guid> SeedUserAsync(TestUser? user = null)
    {
        user ??= RosterApp.NewUser("legacy");
        var id = Guid.CreateVersion7();
        await Sql.ExecuteAsync(
            "INSERT INTO users (id, workos_user_id, email, email_verified, name, created_at, updated_at) VALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p5)",
            id, user.Sub, user.Email, user.EmailVerified, user.Name, Epoch);
        return id;
    }

    /// <summary>A membership in the legacy (0001) shape: there is no source column to fill.</summary>
    protected async Task<Guid> SeedLegacyMembershipAsync(Guid organizationId, Guid? userId, string status, string role = "member",
        DateTime? deletedAt = null, string? workosUserId = null, string? workosMembershipId = null, int minutesAfterEpoch = 0)
    {
        var id = Guid.CreateVersion7();
        var at = Epoch.AddMinutes(minutesAfterEpoch);
        await Sql.ExecuteAsync(
            """
            INSERT INTO memberships (id, organization_id, user_id, workos_user_id, workos_membership_id, role, status, seat_type,
                                     deleted_at, created_at, updated_at)
            VALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6, 'contributor', @p7, @p8, @p8)
            """,
            id, organizationId, userId, workosUserId, workosMembershipId, role, status, deletedAt, at);
        return id;
    }

    /// <summary>A membership once the schema has a source column (0002 and later).</summary>
    protected async Task<Guid> SeedMembershipAsync(Guid organizationId, Guid? userId, string status, string? source, string role = "member",
        DateTime? deletedAt = null, string? workosMembershipId = null, int minutesAfterEpoch = 0)
    {
        var id = Guid.CreateVersion7();
        await InsertMembershipAsync(id, organizationId, userId, status, source, role, deletedAt, workosMembershipId, minutesAfterEpoch);
        return id;
    }

    protected Task<int> InsertMembershipAsync(Guid id, Guid organizationId, Guid? userId, string status, string? source, string role = "member",
        DateTime? deletedAt = null, string? workosMembershipId = null, int minutesAfterEpoch = 0)
    {
        var at = Epoch.AddMinutes(minutesAfterEpoch);
        return Sql.ExecuteAsync(
            """
            INSERT INTO memberships (id, organization_id, user_id, workos_membership_id, role, status, source, seat_type,
                                     deleted_at, created_at, updated_at)
            VALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6, 'contributor', @p7, @p8, @p8)
            """,
            id, organizationId, userId, workosMembershipId, role, status, source, deletedAt, at);
    }

    protected async Task<string?> SourceOfAsync(Guid membershipId) =>
        (string?)await Sql.ScalarAsync("SELECT source FROM memberships WHERE id = @p0", membershipId);

    protected async Task<string> StatusOfAsync(Guid membershipId) =>
        (string)(await Sql.ScalarAsync("SELECT status FROM memberships WHERE id = @p0", membershipId))!;

    protected Task TombstoneAsync(Guid membershipId) =>
        Sql.ExecuteAsync("UPDATE memberships SET deleted_at = @p1 WHERE id = @p0", membershipId, Epoch.AddDays(1));

    protected async Task<bool> IndexExistsAsync(string name) => await Sql.CountAsync(
        Sql.IsPostgres
            ? "SELECT COUNT(*) FROM pg_indexes WHERE indexname = @p0"
            : "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = @p0",
        name) == 1;
}

/// <summary>Asserts which database constraint refused a write, on either provider.</summary>
public static class ConstraintAssert
{
    public static void IsCheckViolation(Exception ex, string constraint)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case PostgresException pg:
                    Assert.Equal(PostgresErrorCodes.CheckViolation, pg.SqlState);
                    Assert.Equal(constraint, pg.ConstraintName);
                    return;
                case SqliteException sqlite:
                    Assert.Equal(275, sqlite.SqliteExtendedErrorCode); // SQLITE_CONSTRAINT_CHECK
                    Assert.Contains(constraint, sqlite.Message, StringComparison.Ordinal);
                    return;
            }
        }
        Assert.Fail($"Expected a CHECK violation of {constraint} but got {ex}");
    }

    public static void IsUniqueViolation(Exception ex, string index)
    {
        Assert.True(DbErrors.IsUniqueViolation(ex), $"Expected a unique violation of {index} but got {ex}");
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is PostgresException pg)
            {
                Assert.Equal(index, pg.ConstraintName);
                return;
            }
            // SQLite names the columns, not the index.
            if (e is SqliteException) return;
        }
    }
}

/// <summary>A Roster host on a database the test prepared (RosterApp always makes its own, fresh one).</summary>
public sealed class HostOn(StorageOptions storage, bool migrateOnStartup = true) : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("Storage:Provider", storage.Provider.ToString());
        builder.UseSetting("Storage:ConnectionString", storage.ConnectionString);
        builder.UseSetting("Storage:MigrateOnStartup", migrateOnStartup ? "true" : "false");
        builder.UseSetting("Auth:DevSigningKey", RosterApp.SigningKeyPem);
        builder.UseSetting("Auth:Issuer", "roster-tests");
        builder.UseSetting("Auth:Audience", "roster-tests-api");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.UseSetting("Logging:LogLevel:Microsoft.EntityFrameworkCore", "None");
    }

    public HttpClient ClientFor(TestUser? user)
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        if (user is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", RosterApp.TokenFor(user));
        return client;
    }
}
