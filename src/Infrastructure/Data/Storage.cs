using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Roster.Infrastructure.Data;

public enum StorageProvider
{
    Sqlite,
    Postgres,
}

public sealed class StorageOptions
{
    public StorageProvider Provider { get; set; } = StorageProvider.Sqlite;
    public string ConnectionString { get; set; } = "Data Source=.roster/roster.db";

    /// <summary>Apply pending migrations when the service starts (the default for local use).</summary>
    public bool MigrateOnStartup { get; set; } = true;
}

public static class StorageRegistration
{
    public static IServiceCollection AddRosterStorage(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection("Storage").Get<StorageOptions>() ?? new StorageOptions();
        services.AddSingleton(options);
        services.AddSingleton<PendingMembershipSourceGuard>();
        if (options.Provider == StorageProvider.Postgres)
        {
            var dataSource = new NpgsqlDataSourceBuilder(options.ConnectionString).Build();
            services.AddSingleton(dataSource);
        }

        services.AddDbContext<RosterDb>((sp, db) =>
        {
            ConfigureProvider(db, options, sp.GetService<NpgsqlDataSource>());
            db.AddInterceptors(sp.GetRequiredService<PendingMembershipSourceGuard>());
        });
        return services;
    }

    public static void ConfigureProvider(DbContextOptionsBuilder db, StorageOptions options, NpgsqlDataSource? dataSource)
    {
        if (options.Provider == StorageProvider.Postgres)
            db.UseNpgsql(dataSource ?? new NpgsqlDataSourceBuilder(options.ConnectionString).Build());
        else
            db.UseSqlite(options.ConnectionString);
    }

    public static DbConnection OpenRawConnection(StorageOptions options)
    {
        DbConnection connection = options.Provider == StorageProvider.Postgres
            ? new NpgsqlConnection(options.ConnectionString)
            : new SqliteConnection(options.ConnectionString);
        connection.Open();
        return connection;
    }
}
