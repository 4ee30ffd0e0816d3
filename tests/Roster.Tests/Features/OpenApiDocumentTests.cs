using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Roster.Infrastructure.Http;
using Roster.Tests.Support;
using Roster.Infrastructure.WorkOs;

namespace Roster.Tests.Features;

/// <summary>
/// What /openapi/v1.json promises a client generator, checked operation by operation. Every rule here applies to every
/// operation the service maps, so a new route fails these tests until it is documented (summary, description, examples,
/// statuses) — see ApiDocs for how an endpoint states what only it knows.
/// </summary>
public abstract class OpenApiDocumentTests(RosterApp app)
{
    private static readonly string[] OperationKeys = ["get", "put", "post", "delete", "patch"];
    // Probes are public; WorkOS's deliveries authenticate by their signature header instead of a token.
    private static bool IsPublic(string route) => route.StartsWith("/health/", StringComparison.Ordinal) || route.StartsWith("/webhooks/", StringComparison.Ordinal);

    // Operations that read their body themselves (verified over its raw bytes) and never refuse a media type.
    private static bool ReadsRawBody(JsonObject op) =>
        op["parameters"]?.AsArray().Any(p => p!["name"]!.GetValue<string>() == "WorkOS-Signature") == true;

    // Operations that cannot answer 503: liveness never touches storage; a WorkOS action answers its configured verdict instead.
    private static readonly string[] NeverUnavailable = ["/health/live", "/webhooks/workos/actions"];

    private async Task<JsonNode> DocumentAsync()
    {
        using var response = await app.CreateClient().GetAsync("/openapi/v1.json");
        return await response.ShouldBe(HttpStatusCode.OK);
    }

    private static IEnumerable<(string Method, string Route, JsonObject Operation)> Operations(JsonNode document) =>
        document["paths"]!.AsObject().SelectMany(path => path.Value!.AsObject()
            .Where(op => OperationKeys.Contains(op.Key))
            .Select(op => (op.Key.ToUpperInvariant(), RouteTable.Normalize(path.Key), op.Value!.AsObject())));

    private static JsonNode Schema(JsonNode document, string name) =>
        document["components"]!["schemas"]![name] ?? throw new Xunit.Sdk.XunitException($"no schema {name}");

    private static JsonNode Resolve(JsonNode document, JsonNode schema) =>
        schema["$ref"]?.GetValue<string>() is { } reference ? Schema(document, reference.Split('/')[^1]) : schema;

    private static IEnumerable<string> Failures(JsonNode document, Func<string, string, JsonObject, string?> rule) =>
        Operations(document).Select(o => rule(o.Method, o.Route, o.Operation) is { } failure ? $"{o.Method} {o.Route}: {failure}" : null).OfType<string>();

    private static void AssertEveryOperation(JsonNode document, Func<string, string, JsonObject, string?> rule)
    {
        var failures = Failures(document, rule).ToList();
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task EveryOperationHasASummaryADescriptionAndAnOperationId()
    {
        var document = await DocumentAsync();
        AssertEveryOperation(document, (_, _, op) =>
            string.IsNullOrWhiteSpace(op["summary"]?.GetValue<string>()) ? "no summary"
            : (op["description"]?.GetValue<string>()?.Length ?? 0) < 40 ? "no description (who may call it, and the rule it enforces)"
            : string.IsNullOrWhiteSpace(op["operationId"]?.GetValue<string>()) ? "no operationId"
            : null);
    }

    [Fact]
    public async Task EveryOperationThatNeedsATokenSaysSoAndThePublicOnesSayTheyDoNot()
    {
        var document = await DocumentAsync();
        var scheme = document["components"]!["securitySchemes"]![Infrastructure.Http.OpenApi.RosterOpenApi.BearerScheme]!;
        Assert.Equal("http", scheme["type"]!.GetValue<string>());
        Assert.Equal("bearer", scheme["scheme"]!.GetValue<string>());
        Assert.Equal("JWT", scheme["bearerFormat"]!.GetValue<string>());

        AssertEveryOperation(document, (_, route, op) =>
        {
            var security = op["security"] as JsonArray;
            if (security is null) return "no security requirement (an empty one for public operations)";
            if (IsPublic(route)) return security.Count == 0 ? null : "a public operation asks for credentials";
            if (security.Count != 1 || security[0]?["bearer"] is null) return "does not require the bearer scheme";
            return op["responses"]?["401"] is null ? "no 401" : null;
        });
    }

    [Fact]
    public async Task EveryJsonBodyHasExamplesAndItsUnsupportedMediaTypeAnswer()
    {
        var document = await DocumentAsync();
        AssertEveryOperation(document, (_, route, op) =>
        {
            if (op["requestBody"]?["content"] is not JsonObject content) return null;
            var json = content["application/json"];
            if (json is null) return "a body that is not JSON";
            if (json["examples"] is not JsonObject { Count: > 0 } && json["example"] is null) return "no request example";
            if (!ReadsRawBody(op) && op["responses"]?["415"] is null) return "no 415";
            return op["responses"]?["400"] is null ? "no 400" : null;
        });
    }

    [Fact]
    public async Task EveryOperationDocumentsServerFailuresAndTheRetryAfterOfItsRetryableAnswers()
    {
        var document = await DocumentAsync();
        AssertEveryOperation(document, (_, route, op) =>
        {
            var responses = op["responses"]!.AsObject();
            if (responses["500"] is null) return "no 500";
            if (!NeverUnavailable.Contains(route) && responses["503"] is null) return "no 503 (storage unavailable)";
            if (responses["429"] is { } tooMany && tooMany["headers"]?["Retry-After"]?["required"]?.GetValue<bool>() != true)
                return "429 without its Retry-After header";
            if (responses["503"] is { } unavailable && route != "/health/ready" && unavailable["headers"]?["Retry-After"] is null)
                return "503 without Retry-After";
            return null;
        });
        var search = Operations(document).Single(o => o.Route == "/api/organizations/{orgId}/members/search").Operation;
        Assert.NotNull(search["responses"]!["429"]);
    }

    [Fact]
    public async Task EveryProblemAnswerIsTheProblemSchemaWithTheCodesItCarries()
    {
        var document = await DocumentAsync();
        var problem = Schema(document, "Problem");
        Assert.Equal(["code", "status", "title", "traceId"], problem["required"]!.AsArray().Select(n => n!.GetValue<string>()).Order());
        Assert.Equal("integer", problem["properties"]!["status"]!["type"]!.GetValue<string>());
        Assert.NotNull(problem["properties"]!["errors"]!["additionalProperties"]);
        var codes = Schema(document, "ProblemCode")["enum"]!.AsArray().Select(n => n!.GetValue<string>()).ToHashSet();
        var declared = typeof(ErrorCodes).GetFields().Select(f => (string)f.GetRawConstantValue()!).ToHashSet();
        Assert.True(declared.IsSubsetOf(codes), $"ProblemCode enum {string.Join(",", codes)} lacks some ErrorCodes constant");
        Assert.Null(document["components"]!["schemas"]!["ProblemDetails"]);

        AssertEveryOperation(document, (_, _, op) =>
        {
            foreach (var (status, response) in op["responses"]!.AsObject())
            {
                if (status[0] is '2') continue;
                var schema = response?["content"]?["application/problem+json"]?["schema"];
                if (schema is null) return $"{status} is not application/problem+json";
                if (schema["allOf"]?[0]?["$ref"]?.GetValue<string>() != "#/components/schemas/Problem") return $"{status} is not the Problem schema";
                var answered = schema["allOf"]![1]!["properties"]!["code"]!["enum"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
                if (answered.Count == 0 || answered.Any(c => !codes.Contains(c))) return $"{status} names codes outside ProblemCode";
            }
            return null;
        });
        // Every code is answered somewhere.
        var used = Operations(document).SelectMany(o => o.Operation["responses"]!.AsObject())
            .SelectMany(r => r.Value?["content"]?["application/problem+json"]?["schema"]?["allOf"]?[1]?["properties"]?["code"]?["enum"]?.AsArray()
                             .Select(n => n!.GetValue<string>()) ?? []).ToHashSet();
        Assert.Empty(codes.Except(used).Except([ErrorCodes.MethodNotAllowed, ErrorCodes.Conflict]));
    }

    [Fact]
    public async Task EveryAnswerTheSuiteExpectsIsDocumentedWithItsCode()
    {
        // The authorization matrix and the bad-input cases pin down what each route answers; the document must say the same.
        var document = await DocumentAsync();
        var operations = Operations(document).ToDictionary(o => (o.Method, o.Route), o => o.Operation);
        var expected = AuthorizationMatrix.Rows
            .SelectMany(r => r.Expected.Values.Select(o => (r.Method, r.Route, o.Status, o.Code, From: $"matrix row {r.Name}")))
            .Concat(BadInputTests.Cases.Select(c => (c.Method, c.Route, c.Status, Code: (string?)c.Code, From: $"bad-input case {c.Name}")));
        var missing = new List<string>();
        foreach (var (method, route, status, code, from) in expected.Where(e => e.Route != "/openapi/{documentName}.json"))
        {
            if (!operations.TryGetValue((method, route), out var op)) { missing.Add($"{from}: {method} {route} is not documented"); continue; }
            var response = op["responses"]![status.ToString(System.Globalization.CultureInfo.InvariantCulture)];
            if (response is null) { missing.Add($"{from}: {method} {route} does not document {status}"); continue; }
            if (code is null || status < 300) continue;
            var codes = response["content"]?["application/problem+json"]?["schema"]?["allOf"]?[1]?["properties"]?["code"]?["enum"]?.AsArray()
                .Select(n => n!.GetValue<string>()).ToList() ?? [];
            if (!codes.Contains(code)) missing.Add($"{from}: {method} {route} {status} does not list code {code}");
        }
        Assert.True(missing.Count == 0, string.Join("\n", missing.Distinct()));
    }

    [Fact]
    public async Task RequestBodiesMatchDesignOptionalFieldsAreOptionalAndNeverNull()
    {
        var document = await DocumentAsync();
        static string[] Required(JsonNode schema) => schema["required"]?.AsArray().Select(n => n!.GetValue<string>()).Order().ToArray() ?? [];

        // POST …/members {userId, role?, seatType?}
        var add = Schema(document, "AddMemberRequest");
        Assert.Equal(["userId"], Required(add));
        // PATCH …/members/{id} {role?, seatType?}: either alone, or both; never status.
        var update = Schema(document, "UpdateMemberRequest");
        Assert.Equal([["role"], ["seatType"]], update["anyOf"]!.AsArray().Select(b => Required(b!)).OrderBy(r => r[0]).ToArray());
        Assert.All(update["anyOf"]!.AsArray(), b => Assert.Equal(["role", "seatType"], b!["properties"]!.AsObject().Select(p => p.Key).Order()));
        // approve {seatType?}, and the body itself is optional.
        Assert.Empty(Required(Schema(document, "ApproveRequest")));
        var approve = Operations(document).Single(o => o.Route.EndsWith("/approve", StringComparison.Ordinal)).Operation;
        Assert.NotEqual(true, approve["requestBody"]!["required"]?.GetValue<bool>());
        Assert.Equal("#/components/schemas/ApproveRequest", approve["requestBody"]!["content"]!["application/json"]!["schema"]!["$ref"]!.GetValue<string>());
        // {"name": null} is refused, so name is a required string, not nullable.
        var create = Schema(document, "CreateOrganizationRequest");
        Assert.Equal(["name"], Required(create));
        Assert.Equal("string", create["properties"]!["name"]!["type"]!.GetValue<string>());
        Assert.Equal(["plan"], Required(Schema(document, "ChangePlanRequest")));

        // No request body property anywhere admits null.
        foreach (var name in new[] { "AddMemberRequest", "ApproveRequest", "CreateOrganizationRequest", "ChangePlanRequest" })
            foreach (var (property, schema) in Schema(document, name)["properties"]!.AsObject())
                Assert.False(schema!["type"] is JsonArray, $"{name}.{property} admits null: {schema.ToJsonString()}");
        foreach (var branch in update["anyOf"]!.AsArray())
            foreach (var (property, schema) in branch!["properties"]!.AsObject())
                Assert.False(schema!["type"] is JsonArray, $"UpdateMemberRequest.{property} admits null");

        // The search needs its email.
        var search = Operations(document).Single(o => o.Route == "/api/organizations/{orgId}/members/search").Operation;
        var email = search["parameters"]!.AsArray().Single(p => p!["name"]!.GetValue<string>() == "email")!;
        Assert.True(email["required"]!.GetValue<bool>());
    }

    [Fact]
    public async Task NumbersAreNumbersAndClosedSetsAreEnums()
    {
        var document = await DocumentAsync();
        // No integer anywhere is also typed string (the web default's AllowReadingFromString), and none has a digits pattern.
        var text = document.ToJsonString();
        Assert.DoesNotContain("\"pattern\":\"^-?(?:0|[1-9]\\\\d*)$\"", text, StringComparison.Ordinal);
        foreach (var node in Descendants(document).OfType<JsonObject>())
            if (node["type"] is JsonArray types && types.Any(t => t!.GetValue<string>() is "integer" or "number"))
                Assert.DoesNotContain(types, t => t!.GetValue<string>() == "string");
        var seatType = Schema(document, "SeatTypeView")["properties"]!;
        foreach (var field in new[] { "limit", "active", "reserved", "available" })
            Assert.Equal("integer", seatType[field]!["type"]!.GetValue<string>());

        static string[] Enum(JsonNode schema) => schema["enum"]!.AsArray().Select(n => n?.GetValue<string>() ?? "null").Order().ToArray();
        var membership = Schema(document, "MembershipView")["properties"]!;
        Assert.Equal(["active", "inactive", "pending"], Enum(membership["status"]!));
        Assert.Equal(["domain", "founder", "invitation", "join_request", "legacy", "null", "owner_add", "webhook"], Enum(membership["source"]!));
        Assert.Equal(["admin", "member", "owner"], Enum(membership["role"]!["anyOf"]![0]!));
        Assert.Equal(["applied", "duplicate", "ignored", "refused", "stale"], Enum(Schema(document, "WebhookAnswer")["properties"]!["outcome"]!));
        Assert.Equal(["failed", "pending", "sent"], Enum(Schema(document, "OutboxRowView")["properties"]!["status"]!));
        var notifications = Operations(document).Single(o => o.Route == "/api/admin/notifications").Operation;
        Assert.Equal(["failed", "pending", "sent"], Enum(notifications["parameters"]!.AsArray().Single(p => p!["name"]!.GetValue<string>() == "status")!["schema"]!));
        // Seat types and plans in request bodies are this deployment's catalog.
        Assert.Equal(["community_only", "contributor"], Enum(Schema(document, "AddMemberRequest")["properties"]!["seatType"]!));
        Assert.Contains("company_standard", Enum(Schema(document, "ChangePlanRequest")["properties"]!["plan"]!));
    }

    [Fact]
    public async Task TheWebhookDocumentsItsSignatureHeaderAndOneSchemaPerEventFamily()
    {
        var document = await DocumentAsync();
        var webhook = Operations(document).Single(o => o.Route == "/webhooks/workos").Operation;
        var signature = webhook["parameters"]!.AsArray().Single(p => p!["name"]!.GetValue<string>() == "WorkOS-Signature")!;
        Assert.Equal("header", signature["in"]!.GetValue<string>());
        Assert.True(signature["required"]!.GetValue<bool>());
        Assert.Equal("#/components/schemas/WorkOsEvent", webhook["requestBody"]!["content"]!["application/json"]!["schema"]!["$ref"]!.GetValue<string>());
        var families = Schema(document, "WorkOsEvent")["anyOf"]!.AsArray().Select(s => s!["$ref"]!.GetValue<string>().Split('/')[^1]).ToList();
        Assert.Equal(["WorkOsInvitationEvent", "WorkOsMembershipEvent", "WorkOsOrganizationEvent", "WorkOsOtherEvent", "WorkOsRoleEvent", "WorkOsUserEvent"], families.Order());
        // Every event type the ingest handles is named by exactly one family.
        var named = families.SelectMany(f => Schema(document, f)["properties"]!["event"]!["enum"]?.AsArray().Select(n => n!.GetValue<string>()) ?? []).ToList();
        Assert.Equal(named.Count, named.Distinct().Count());
        foreach (var type in named) Assert.True(Roster.Features.WebhookIngest.WebhookProcessor.Handles(type), $"{type} is documented but not handled");
        Assert.Equal(["invalid_signature"], webhook["responses"]!["401"]!["content"]!["application/problem+json"]!["schema"]!["allOf"]![1]!["properties"]!["code"]!["enum"]!.AsArray().Select(n => n!.GetValue<string>()));
    }

    [Fact]
    public async Task ExamplesAreValidJsonOfTheirSchemaShape()
    {
        // Redocly checks examples against their schemas (OpenApiContractTests); here: every example of an object body sets only
        // properties the body has, and every required one.
        var document = await DocumentAsync();
        AssertEveryOperation(document, (_, _, op) =>
        {
            var json = op["requestBody"]?["content"]?["application/json"];
            if (json?["examples"] is not JsonObject examples) return null;
            var schema = Resolve(document, json["schema"]!);
            var properties = (schema["properties"] ?? schema["anyOf"]?[0]?["properties"])?.AsObject().Select(p => p.Key).ToHashSet();
            foreach (var (name, example) in examples)
            {
                if (example?["value"] is not JsonObject value) return $"example {name} is not an object";
                if (properties is not null && value.Any(p => !properties.Contains(p.Key))) return $"example {name} has a property the body does not";
                foreach (var required in schema["required"]?.AsArray().Select(n => n!.GetValue<string>()) ?? [])
                    if (!value.ContainsKey(required)) return $"example {name} lacks {required}";
            }
            return null;
        });
    }

    [Fact]
    public void TheApiReadsNumbersStrictly()
    {
        var options = app.Services.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        Assert.Equal(System.Text.Json.Serialization.JsonNumberHandling.Strict, options.NumberHandling);
        // What the framework's body reader does with a number sent as a string: a JsonException, which is a 400 problem.
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Paging>("""{"limit":"5"}""", options));
        Assert.Equal(5, JsonSerializer.Deserialize<Paging>("""{"limit":5}""", options)!.Limit);
        Assert.Equal("""{"limit":5}""", JsonSerializer.Serialize(new Paging(5), options));
    }

    private sealed record Paging(int Limit);

    private static IEnumerable<JsonNode> Descendants(JsonNode node)
    {
        yield return node;
        var children = node switch
        {
            JsonObject o => o.Select(p => p.Value),
            JsonArray a => a.AsEnumerable(),
            _ => [],
        };
        foreach (var child in children.OfType<JsonNode>())
            foreach (var d in Descendants(child))
                yield return d;
    }
}

public sealed class OpenApiDocumentTestsOnSqlite(SqliteApp app) : OpenApiDocumentTests(app), IClassFixture<SqliteApp>;

public sealed class OpenApiDocumentTestsOnPostgres(PostgresApp app) : OpenApiDocumentTests(app), IClassFixture<PostgresApp>;
