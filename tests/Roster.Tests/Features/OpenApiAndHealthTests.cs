using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Roster.Migrations;
using Roster.Tests.Support;

namespace Roster.Tests.Features;

/// <summary>The public, unauthenticated surface: the OpenAPI document and the health probes.</summary>
public abstract class OpenApiAndHealthTests(RosterApp app)
{
    private const string DocumentRoute = "/openapi/{documentName}.json";
    private static readonly string[] OperationKeys = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

    [Fact]
    public async Task TheOpenApiDocumentListsEveryMappedRoute()
    {
        var document = await GetDocumentAsync();
        var documented = Operations(document).Select(o => (o.Method, o.Route)).ToHashSet();
        var mapped = RouteTable.Of(app);
        Assert.Contains(("GET", DocumentRoute), mapped);

        // Everything mapped is documented, the document itself and the console's HTML pages aside (they are not API operations).
        var undocumented = mapped.Where(e => e != ("GET", DocumentRoute) && !RouteTable.IsConsolePage(e.Route) && !documented.Contains(e)).ToList();
        Assert.True(undocumented.Count == 0, "Mapped but not in /openapi/v1.json: " + string.Join(", ", undocumented.Select(e => $"{e.Method} {e.Route}")));

        // And nothing is documented that is not mapped.
        var phantom = documented.Where(d => !mapped.Contains(d)).ToList();
        Assert.True(phantom.Count == 0, "In /openapi/v1.json but not mapped: " + string.Join(", ", phantom.Select(e => $"{e.Method} {e.Route}")));
    }

    [Fact]
    public async Task EveryApiOperationDocumentsItsUnauthorizedProblemAndHasAnOperationId()
    {
        var document = await GetDocumentAsync();
        var apiOperations = Operations(document).Where(o => o.Route.StartsWith("/api/", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(apiOperations);

        foreach (var (method, route, operation) in apiOperations)
        {
            Assert.False(string.IsNullOrWhiteSpace(operation["operationId"]?.GetValue<string>()), $"{method} {route} has no operationId");
            var unauthorized = operation["responses"]?["401"];
            Assert.True(unauthorized?["content"]?["application/problem+json"] is not null, $"{method} {route} does not document its 401 problem");
        }
        var operationIds = apiOperations.Select(o => o.Operation["operationId"]!.GetValue<string>()).ToList();
        Assert.Equal(operationIds.Count, operationIds.Distinct().Count());
    }

    [Fact]
    public async Task LiveAnswersLive()
    {
        using var response = await app.CreateClient().GetAsync("/health/live");
        var body = await response.ShouldBe(HttpStatusCode.OK);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"status":"live"}"""), body), body.ToJsonString());
    }

    [Fact]
    public async Task ReadyAnswersReadyOnAMigratedDatabase()
    {
        using var response = await app.CreateClient().GetAsync("/health/ready");
        var body = await response.ShouldBe(HttpStatusCode.OK);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"status":"ready"}"""), body), body.ToJsonString());
    }

    [Fact]
    public async Task ReadyIsUnavailableWhileAMigrationIsNotApplied()
    {
        var latest = MigrationCatalog.All[^1].Version;
        await HideMigrationAsync(latest, hide: true);
        try
        {
            using var response = await app.CreateClient().GetAsync("/health/ready");
            var problem = await response.ShouldBeProblem(HttpStatusCode.ServiceUnavailable, "storage_unavailable");
            Assert.Contains(latest, problem.Str("detail"), StringComparison.Ordinal);
        }
        finally
        {
            await HideMigrationAsync(latest, hide: false);
        }
        await (await app.CreateClient().GetAsync("/health/ready")).ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task ProbesAndTheDocumentIgnoreABadToken()
    {
        // A load balancer or a browser with a stale token must still see the public surface.
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "stale.or.forged");
        foreach (var url in new[] { "/health/live", "/health/ready", "/openapi/v1.json" })
            await (await client.GetAsync(url)).ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task AnUnknownDocumentIsNotFound()
    {
        using var response = await app.CreateClient().GetAsync("/openapi/v2.json");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    private async Task<JsonNode> GetDocumentAsync()
    {
        using var response = await app.CreateClient().GetAsync("/openapi/v1.json");
        var document = await response.ShouldBe(HttpStatusCode.OK);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("3.", document["openapi"]!.GetValue<string>(), StringComparison.Ordinal);
        return document;
    }

    private static List<(string Method, string Route, JsonNode Operation)> Operations(JsonNode document) =>
        document["paths"]!.AsObject()
            .SelectMany(path => path.Value!.AsObject()
                .Where(op => OperationKeys.Contains(op.Key))
                .Select(op => (op.Key.ToUpperInvariant(), RouteTable.Normalize(path.Key), op.Value!)))
            .ToList();

    /// <summary>Renames a migration's history row so the runner sees it as not applied, and back.</summary>
    private Task HideMigrationAsync(string version, bool hide) => app.WithDbAsync(async db =>
    {
        var (from, to) = hide ? (version, version + "-hidden") : (version + "-hidden", version);
        var changed = await db.Database.ExecuteSqlRawAsync("UPDATE roster_schema_migrations SET version = {0} WHERE version = {1}", to, from);
        Assert.Equal(1, changed);
    });
}

public sealed class OpenApiAndHealthTestsOnSqlite(SqliteApp app) : OpenApiAndHealthTests(app), IClassFixture<SqliteApp>;

public sealed class OpenApiAndHealthTestsOnPostgres(PostgresApp app) : OpenApiAndHealthTests(app), IClassFixture<PostgresApp>;
