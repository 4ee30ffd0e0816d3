using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Roster.Infrastructure.Configuration;

namespace Roster.Infrastructure.Data;

public enum StorageProvider
{
    Sqlite,
    Postgres,
}

public sealed class StorageOptions : Roster.Infrastructure.Configuration.IValidatedSettings
{
    public StorageProvider Provider { get; set; } = StorageProvider.Sqlite;
    public string ConnectionString { get; set; } = "Data Source=.roster/roster.db";

    /// <summary>Apply pending migrations when the service starts (the default for local use).</summary>
    public bool MigrateOnStartup { get; set; } = true;

    public IEnumerable<string> Problems()
    {
        if (string.IsNullOrWhiteSpace(ConnectionString)) yield return "Storage:ConnectionString must be set.";
        else
        {
            string? problem = null;
            try { _ = new DbConnectionStringBuilder { ConnectionString = ConnectionString }; }
            catch (ArgumentException ex) { problem = $"Storage:ConnectionString is not a connection string: {ex.Message}"; }
            if (problem is not null) yield return problem;
        }
    }
}

public static class StorageRegistration
{
    public static IServiceCollection AddRosterStorage(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSettings<StorageOptions>("Storage");
        // The provider decides what gets registered, so it is read here too; a value the binder cannot read is
        // reported by the start-time validation above, naming the key, so here it only falls back to the default.
        StorageOptions options;
        try { options = configuration.GetSection("Storage").Get<StorageOptions>() ?? new StorageOptions(); }
        catch (InvalidOperationException) { options = new StorageOptions(); }
        services.AddSingleton<PendingMembershipSourceGuard>();
        if (options.Provider == StorageProvider.Postgres)
            services.AddSingleton(BuildDataSource(options.ConnectionString));

        // Pooled: a request reuses a reset context instead of building one (the model and services are shared anyway).
        services.AddDbContextPool<RosterDb>((sp, db) =>
        {
            ConfigureProvider(db, options, sp.GetService<NpgsqlDataSource>());
            db.AddInterceptors(sp.GetRequiredService<PendingMembershipSourceGuard>(), Roster.Infrastructure.Changes.ChangeCommitSignal.Instance);
        });
        return services;
    }

    public static void ConfigureProvider(DbContextOptionsBuilder db, StorageOptions options, NpgsqlDataSource? dataSource)
    {
        if (options.Provider == StorageProvider.Postgres)
            db.UseNpgsql(dataSource ?? BuildDataSource(options.ConnectionString));
        else
        {
            db.UseSqlite(options.ConnectionString);
            db.AddInterceptors(new SqliteWriters());
            db.ReplaceService<Microsoft.EntityFrameworkCore.Storage.IRelationalTransactionFactory, SqliteWriterTransactionFactory>();
            db.ReplaceService<Microsoft.EntityFrameworkCore.Update.IModificationCommandBatchFactory, SqliteBatchFactory>();
        }
    }

    /// <summary>
    /// The service's PostgreSQL data source. Unless the connection string says otherwise (<c>Max Auto Prepare</c>),
    /// statements the service repeats are prepared on each connection after a few uses: the same few queries run on
    /// every request, and PostgreSQL then skips parsing and planning them, which is most of its work for them.
    /// </summary>
    public static NpgsqlDataSource BuildDataSource(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        // Npgsql's builder claims every keyword it knows; the plain builder says whether the string itself names it.
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString };
        if (!given.ContainsKey("Max Auto Prepare") && !given.ContainsKey("MaxAutoPrepare"))
            builder.ConnectionStringBuilder.MaxAutoPrepare = DefaultMaxAutoPrepare;
        return builder.Build();
    }

    public const int DefaultMaxAutoPrepare = 128;

    public static DbConnection OpenRawConnection(StorageOptions options)
    {
        DbConnection connection = options.Provider == StorageProvider.Postgres
            ? new NpgsqlConnection(options.ConnectionString)
            : new SqliteConnection(options.ConnectionString);
        connection.Open();
        return connection;
    }
}
