using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Roster.Infrastructure.Auth;
using Roster.Infrastructure.Data;

namespace Roster.Tests.Support;

public sealed record TestUser(string Sub, string Email, string Name, bool EmailVerified = true, bool PlatformAdmin = false);

/// <summary>
/// One Roster host on its own fresh, migrated database. Test classes share one per provider (xunit class
/// fixture) and keep out of each other's way by making their own organizations and users.
/// </summary>
public abstract class RosterApp : WebApplicationFactory<Program>, IAsyncLifetime
{
    public static readonly string SigningKeyPem = CreateKey();
    private static readonly AuthOptions TokenOptions = new() { Issuer = "roster-tests", Audience = "roster-tests-api" };

    protected RosterApp(StorageProvider provider) => Provider = provider;

    public StorageProvider Provider { get; }
    public StorageOptions Storage { get; private set; } = null!;

    /// <summary>Whether WorkOS Actions are turned on (Actions:Enabled); false leaves the shipped default (off).</summary>
    protected virtual bool EnablesActions => true;

    /// <summary>Extra configuration a fixture needs (e.g. a tighter rate limit).</summary>
    protected virtual IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>();

    /// <summary>The database this host runs on; a fixture may shape it (e.g. a connection string that must not create files).</summary>
    protected virtual StorageOptions CreateStorage() => TestDatabases.Create(Provider);

    /// <summary>Replaces services after Program.cs registered its own (e.g. a controllable TimeProvider).</summary>
    protected virtual void ConfigureServices(IServiceCollection services) { }

    public Task InitializeAsync()
    {
        Storage = CreateStorage();
        // Building the host runs Program.cs, which applies the migrations.
        _ = Services;
        return Task.CompletedTask;
    }

    Task IAsyncLifetime.DisposeAsync()
    {
        Dispose();
        TestDatabases.Drop(Storage);
        return Task.CompletedTask;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("Storage:Provider", Storage.Provider.ToString());
        builder.UseSetting("Storage:ConnectionString", Storage.ConnectionString);
        builder.UseSetting("Storage:MigrateOnStartup", "true");
        builder.UseSetting("Auth:DevSigningKey", SigningKeyPem);
        builder.UseSetting("Auth:Issuer", TokenOptions.Issuer);
        builder.UseSetting("Auth:Audience", TokenOptions.Audience);
        builder.UseSetting("RateLimits:MemberSearchPerMinute", "10000");
        builder.UseSetting("WorkOS:WebhookSecret", WorkOs.WebhookSecret);
        builder.UseSetting("WorkOS:ActionsSecret", WorkOsActions.Secret);
        if (EnablesActions) builder.UseSetting("Actions:Enabled", "true");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.UseSetting("Logging:LogLevel:Microsoft.EntityFrameworkCore", "None");
        foreach (var (key, value) in Settings) builder.UseSetting(key, value);
        builder.ConfigureTestServices(ConfigureServices);
    }

    public static TestUser NewUser(string name = "user", bool verified = true, bool admin = false)
    {
        var id = Guid.NewGuid().ToString("N")[..12];
        return new TestUser($"user_{id}", $"{name}.{id}@example.com", $"{name} {id}", verified, admin);
    }

    public static string TokenFor(TestUser user, TimeSpan? lifetime = null) =>
        TokenMinter.Mint(DevSigningKey.Parse(SigningKeyPem), TokenOptions,
            new TokenRequest(user.Sub, user.Email, user.Name, user.EmailVerified, user.PlatformAdmin, lifetime));

    public HttpClient ClientFor(TestUser? user)
    {
        // ClientOptions.BaseAddress: http://localhost on the test server, the real address on a Kestrel host (the console's).
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, BaseAddress = ClientOptions.BaseAddress });
        if (user is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TokenFor(user));
        return client;
    }

    public async Task<T> WithDbAsync<T>(Func<RosterDb, Task<T>> work)
    {
        using var scope = Services.CreateScope();
        return await work(scope.ServiceProvider.GetRequiredService<RosterDb>());
    }

    public Task WithDbAsync(Func<RosterDb, Task> work) => WithDbAsync(async db => { await work(db); return 0; });

    public Task<List<Membership>> MembershipsOfAsync(Guid organizationId) =>
        WithDbAsync(db => db.Memberships.AsNoTracking().Where(m => m.OrganizationId == organizationId).ToListAsync());

    private static string CreateKey()
    {
        using var rsa = RSA.Create(2048);
        return rsa.ExportPkcs8PrivateKeyPem();
    }
}

public sealed class SqliteApp() : RosterApp(StorageProvider.Sqlite);

public sealed class PostgresApp() : RosterApp(StorageProvider.Postgres);
