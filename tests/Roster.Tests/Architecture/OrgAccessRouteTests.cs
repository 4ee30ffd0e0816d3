using System.Net;
using System.Reflection;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Roster.Infrastructure.Auth;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Memberships;
using Roster.Tests.Support;

namespace Roster.Tests.Architecture;

/// <summary>
/// Organization access is declared on the route (RequireOrgAccess), checked by one filter, and handed to the handler as
/// a bound <see cref="OrgAccess"/>: no feature checks it by hand, and the order of answers is what it was when each
/// handler checked at its start (a malformed body is 400 before a non-member's 404).
/// </summary>
public abstract class OrgAccessRouteTests(RosterApp app)
{
    private readonly Scenario _s = new(app);

    /// <summary>API routes under {orgId} that only look the organization up (open to any signed-in user, or admin-only by policy).</summary>
    private static readonly string[] LookUpOnly =
    [
        "POST /api/organizations/{orgId}/requests/",
        "PUT /api/organizations/{orgId}/plan",
        "POST /api/organizations/{orgId}/leave",
    ];

    private IEnumerable<(string Route, RouteEndpoint Endpoint)> OrgRoutes() =>
        app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api/", StringComparison.Ordinal) == true
                        && e.RoutePattern.RawText.Contains("{orgId}", StringComparison.Ordinal))
            .SelectMany(e => (e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? ["*"])
                .Select(method => ($"{method} {e.RoutePattern.RawText}", e)));

    [Fact]
    public void NoFeatureChecksOrganizationAccessByHand()
    {
        var check = typeof(OrgAccess).GetMethod(nameof(OrgAccess.CheckAsync))!;
        var assembly = typeof(Program).Assembly;
        Assert.Empty(DependencyGraph.CallersOf(assembly, "Roster.Features", check));
        // The reader does see the one place that calls it (else the assertion above would pass on anything).
        Assert.Contains(DependencyGraph.CallersOf(assembly, "Roster.Infrastructure", check),
            c => c.StartsWith(typeof(OrgAccessRoutes).FullName!, StringComparison.Ordinal));
    }

    [Fact]
    public void EveryRouteUnderAnOrganizationDeclaresTheAccessItNeeds()
    {
        var undeclared = OrgRoutes()
            .Where(r => r.Endpoint.Metadata.GetMetadata<OrgAccessRequirement>() is null)
            .Select(r => r.Route)
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.Equal(LookUpOnly.Order(StringComparer.Ordinal), undeclared);
    }

    [Fact]
    public void EveryHandlerThatTakesOrgAccessIsOnARouteThatChecksIt()
    {
        var unchecked_ = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<MethodInfo>()?.GetParameters().Any(p => p.ParameterType == typeof(OrgAccess)) == true
                        && e.Metadata.GetMetadata<OrgAccessRequirement>() is null)
            .Select(e => e.DisplayName)
            .ToList();
        Assert.Empty(unchecked_);
        Assert.Contains(app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>(),
            e => e.Metadata.GetMetadata<MethodInfo>()?.GetParameters().Any(p => p.ParameterType == typeof(OrgAccess)) == true);
    }

    [Fact]
    public void AnAccessThatWasNeverCheckedCannotBeRead()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => OrgAccess.Unchecked.Organization);
        Assert.Contains("RequireOrgAccess", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMalformedBodyIsAnsweredBeforeANonMembersNotFoundAsWhenHandlersCheckedAccessThemselves()
    {
        var org = await _s.NewOrg();
        var outsider = RosterApp.NewUser("outsider");
        var member = RosterApp.NewUser("member");
        await _s.AddActive(org.Id, org.Owner, member);
        var someone = Guid.NewGuid();
        var calls = new (string Method, string Url, object Bad, object Good)[]
        {
            ("POST", $"/api/organizations/{org.Id}/members", new { userId = "" }, new { userId = Guid.NewGuid().ToString() }),
            ("PATCH", $"/api/organizations/{org.Id}/members/{someone}", new { }, new { seatType = "contributor" }),
            ("PATCH", $"/api/organizations/{org.Id}", new { name = "" }, new { name = "Renamed" }),
            ("PUT", $"/api/organizations/{org.Id}/requests/{someone}/approve", new { seatType = "no_such_seat_type" }, new { }),
        };
        foreach (var (method, url, bad, good) in calls)
        {
            foreach (var who in new[] { outsider, member })
                await (await Send(who, method, url, bad)).ShouldBeProblem(HttpStatusCode.BadRequest, "validation_failed");
            await (await Send(outsider, method, url, good)).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
            await (await Send(member, method, url, good)).ShouldBeProblem(HttpStatusCode.Forbidden, "forbidden");
        }
    }

    [Fact]
    public async Task TheMembersListTellsNothingHereFromNotVisible()
    {
        var org = await _s.NewOrg();
        var outsider = RosterApp.NewUser("outsider");
        var admin = RosterApp.NewUser("platform", admin: true);
        // The statement lists only for members: an outsider's empty page becomes the 404 of an organization that does not exist.
        await (await _s.As(outsider).GetAsync($"/api/organizations/{org.Id}/members")).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
        await (await _s.As(org.Owner).GetAsync($"/api/organizations/{org.Id}/members?role=admin")).ShouldBe(HttpStatusCode.OK);
        await (await _s.As(admin).GetAsync($"/api/organizations/{Guid.NewGuid()}/members")).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
        await (await _s.As(admin).GetAsync("/api/organizations/org_unknown/members")).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
        // A bad query is answered first, whoever asks (the list's own validation runs before the filter's second look).
        await (await _s.As(outsider).GetAsync($"/api/organizations/{org.Id}/members?status=gone")).ShouldBeProblem(HttpStatusCode.BadRequest, "validation_failed");
    }

    private Task<HttpResponseMessage> Send(TestUser who, string method, string url, object body) => method switch
    {
        "POST" => _s.As(who).PostJson(url, body),
        "PATCH" => _s.As(who).PatchJson(url, body),
        _ => _s.As(who).PutJson(url, body),
    };
}

public sealed class OrgAccessRouteTestsOnSqlite(SqliteApp app) : OrgAccessRouteTests(app), IClassFixture<SqliteApp>;

public sealed class OrgAccessRouteTestsOnPostgres(PostgresApp app) : OrgAccessRouteTests(app), IClassFixture<PostgresApp>;
