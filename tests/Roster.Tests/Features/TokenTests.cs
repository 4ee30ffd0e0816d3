using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Roster.Infrastructure.Auth;
using Roster.Infrastructure.Data;
using Roster.Tests.Support;

namespace Roster.Tests.Features;

/// <summary>
/// Bearer tokens: only an RS256 token signed by a trusted key, for Roster's issuer and audience, in date and carrying
/// sub and email gets in; the first good request creates or links the caller's local user.
/// </summary>
public abstract class TokenTests(RosterApp app)
{
    private const string Issuer = "roster-tests";
    private const string Audience = "roster-tests-api";
    private static readonly AuthOptions Trusted = new() { Issuer = Issuer, Audience = Audience };

    private readonly Scenario _s = new(app);

    public static TheoryData<string> BadTokens =>
    [
        "signed by another key",
        "signed by another key claiming the trusted key id",
        "expired",
        "not yet valid",
        "without an expiry",
        "wrong audience",
        "wrong issuer",
        "alg none, unsigned",
        "RS256 header with the signature stripped",
        "HS256 keyed with the trusted public key",
        "payload altered after signing",
        "not a JWT",
        "without an email claim",
        "with a blank email claim",
        "without a sub claim",
    ];

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task ABadTokenIsUnauthorizedEverywhereAndCreatesNoUser(string kind)
    {
        var user = RosterApp.NewUser("bad");
        var token = BadToken(kind, user);
        var org = await _s.NewOrg();
        var before = await DbState.CaptureAsync(app);

        foreach (var (method, url) in new[]
                 {
                     (HttpMethod.Get, "/api/membership-requests/mine"),
                     (HttpMethod.Post, "/api/organizations"),
                     (HttpMethod.Post, $"/api/organizations/{org.Id}/requests"),
                     (HttpMethod.Get, "/api/admin/seat-audit"),
                 })
        {
            using var request = new HttpRequestMessage(method, url);
            request.Headers.TryAddWithoutValidation("Authorization", $"Bearer {token}");
            if (method == HttpMethod.Post) request.Content = System.Net.Http.Json.JsonContent.Create(new { name = "Should not exist" });
            using var response = await app.CreateClient().SendAsync(request);
            await response.ShouldBeProblem(HttpStatusCode.Unauthorized, "unauthorized");
        }

        DbState.AssertUnchanged(before, await DbState.CaptureAsync(app));
        Assert.False(await app.WithDbAsync(db => db.Users.AnyAsync(u => u.WorkosUserId == user.Sub || u.Email == user.Email)));
    }

    [Fact]
    public async Task TheTrustedTokenItselfIsAccepted()
    {
        // The control for the theory above: the same shape, signed properly, gets in.
        var user = RosterApp.NewUser("good");
        using var response = await Send(Mint(Trusted, Claims(user)), "/api/membership-requests/mine");
        await response.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task TheFirstAuthenticatedRequestCreatesTheLocalUser()
    {
        var id = Guid.NewGuid().ToString("N")[..12];
        var user = new TestUser($"user_{id}", $"  First.Request.{id}@Example.COM ", $"First {id}");
        Assert.False(await app.WithDbAsync(db => db.Users.AnyAsync(u => u.WorkosUserId == user.Sub)));

        await (await _s.As(user).GetAsync("/api/membership-requests/mine")).ShouldBe(HttpStatusCode.OK);
        await (await _s.As(user).GetAsync("/api/membership-requests/mine/pending")).ShouldBe(HttpStatusCode.OK);

        var rows = await app.WithDbAsync(db => db.Users.AsNoTracking().Where(u => u.WorkosUserId == user.Sub).ToListAsync());
        var created = Assert.Single(rows);
        Assert.Equal($"first.request.{id}@example.com", created.Email);
        Assert.Equal(user.Name, created.Name);
        Assert.True(created.EmailVerified);
        Assert.Null(created.DeletedAt);
    }

    [Fact]
    public async Task ConcurrentFirstRequestsOfOnePersonCreateOneUser()
    {
        // Several people, each racing themselves: one request can look up the sub before another commits the row and
        // the email after, which must still be the same person and not "an email of another account".
        for (var round = 0; round < 6; round++)
        {
            var user = RosterApp.NewUser("racer");

            var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => _s.As(user).GetAsync("/api/membership-requests/mine")));

            foreach (var response in responses) await response.ShouldBe(HttpStatusCode.OK);
            Assert.Equal(1, await app.WithDbAsync(db => db.Users.CountAsync(u => u.WorkosUserId == user.Sub)));
        }
    }

    [Fact]
    public async Task AUserKnownByEmailOnlyIsLinkedNotDuplicatedAndGetsTheirWebhookMemberships()
    {
        var org = await _s.NewOrg();
        var id = Guid.NewGuid().ToString("N")[..12];
        var email = $"linked.{id}@example.com";
        var sub = $"user_{id}";
        var existingId = Guid.CreateVersion7();
        var membershipId = Guid.CreateVersion7();
        await app.WithDbAsync(async db =>
        {
            var now = DateTime.UtcNow;
            db.Users.Add(new User { Id = existingId, Email = email, Name = "Imported", EmailVerified = false, CreatedAt = now, UpdatedAt = now });
            // Arrived from WorkOS before Roster knew the person: linked by WorkOS user id, no local user yet.
            db.Memberships.Add(new Membership
            {
                Id = membershipId, OrganizationId = org.Id, UserId = null, WorkosUserId = sub, Role = "member",
                Status = "active", Source = "webhook", SeatType = "community_only", CreatedAt = now, UpdatedAt = now,
            });
            await db.SaveChangesAsync();
        });
        var usersBefore = await app.WithDbAsync(db => db.Users.CountAsync());

        var person = new TestUser(sub, $"Linked.{id}@Example.com", $"Linked {id}");
        await (await _s.As(person).GetAsync("/api/membership-requests/mine")).ShouldBe(HttpStatusCode.OK);

        Assert.Equal(usersBefore, await app.WithDbAsync(db => db.Users.CountAsync()));
        var linked = Assert.Single(await app.WithDbAsync(db => db.Users.AsNoTracking().Where(u => u.Email == email).ToListAsync()));
        Assert.Equal(existingId, linked.Id);
        Assert.Equal(sub, linked.WorkosUserId);
        Assert.True(linked.EmailVerified);
        Assert.Equal(person.Name, linked.Name);
        Assert.Equal(existingId, (await app.MembershipsOfAsync(org.Id)).Single(m => m.Id == membershipId).UserId);

        var members = (await (await _s.As(person).GetAsync($"/api/organizations/{org.Id}/members")).ShouldBe(HttpStatusCode.OK)).AsArray();
        var mine = Assert.Single(members, m => m!.Str("id") == membershipId.ToString())!;
        Assert.Equal(existingId.ToString(), mine.Str("userId"));
        Assert.Equal(email, mine.Str("email"));
    }

    [Fact]
    public async Task AnEmailAlreadyLinkedToAnotherWorkOsUserIsNotTakenOver()
    {
        var first = RosterApp.NewUser("first");
        var firstId = await _s.UserIdOf(first);
        var impostor = first with { Sub = $"user_{Guid.NewGuid():N}"[..17] };

        await (await _s.As(impostor).GetAsync("/api/membership-requests/mine")).ShouldBeProblem(HttpStatusCode.Forbidden, "forbidden");

        var owner = Assert.Single(await app.WithDbAsync(db => db.Users.AsNoTracking().Where(u => u.Email == first.Email).ToListAsync()));
        Assert.Equal(firstId, owner.Id);
        Assert.Equal(first.Sub, owner.WorkosUserId);
        Assert.False(await app.WithDbAsync(db => db.Users.AnyAsync(u => u.WorkosUserId == impostor.Sub)));
    }

    private Task<HttpResponseMessage> Send(string token, string url)
    {
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client.GetAsync(url);
    }

    private static SecurityKey TrustedKey => DevSigningKey.Parse(RosterApp.SigningKeyPem);

    private static Dictionary<string, object> Claims(TestUser user) => new()
    {
        ["sub"] = user.Sub,
        ["email"] = user.Email,
        ["email_verified"] = true,
        ["name"] = user.Name,
        // Even a token claiming platform admin gets nowhere when it is not trusted.
        ["permissions"] = new[] { AuthOptions.PlatformAdminPermission },
    };

    private static string Mint(AuthOptions options, Dictionary<string, object> claims, SecurityKey? key = null, DateTime? now = null,
        string algorithm = SecurityAlgorithms.RsaSha256, bool expires = true)
    {
        var issuedAt = now ?? DateTime.UtcNow;
        var handler = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false };
        return handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = options.Issuer,
            Audience = options.Audience,
            IssuedAt = issuedAt,
            NotBefore = issuedAt.AddSeconds(-5),
            Expires = expires ? issuedAt.AddHours(1) : null,
            Claims = claims,
            SigningCredentials = new SigningCredentials(key ?? TrustedKey, algorithm),
        });
    }

    private static string BadToken(string kind, TestUser user)
    {
        var claims = Claims(user);
        switch (kind)
        {
            case "signed by another key":
                return Mint(Trusted, claims, new RsaSecurityKey(RSA.Create(2048)) { KeyId = "someone-else" });
            case "signed by another key claiming the trusted key id":
                return Mint(Trusted, claims, new RsaSecurityKey(RSA.Create(2048)) { KeyId = TrustedKey.KeyId });
            case "expired":
                return Mint(Trusted, claims, now: DateTime.UtcNow.AddHours(-2));
            case "not yet valid":
                return Mint(Trusted, claims, now: DateTime.UtcNow.AddHours(1));
            case "without an expiry":
                return Mint(Trusted, claims, expires: false);
            case "wrong audience":
                return Mint(new AuthOptions { Issuer = Issuer, Audience = "some-other-api" }, claims);
            case "wrong issuer":
                return Mint(new AuthOptions { Issuer = "https://evil.example.com", Audience = Audience }, claims);
            case "alg none, unsigned":
            {
                var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
                var payload = new Dictionary<string, object>(claims) { ["iss"] = Issuer, ["aud"] = Audience, ["iat"] = now, ["nbf"] = now - 5, ["exp"] = now + 3600 };
                var token = new JsonWebTokenHandler().CreateToken(JsonSerializer.Serialize(payload));
                Assert.Equal("none", new JsonWebToken(token).Alg);
                return token;
            }
            case "RS256 header with the signature stripped":
            {
                var good = Mint(Trusted, claims);
                return good[..(good.LastIndexOf('.') + 1)];
            }
            case "HS256 keyed with the trusted public key":
            {
                using var rsa = RSA.Create();
                rsa.ImportFromPem(RosterApp.SigningKeyPem);
                var hmacKey = new SymmetricSecurityKey(rsa.ExportSubjectPublicKeyInfo()) { KeyId = TrustedKey.KeyId };
                return Mint(Trusted, claims, hmacKey, algorithm: SecurityAlgorithms.HmacSha256);
            }
            case "payload altered after signing":
            {
                var parts = Mint(Trusted, claims).Split('.');
                var payload = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(Base64UrlEncoder.Decode(parts[1]))!;
                payload["sub"] = JsonSerializer.SerializeToElement(user.Sub + "x");
                parts[1] = Base64UrlEncoder.Encode(JsonSerializer.Serialize(payload));
                return string.Join('.', parts);
            }
            case "not a JWT":
                return "definitely-not-a-token";
            case "without an email claim":
                claims.Remove("email");
                return Mint(Trusted, claims);
            case "with a blank email claim":
                claims["email"] = "   ";
                return Mint(Trusted, claims);
            case "without a sub claim":
                claims.Remove("sub");
                return Mint(Trusted, claims);
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "No such bad token.");
        }
    }
}

public sealed class TokenTestsOnSqlite(SqliteApp app) : TokenTests(app), IClassFixture<SqliteApp>;

public sealed class TokenTestsOnPostgres(PostgresApp app) : TokenTests(app), IClassFixture<PostgresApp>;
