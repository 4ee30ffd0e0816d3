using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Http;
using Roster.Tests.Features;
using Roster.Tests.Support;

namespace Roster.Tests.ProductApi;

/// <summary>Idempotency-Key on mutating /api requests: Stripe's semantics, stored per caller in the database.</summary>
public abstract class IdempotencyTests(ProductApiApp app)
{
    private readonly Scenario _s = new(app);

    private static HttpRequestMessage Post(string url, object body, string? key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = JsonContent.Create(body, options: Http.Json) };
        if (key is not null) request.Headers.Add("Idempotency-Key", key);
        return request;
    }

    [Fact]
    public async Task ReplayingAPostWithTheSameKeyReturnsTheFirstAnswerAndCreatesOneRow()
    {
        var founder = RosterApp.NewUser("founder");
        var client = _s.As(founder);
        var key = Guid.NewGuid().ToString();
        var name = $"Idempotent {Guid.NewGuid():N}";

        using var first = await client.SendAsync(Post("/api/organizations", new { name }, key));
        using var second = await client.SendAsync(Post("/api/organizations", new { name }, key));

        var firstBody = await first.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal(firstBody, await second.Content.ReadAsStringAsync());
        Assert.Equal(first.Headers.Location, second.Headers.Location);
        Assert.Equal(first.Content.Headers.ContentType, second.Content.Headers.ContentType);
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal("true", Assert.Single(second.Headers.GetValues("Idempotent-Replayed")));
        Assert.Equal(1, await app.WithDbAsync(db => db.Organizations.CountAsync(o => o.Name == name)));

        // Without the header nothing changes: each request runs.
        await (await client.PostJson("/api/organizations", new { name })).ShouldBe(HttpStatusCode.Created);
        Assert.Equal(2, await app.WithDbAsync(db => db.Organizations.CountAsync(o => o.Name == name)));
    }

    [Fact]
    public async Task AReplayedAddChangesNothingEvenAfterTheStateMoved()
    {
        var staffed = await _s.NewStaffedOrg();
        var invitee = RosterApp.NewUser("invitee");
        var body = new { userId = await _s.UserIdOf(invitee) };
        var url = $"/api/organizations/{staffed.Id}/members";
        var key = Guid.NewGuid().ToString();

        using var first = await _s.As(staffed.Owner).SendAsync(Post(url, body, key));
        var created = await first.ShouldBe(HttpStatusCode.Created);
        await _s.Accept(invitee, Guid.Parse(created.Str("id")));
        using var replay = await _s.As(staffed.Owner).SendAsync(Post(url, body, key));

        Assert.Equal(created.ToJsonString(), (await replay.ShouldBe(HttpStatusCode.Created)).ToJsonString());
        Assert.Equal(4, (await app.MembershipsOfAsync(staffed.Id)).Count(m => m.DeletedAt == null));
        // The same request without the key is judged afresh.
        await (await _s.As(staffed.Owner).PostJson(url, body)).ShouldBeProblem(HttpStatusCode.Conflict, "already_member");
    }

    [Fact]
    public async Task TheSameKeyWithAnotherBodyIsIdempotencyKeyReused()
    {
        var client = _s.As(RosterApp.NewUser("founder"));
        var key = Guid.NewGuid().ToString();
        await (await client.SendAsync(Post("/api/organizations", new { name = "First" }, key))).ShouldBe(HttpStatusCode.Created);

        await (await client.SendAsync(Post("/api/organizations", new { name = "Second" }, key)))
            .ShouldBeProblem(HttpStatusCode.UnprocessableEntity, "idempotency_key_reused");
        var other = new HttpRequestMessage(HttpMethod.Delete, $"/api/membership-requests/{Guid.NewGuid()}");
        other.Headers.Add("Idempotency-Key", key);
        await (await client.SendAsync(other)).ShouldBeProblem(HttpStatusCode.UnprocessableEntity, "idempotency_key_reused");
    }

    [Fact]
    public async Task AKeyWhoseFirstRequestIsStillRunningIsIdempotencyKeyInUse()
    {
        var founder = RosterApp.NewUser("founder");
        var userId = await _s.UserIdOf(founder);
        var client = _s.As(founder);
        var key = Guid.NewGuid().ToString();
        // The first request, claimed and not yet answered, exactly as the filter leaves it while the endpoint runs.
        await client.SendAsync(Post("/api/organizations", new { name = "Running" }, key));
        await app.WithDbAsync(db => db.IdempotencyKeys.Where(r => r.UserId == userId && r.Key == key)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.CompletedAt, (DateTime?)null).SetProperty(r => r.StatusCode, (int?)null)
                .SetProperty(r => r.CreatedAt, app.Clock.UtcNow)));

        await (await client.SendAsync(Post("/api/organizations", new { name = "Running" }, key)))
            .ShouldBeProblem(HttpStatusCode.Conflict, "idempotency_key_in_use");

        // One that never finished (its server went away) frees the key after a while.
        app.Clock.Advance(IdempotencyFilter.AbandonedAfter + TimeSpan.FromSeconds(1));
        await (await client.SendAsync(Post("/api/organizations", new { name = "Running" }, key))).ShouldBe(HttpStatusCode.Created);
    }

    [Fact]
    public async Task KeysArePerCaller()
    {
        var key = Guid.NewGuid().ToString();
        var name = $"Per caller {Guid.NewGuid():N}";
        await (await _s.As(RosterApp.NewUser("a")).SendAsync(Post("/api/organizations", new { name }, key))).ShouldBe(HttpStatusCode.Created);
        using var other = await _s.As(RosterApp.NewUser("b")).SendAsync(Post("/api/organizations", new { name }, key));
        await other.ShouldBe(HttpStatusCode.Created);
        Assert.False(other.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(2, await app.WithDbAsync(db => db.Organizations.CountAsync(o => o.Name == name)));
    }

    [Fact]
    public async Task AnInvalidRequestDoesNotUseUpItsKeyButAConflictIsRemembered()
    {
        var staffed = await _s.NewStaffedOrg();
        var client = _s.As(staffed.Owner);
        var key = Guid.NewGuid().ToString();
        await (await client.SendAsync(Post($"/api/organizations/{staffed.Id}/members", new { userId = "" }, key)))
            .ShouldBeProblem(HttpStatusCode.BadRequest, "validation_failed");
        var body = new { userId = await _s.UserIdOf(staffed.Member) };
        await (await client.SendAsync(Post($"/api/organizations/{staffed.Id}/members", body, key))).ShouldBeProblem(HttpStatusCode.Conflict, "already_member");
        using var replay = await client.SendAsync(Post($"/api/organizations/{staffed.Id}/members", body, key));
        await replay.ShouldBeProblem(HttpStatusCode.Conflict, "already_member");
        Assert.True(replay.Headers.Contains("Idempotent-Replayed"));
    }

    [Fact]
    public async Task AMalformedKeyIsAValidationProblem()
    {
        var client = _s.As(RosterApp.NewUser("founder"));
        foreach (var bad in new[] { new string('k', 256), "with space" })
            await (await client.SendAsync(Post("/api/organizations", new { name = "x" }, bad))).ShouldBeProblem(HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task KeysExpireAfterADayAndAreSwept()
    {
        var founder = RosterApp.NewUser("founder");
        var client = _s.As(founder);
        var key = Guid.NewGuid().ToString();
        var name = $"Expiring {Guid.NewGuid():N}";
        await (await client.SendAsync(Post("/api/organizations", new { name }, key))).ShouldBe(HttpStatusCode.Created);
        var userId = await _s.UserIdOf(founder);

        app.Clock.Advance(TimeSpan.FromHours(24) + TimeSpan.FromSeconds(1));
        Assert.True((await app.SweepAsync()).IdempotencyKeys >= 1);

        Assert.False(await app.WithDbAsync(db => db.IdempotencyKeys.AnyAsync(r => r.UserId == userId && r.Key == key)));
        using var again = await client.SendAsync(Post("/api/organizations", new { name }, key));
        await again.ShouldBe(HttpStatusCode.Created);
        Assert.False(again.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(2, await app.WithDbAsync(db => db.Organizations.CountAsync(o => o.Name == name)));
    }

    [Fact]
    public void EveryMutatingApiRouteHonoursIdempotencyKeys()
    {
        var missing = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => RouteTable.Normalize(e.RoutePattern.RawText ?? "").StartsWith("/api/", StringComparison.Ordinal))
            .Where(e => (e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.IHttpMethodMetadata>()?.HttpMethods ?? [])
                .Any(IdempotencyFilter.IsMutating))
            .Where(e => e.Metadata.GetMetadata<IdempotencyKeysMetadata>() is null)
            .Select(e => e.RoutePattern.RawText)
            .ToList();
        Assert.True(missing.Count == 0, "Mutating /api routes without Idempotency-Key support (map them on the api group in Program.cs): " +
                                        string.Join(", ", missing));
    }
}

public sealed class IdempotencyTestsOnSqlite(ProductApiSqliteApp app) : IdempotencyTests(app), IClassFixture<ProductApiSqliteApp>;

public sealed class IdempotencyTestsOnPostgres(ProductApiPostgresApp app) : IdempotencyTests(app), IClassFixture<ProductApiPostgresApp>;
