using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;
using Roster.Infrastructure.Auth;
using Roster.Infrastructure.Data;
using Roster.Tests.Support;

namespace Roster.Tests.Features;

/// <summary>
/// Roster trusting an identity provider's published keys (Auth:JwksUrl), as it does WorkOS AuthKit's: a local
/// HTTP server publishes the JWKS of a key the tests sign with.
/// </summary>
public abstract class JwksApp : RosterApp
{
    public const string KeyId = "provider-key-1";
    private readonly WebApplication _jwks;
    private readonly string _jwksUrl;

    protected JwksApp(StorageProvider provider) : base(provider) => (_jwks, _jwksUrl) = StartJwks(ProviderKey);

    /// <summary>The identity provider's signing key; its public half is what the JWKS publishes.</summary>
    public RSA ProviderKey { get; } = RSA.Create(2048);

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Auth:JwksUrl"] = _jwksUrl };

    private static (WebApplication, string) StartJwks(RSA key)
    {
        var parameters = key.ExportParameters(false);
        var jwks = new
        {
            keys = new[]
            {
                new { kty = "RSA", use = "sig", alg = "RS256", kid = KeyId, n = Base64UrlEncoder.Encode(parameters.Modulus), e = Base64UrlEncoder.Encode(parameters.Exponent) },
            },
        };
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapGet("/.well-known/jwks.json", () => Results.Json(jwks));
        app.StartAsync().GetAwaiter().GetResult();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, address + "/.well-known/jwks.json");
    }

    public string ProviderToken(TestUser user, RSA key, string kid) =>
        TokenMinter.Mint(new RsaSecurityKey(key) { KeyId = kid }, new AuthOptions { Issuer = "roster-tests", Audience = "roster-tests-api" },
            new TokenRequest(user.Sub, user.Email, user.Name));

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await _jwks.DisposeAsync();
    }
}

public sealed class JwksSqliteApp() : JwksApp(StorageProvider.Sqlite);

public sealed class JwksPostgresApp() : JwksApp(StorageProvider.Postgres);

public abstract class JwksTests(JwksApp app)
{
    [Fact]
    public async Task ATokenSignedByAKeyInTheConfiguredJwksIsAcceptedAndOneSignedByAnyOtherKeyIsNot()
    {
        var user = RosterApp.NewUser("provider");
        var client = app.CreateClient();

        client.DefaultRequestHeaders.Authorization = new("Bearer", app.ProviderToken(user, app.ProviderKey, JwksApp.KeyId));
        await (await client.GetAsync("/api/membership-requests/mine")).ShouldBe(HttpStatusCode.OK);

        using var stranger = RSA.Create(2048);
        client.DefaultRequestHeaders.Authorization = new("Bearer", app.ProviderToken(user, stranger, JwksApp.KeyId));
        await (await client.GetAsync("/api/membership-requests/mine")).ShouldBeProblem(HttpStatusCode.Unauthorized, "unauthorized");
        client.DefaultRequestHeaders.Authorization = new("Bearer", app.ProviderToken(user, stranger, "unknown-kid"));
        await (await client.GetAsync("/api/membership-requests/mine")).ShouldBeProblem(HttpStatusCode.Unauthorized, "unauthorized");
    }
}

public sealed class JwksTestsOnSqlite(JwksSqliteApp app) : JwksTests(app), IClassFixture<JwksSqliteApp>;

public sealed class JwksTestsOnPostgres(JwksPostgresApp app) : JwksTests(app), IClassFixture<JwksPostgresApp>;
