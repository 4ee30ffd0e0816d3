using System.Net;
using Microsoft.Data.Sqlite;
using Npgsql;
using Roster.Infrastructure.Data;
using Roster.Tests.Support;

namespace Roster.Tests.Webhooks;

/// <summary>A host whose database can be taken away mid-flight.</summary>
public abstract class BreakableApp(StorageProvider provider) : RosterApp(provider)
{
    protected override StorageOptions CreateStorage()
    {
        var storage = TestDatabases.Create(Provider);
        if (Provider == StorageProvider.Sqlite)
        {
            // Mode=ReadWrite: once the file is gone, opening fails instead of quietly creating an empty database.
            var builder = new SqliteConnectionStringBuilder(storage.ConnectionString) { Mode = SqliteOpenMode.ReadWrite };
            File.WriteAllBytes(builder.DataSource, []);
            storage.ConnectionString = builder.ToString();
        }
        return storage;
    }

    public void TakeStorageAway()
    {
        if (Provider == StorageProvider.Sqlite)
        {
            SqliteConnection.ClearAllPools();
            var file = new SqliteConnectionStringBuilder(Storage.ConnectionString).DataSource;
            foreach (var path in new[] { file, file + "-wal", file + "-shm" }) File.Delete(path);
            return;
        }
        var database = new NpgsqlConnectionStringBuilder(Storage.ConnectionString).Database;
        using var admin = new NpgsqlConnection(TestDatabases.PostgresServer);
        admin.Open();
        using var drop = admin.CreateCommand();
        drop.CommandText = $"DROP DATABASE \"{database}\" WITH (FORCE)";
        drop.ExecuteNonQuery();
        NpgsqlConnection.ClearAllPools();
    }
}

public sealed class BreakableSqliteApp() : BreakableApp(StorageProvider.Sqlite);

public sealed class BreakablePostgresApp() : BreakableApp(StorageProvider.Postgres);

public abstract class StorageFailureTests(BreakableApp app)
{
    [Fact]
    public async Task WithTheDatabaseGoneWebhooksAnswer503SoWorkOsRetriesAndTheApiSaysUnavailable()
    {
        var workos = app.ClientFor(null);
        var owner = RosterApp.NewUser("owner");
        await (await app.ClientFor(owner).PostJson("/api/organizations", new { name = "Acme" })).ShouldBe(HttpStatusCode.Created);
        await (await workos.GetAsync("/health/ready")).ShouldBe(HttpStatusCode.OK);

        app.TakeStorageAway();

        var json = WorkOs.Envelope("organization_membership.created", WorkOs.Membership(WorkOs.NewId("om"), WorkOs.NewId("user"), WorkOs.NewId("org")));
        var webhook = await workos.Deliver(json);
        await webhook.ShouldBeProblem(HttpStatusCode.ServiceUnavailable, "storage_unavailable");
        Assert.NotNull(webhook.Headers.RetryAfter);
        await (await app.ClientFor(owner).GetAsync("/api/membership-requests/mine")).ShouldBeProblem(HttpStatusCode.ServiceUnavailable, "storage_unavailable");
        await (await workos.GetAsync("/health/ready")).ShouldBeProblem(HttpStatusCode.ServiceUnavailable, "storage_unavailable");
        await (await workos.GetAsync("/health/live")).ShouldBe(HttpStatusCode.OK);
    }
}

public sealed class StorageFailureTestsOnSqlite(BreakableSqliteApp app) : StorageFailureTests(app), IClassFixture<BreakableSqliteApp>;

public sealed class StorageFailureTestsOnPostgres(BreakablePostgresApp app) : StorageFailureTests(app), IClassFixture<BreakablePostgresApp>;
