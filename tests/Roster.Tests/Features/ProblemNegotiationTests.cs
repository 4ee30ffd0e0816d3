using System.Net;
using Roster.Infrastructure.Auth;
using Roster.Tests.Support;

namespace Roster.Tests.Features;

/// <summary>
/// DESIGN.md section 5: errors are application/problem+json with a code — whatever the request's Accept header asks for.
/// The framework's problem writer declines when Accept names no JSON type, which left status-code pages answering
/// text/plain, the exception handler an empty body, and a rejected sign-in or a rate-limited search a 500 (found by
/// Reliability/FuzzTests). The OpenAPI endpoint wrote its own text/plain 404 for an unknown document name.
/// </summary>
public abstract class ProblemNegotiationTests(RosterApp app)
{
    private readonly Scenario _s = new(app);

    public static TheoryData<string> Accepts => ["text/html", "application/xml", "text/html, application/xhtml+xml", "image/png", "nonsense/"];

    [Theory]
    [MemberData(nameof(Accepts))]
    public async Task EveryKindOfErrorIsAProblemWhateverTheClientAccepts(string accept)
    {
        var owner = RosterApp.NewUser("owner");
        var org = await _s.NewOrg(owner);
        var before = await DbState.CaptureAsync(app);

        // 401 from the authentication challenge (status-code pages).
        await Send(accept, HttpMethod.Get, $"/api/organizations/{org.Id}/members", null).ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
        // 404 for no route at all, 405 for a route without the method (routing + status-code pages).
        await Send(accept, HttpMethod.Get, "/api/no-such-thing", owner).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");
        await Send(accept, HttpMethod.Delete, $"/api/organizations/{org.Id}/seats", owner).ShouldBeProblemAsync(HttpStatusCode.MethodNotAllowed, "method_not_allowed");
        // 400 and 415 thrown by the body reader (exception handler).
        await Send(accept, HttpMethod.Post, "/api/organizations", owner, "{\"name\":", "application/json").ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        await Send(accept, HttpMethod.Post, "/api/organizations", owner, "name=x", "text/plain").ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
        // 403 from sign-in: the token's email belongs to another WorkOS user (written by the provisioning middleware itself).
        var impostor = owner with { Sub = WorkOs.NewId("user") };
        await Send(accept, HttpMethod.Get, "/api/membership-requests/mine", impostor).ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        // 404 for an OpenAPI document that does not exist.
        await Send(accept, HttpMethod.Get, "/openapi/v2.json", null).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");

        DbState.AssertUnchanged(before, await DbState.CaptureAsync(app));
    }

    [Fact]
    public async Task TheOpenApiDocumentIsStillServedUnderAnyCase()
    {
        foreach (var url in new[] { "/openapi/v1.json", "/openapi/V1.json" })
            await (await app.CreateClient().GetAsync(url)).ShouldBe(HttpStatusCode.OK);
    }

    private async Task<HttpResponseMessage> Send(string accept, HttpMethod method, string url, TestUser? user, string? body = null,
        string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, url);
        request.Headers.TryAddWithoutValidation("Accept", accept);
        if (user is not null) request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + RosterApp.TokenFor(user));
        if (body is not null)
        {
            request.Content = new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(body));
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }
        return await app.CreateClient().SendAsync(request);
    }
}

internal static class ProblemNegotiationAssertions
{
    public static async Task ShouldBeProblemAsync(this Task<HttpResponseMessage> response, HttpStatusCode status, string code)
    {
        using var r = await response;
        await r.ShouldBeProblem(status, code);
    }
}

public sealed class ProblemNegotiationTestsOnSqlite(SqliteApp app) : ProblemNegotiationTests(app), IClassFixture<SqliteApp>;

public sealed class ProblemNegotiationTestsOnPostgres(PostgresApp app) : ProblemNegotiationTests(app), IClassFixture<PostgresApp>;
