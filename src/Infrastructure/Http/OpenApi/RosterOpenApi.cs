using System.ComponentModel;
using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.OpenApi;
using Roster.Infrastructure.Auth;
using Roster.Infrastructure.Seats;
using Roster.Infrastructure.WorkOs;
using OpenApiDoc = Microsoft.OpenApi.OpenApiDocument;

namespace Roster.Infrastructure.Http.OpenApi;

/// <summary>
/// The OpenAPI document at /openapi/v1.json, made to tell the truth to client generators: the bearer scheme on every
/// operation that needs a token (and an explicit empty requirement on those that do not), one Problem schema whose
/// <c>code</c> is an enum of every code the service answers, every status each operation can answer (with the codes it
/// carries there), optional request fields optional and never null, enums for closed sets, examples for request bodies.
/// What follows from an endpoint's metadata is added here, once, so a new route gets it without saying so; what only
/// the endpoint knows it states with <see cref="ApiDocs"/>.
/// </summary>
public static class RosterOpenApi
{
    public const string BearerScheme = "bearer";
    public const string ProblemSchema = "Problem";
    public const string ProblemCodeSchema = "ProblemCode";
    private const string ProblemJson = "application/problem+json";
    private const string Json = "application/json";

    /// <summary>Every code the service can put in a problem (the constants of <see cref="ErrorCodes"/>).</summary>
    public static IReadOnlyList<string> AllCodes { get; } = new OneOfAttribute(typeof(ErrorCodes)).Values;

    public static IServiceCollection AddRosterOpenApi(this IServiceCollection services) =>
        services.AddOpenApi(Http.OpenApiDocument.Name, options =>
        {
            options.AddSchemaTransformer(TransformSchema);
            options.AddOperationTransformer(TransformOperation);
            options.AddDocumentTransformer(TransformDocument);
        });

    // ---- schemas ------------------------------------------------------------------------------------------------------

    private static Task TransformSchema(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken ct)
    {
        if (context.JsonPropertyInfo is not null || context.JsonTypeInfo.Kind != JsonTypeInfoKind.Object || schema.Properties is null)
            return Task.CompletedTask;
        var isBody = context.ParameterDescription?.Source == BindingSource.Body;
        var plans = context.ApplicationServices.GetRequiredService<PlanCatalog>();
        foreach (var property in context.JsonTypeInfo.Properties)
        {
            if (!schema.Properties.TryGetValue(property.Name, out var value) || value is not OpenApiSchema propertySchema) continue;
            var attributes = property.AttributeProvider;
            var nullable = propertySchema.Type is { } t && t.HasFlag(JsonSchemaType.Null);
            if (isBody)
            {
                // A request field is optional unless marked; when sent it is never null (null is refused or means nothing).
                nullable = false;
                if (propertySchema.Type is { } type) propertySchema.Type = type & ~JsonSchemaType.Null;
            }

            if (Attribute<OneOfAttribute>(attributes) is { } oneOf) SetEnum(propertySchema, oneOf.Values, nullable);
            if (Attribute<RoleValueAttribute>(attributes) is not null) DescribeRole(propertySchema);
            if (Attribute<SeatTypeValueAttribute>(attributes) is not null)
            {
                propertySchema.Description ??= "A seat type of the plan catalog.";
                if (isBody) SetEnum(propertySchema, plans.SeatTypes, nullable);
            }
            if (Attribute<PlanValueAttribute>(attributes) is not null)
            {
                propertySchema.Description ??= "A plan of the catalog.";
                if (isBody) SetEnum(propertySchema, plans.PlanNames.Order(StringComparer.Ordinal).ToList(), nullable);
            }
        }
        if (isBody)
        {
            schema.Required = context.JsonTypeInfo.Properties
                .Where(p => Attribute<RequiredInBodyAttribute>(p.AttributeProvider) is not null)
                .Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
            if (context.JsonTypeInfo.Type.GetCustomAttribute<AtLeastOneOfAttribute>() is { } atLeastOne)
            {
                var properties = schema.Properties;
                schema.Properties = null;
                schema.AnyOf = atLeastOne.Properties
                    .Select(required => (IOpenApiSchema)new OpenApiSchema
                    {
                        Type = JsonSchemaType.Object,
                        Properties = new Dictionary<string, IOpenApiSchema>(properties),
                        Required = new HashSet<string>(schema.Required) { required },
                    })
                    .ToList();
                schema.Required = null;
            }
        }
        return Task.CompletedTask;
    }

    private static T? Attribute<T>(ICustomAttributeProvider? provider) where T : Attribute =>
        provider?.GetCustomAttributes(typeof(T), inherit: true).OfType<T>().FirstOrDefault();

    private static void SetEnum(OpenApiSchema schema, IEnumerable<string> values, bool nullable)
    {
        schema.Enum = values.Select(v => (JsonNode)JsonValue.Create(v)).ToList();
        if (nullable) schema.Enum.Add(null!);
    }

    private static void DescribeRole(OpenApiSchema schema)
    {
        schema.Description ??= "owner, admin, member, or a custom WorkOS role slug.";
        schema.Pattern = "^[a-z0-9][a-z0-9_:-]{0,63}$";
        schema.Examples = [JsonValue.Create("member"), JsonValue.Create("admin")];
        // The three built-in roles as an enum, and custom slugs beside them: a generated client offers the three and
        // still accepts a slug.
        schema.AnyOf =
        [
            new OpenApiSchema { Type = JsonSchemaType.String, Enum = [JsonValue.Create("owner"), JsonValue.Create("admin"), JsonValue.Create("member")] },
            new OpenApiSchema { Type = JsonSchemaType.String, Description = "A custom WorkOS role slug." },
        ];
    }

    // ---- operations ---------------------------------------------------------------------------------------------------

    private static async Task TransformOperation(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken ct)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var document = context.Document!;
        var authorize = metadata.OfType<IAuthorizeData>().ToList();
        var needsToken = authorize.Count > 0 && !metadata.OfType<IAllowAnonymous>().Any();

        // An empty list says "no credentials" (health, the webhook): absent, generators and linters assume a global default.
        operation.Security = needsToken
            ? [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [] }]
            : [];

        ApplyRequestBody(operation, metadata, document);
        foreach (var custom in metadata.OfType<ResponseSchemaMetadata>())
        {
            operation.Responses ??= [];
            operation.Responses[custom.Status.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new OpenApiResponse
            {
                Description = custom.Description,
                Content = new Dictionary<string, OpenApiMediaType> { [Json] = new() { Schema = new OpenApiSchemaReference(custom.ComponentName, document) } },
            };
        }
        ApplyParameters(operation, metadata);

        var answers = new SortedDictionary<int, (SortedSet<string> Codes, List<string> When)>();
        void Answer(int status, string? when, params IEnumerable<string> codes)
        {
            if (!answers.TryGetValue(status, out var entry)) answers[status] = entry = (new SortedSet<string>(StringComparer.Ordinal), []);
            entry.Codes.UnionWith(codes);
            if (when is not null) entry.When.Add(when);
        }

        if (needsToken) Answer(401, "no token, or a token that is expired, not signed by a trusted key, or for another issuer or audience", ErrorCodes.Unauthorized);
        if (needsToken && authorize.Any(a => a.Policy == PlatformAdminPolicy.Name))
            Answer(403, "the caller is not a platform admin (permission roster:admin)", ErrorCodes.Forbidden);
        // An endpoint that reads its body itself (the webhook) states its own 400/413 and never answers 415.
        var hasJsonBody = operation.RequestBody?.Content?.ContainsKey(Json) == true && !metadata.OfType<RequestSchemaMetadata>().Any();
        if (hasJsonBody)
        {
            Answer(400, "the body is not JSON of the documented shape (wrong type, a number sent as a string, trailing comma, missing body) or a field is invalid", ErrorCodes.ValidationFailed);
            Answer(413, "the body is larger than the server accepts", ErrorCodes.PayloadTooLarge);
            Answer(415, "the body is not sent as application/json (or names an unknown charset)", ErrorCodes.UnsupportedMediaType);
        }
        if (operation.Parameters?.Any(p => p.In == ParameterLocation.Query) == true)
            Answer(400, "a query parameter is missing or invalid", ErrorCodes.ValidationFailed);
        var rateLimited = metadata.OfType<EnableRateLimitingAttribute>().Any();
        if (rateLimited) Answer(429, "the caller made too many of these requests; wait Retry-After seconds", ErrorCodes.RateLimited);
        if (metadata.OfType<IdempotencyKeysMetadata>().Any() && context.Description.HttpMethod is "POST" or "PUT" or "PATCH" or "DELETE")
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = IdempotencyFilter.Header, In = ParameterLocation.Header, Required = false,
                Description = "Makes a retry safe: the same caller, key and request within 24 hours gets the first answer again " +
                              "(with `Idempotent-Replayed: true`) and nothing runs twice.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = IdempotencyFilter.MaxKeyLength },
            });
            Answer(409, "the Idempotency-Key's first request is still running", ErrorCodes.IdempotencyKeyInUse);
            Answer(422, "the Idempotency-Key was used with another request", ErrorCodes.IdempotencyKeyReused);
        }
        var usesStorage = !metadata.OfType<NoStorageMetadata>().Any();
        if (usesStorage) Answer(503, "the database is unreachable; retry after Retry-After seconds", ErrorCodes.StorageUnavailable);
        Answer(500, "an unexpected failure (no internals are revealed)", ErrorCodes.InternalError);

        foreach (var declared in metadata.OfType<ProblemAnswerMetadata>()) Answer(declared.Status, declared.When, declared.Codes);
        // Problems declared the framework's way (ProducesProblem) carry the status's default code.
        foreach (var (key, response) in operation.Responses ?? [])
            if (int.TryParse(key, out var status) && response.Content?.ContainsKey(ProblemJson) == true && !answers.ContainsKey(status))
                Answer(status, null, Problems.DefaultCode(status));

        operation.Responses ??= [];
        foreach (var (status, (codes, when)) in answers)
            operation.Responses[status.ToString(System.Globalization.CultureInfo.InvariantCulture)] =
                ProblemResponse(document, status, codes, when, retryAfter: status is 429 or 503);
        // Statuses in order, success first, as a reader scans them.
        var ordered = operation.Responses.OrderBy(r => r.Key, StringComparer.Ordinal).ToList();
        operation.Responses.Clear();
        foreach (var (key, response) in ordered) operation.Responses[key] = response;

        await Task.CompletedTask;
    }

    private static OpenApiResponse ProblemResponse(OpenApiDoc document, int status, IReadOnlyCollection<string> codes, List<string> when, bool retryAfter)
    {
        var reason = ReasonPhrases.GetReasonPhrase(status);
        var description = $"{reason}: {string.Join(", ", codes.Select(c => $"`{c}`"))}"
                          + (when.Count > 0 ? $" — {string.Join("; ", when.Distinct())}." : ".");
        // The Problem schema, with `code` narrowed to what this answer can carry.
        var schema = new OpenApiSchema
        {
            AllOf =
            [
                new OpenApiSchemaReference(ProblemSchema, document),
                new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Properties = new Dictionary<string, IOpenApiSchema>
                    {
                        ["code"] = new OpenApiSchema { Type = JsonSchemaType.String, Enum = codes.Select(c => (JsonNode)JsonValue.Create(c)).ToList() },
                    },
                },
            ],
        };
        var response = new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType> { [ProblemJson] = new() { Schema = schema } },
        };
        if (retryAfter)
            response.Headers = new Dictionary<string, IOpenApiHeader>
            {
                ["Retry-After"] = new OpenApiHeader
                {
                    Description = "Seconds to wait before trying again.",
                    Required = status == 429,
                    Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "0" },
                },
            };
        return response;
    }

    private static void ApplyRequestBody(OpenApiOperation operation, IList<object> metadata, OpenApiDoc document)
    {
        if (metadata.OfType<RequestSchemaMetadata>().FirstOrDefault() is { } custom)
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Description = custom.Description,
                Content = new Dictionary<string, OpenApiMediaType> { [Json] = new() { Schema = new OpenApiSchemaReference(custom.ComponentName, document) } },
            };
        }
        if (operation.RequestBody is not OpenApiRequestBody body || body.Content?.TryGetValue(Json, out var media) != true || media is null) return;

        // An optional body ([FromBody] T?) comes out as oneOf [null, T]; leaving the body out is how a client says "nothing".
        if (media.Schema is OpenApiSchema { OneOf: { Count: 2 } oneOf } && oneOf.Any(s => s is OpenApiSchema { Type: JsonSchemaType.Null }))
            media.Schema = oneOf.Single(s => s is not OpenApiSchema { Type: JsonSchemaType.Null });

        var examples = metadata.OfType<RequestExampleMetadata>().ToList();
        if (examples.Count > 0)
            media.Examples = examples.ToDictionary(e => e.Name, e => (IOpenApiExample)new OpenApiExample { Summary = e.Summary, Value = e.Value.DeepClone() });
    }

    private static void ApplyParameters(OpenApiOperation operation, IList<object> metadata)
    {
        foreach (var header in metadata.OfType<RequiredHeaderMetadata>())
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = header.Name, In = ParameterLocation.Header, Required = true, Description = header.Description,
                Schema = new OpenApiSchema { Type = JsonSchemaType.String }, Example = JsonValue.Create(header.Example),
            });
        }
        foreach (var parameter in (operation.Parameters ?? []).OfType<OpenApiParameter>())
        {
            if (metadata.OfType<ParameterDocMetadata>().FirstOrDefault(d => d.Name == parameter.Name) is { } doc)
            {
                parameter.Description = doc.Description;
                parameter.Required |= doc.Required;
                if (doc.Example is not null) parameter.Example = JsonValue.Create(doc.Example);
                if (doc.Values is not null && parameter.Schema is OpenApiSchema schema)
                {
                    schema.Type = JsonSchemaType.String;
                    SetEnum(schema, doc.Values, nullable: false);
                }
                if (doc.Integer is { } range)
                    parameter.Schema = new OpenApiSchema
                    {
                        Type = JsonSchemaType.Integer, Format = "int32",
                        Minimum = range.Minimum.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        Maximum = range.Maximum.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    };
            }
            parameter.Description ??= parameter.Name switch
            {
                "orgId" => "The organization: Roster's id, or its WorkOS id (org_…).",
                "membershipId" => "Roster's id of the membership.",
                _ => null,
            };
        }
    }

    // ---- the document -------------------------------------------------------------------------------------------------

    private static Task TransformDocument(OpenApiDoc document, OpenApiDocumentTransformerContext context, CancellationToken ct)
    {
        // "http://host/" → "http://host": paths start with '/', and a trailing slash would make every URL "//api/…".
        foreach (var server in document.Servers ?? []) server.Url = server.Url?.TrimEnd('/');

        document.Info.Title = "Roster";
        document.Info.Version = "1";
        document.Info.Description = DocumentDescription;

        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "JWT",
            Description = "An RS256 JWT from the identity provider (WorkOS AuthKit), or `dev-token` locally. Claims: `sub` (WorkOS user id), " +
                          "`email`, `email_verified`, `name`; `permissions` containing `roster:admin` marks a platform admin.",
        };

        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        var schemas = document.Components.Schemas;
        // ErrorCodes, and any code a feature keeps with itself and declares on its endpoints (ApiDocs.Answers).
        var codes = new SortedSet<string>(AllCodes, StringComparer.Ordinal);
        foreach (var operation in (document.Paths ?? []).Values.SelectMany(p => p.Operations?.Values.AsEnumerable() ?? []))
            foreach (var response in operation.Responses?.Values.AsEnumerable() ?? [])
                if (response.Content?.TryGetValue(ProblemJson, out var media) == true
                    && media.Schema is OpenApiSchema { AllOf: [_, OpenApiSchema narrowed] }
                    && narrowed.Properties?.TryGetValue("code", out var code) == true)
                    codes.UnionWith(code.Enum?.Select(c => c.GetValue<string>()) ?? []);
        schemas[ProblemCodeSchema] = new OpenApiSchema
        {
            Type = JsonSchemaType.String,
            Description = "The machine-readable reason of a problem; every code the service answers.",
            Enum = codes.Select(c => (JsonNode)JsonValue.Create(c)).ToList(),
        };
        schemas[ProblemSchema] = ProblemSchemaOf(document);
        foreach (var (name, schema) in WebhookSchemas.All(document)) schemas[name] = schema;
        // The framework's own problem schemas are replaced by Problem everywhere.
        schemas.Remove("ProblemDetails");
        schemas.Remove("HttpValidationProblemDetails");

        document.Tags ??= new HashSet<OpenApiTag>();
        foreach (var tag in document.Tags)
            tag.Description ??= TagDescriptions.GetValueOrDefault(tag.Name ?? "", $"{tag.Name} operations.");
        return Task.CompletedTask;
    }

    private static OpenApiSchema ProblemSchemaOf(OpenApiDoc document) => new()
    {
        Type = JsonSchemaType.Object,
        Description = "An RFC 9457 problem. Every error the service answers is one, as application/problem+json.",
        Required = new HashSet<string> { "status", "title", "code", "traceId" },
        Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "A URI reference naming the kind of problem." },
            ["title"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "A short, human-readable summary." },
            ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32", Description = "The HTTP status code." },
            ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "What went wrong in this case." },
            ["instance"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["code"] = new OpenApiSchemaReference(ProblemCodeSchema, document),
            ["errors"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Description = "On 400: the fields at fault (camelCase JSON names, `body` for the body as a whole), each with its messages.",
                AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
            },
            ["traceId"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "Correlates the answer with the service's logs and traces." },
        },
    };

    private static readonly Dictionary<string, string> TagDescriptions = new(StringComparer.Ordinal)
    {
        ["Organizations"] = "Creating organizations, their seats and plan, and the platform admin's seat audit.",
        ["Members"] = "An organization's members: list, exact-email search, add (a pending owner_add the invitee must accept), role and seat-type changes, removal, leaving.",
        ["Invitations"] = "The invitee's side of an owner_add: pending invitations, accepting (the only way it becomes active), declining.",
        ["Join requests"] = "People asking to join an organization, and its owners and admins answering.",
        ["Roles"] = "Roles mirrored from WorkOS.",
        ["Notifications"] = "The notification outbox (Slack), for platform admins.",
        ["Webhooks"] = "Events WorkOS delivers, verified by signature.",
        ["Health"] = "Probes for load balancers and orchestrators.",
    };

    private const string DocumentDescription =
        "Roster keeps the membership of every customer organization of a B2B product that uses WorkOS for identity.\n\n" +
        "* **Consent**: an owner/admin-added membership (`owner_add`) becomes active only when the invited user accepts it.\n" +
        "* **Seats**: active memberships + pending `owner_add` + staged reservations count against the plan's limit per seat type, " +
        "checked and written in one transaction.\n" +
        "* **Errors** are `application/problem+json` with a machine-readable `code` (see `ProblemCode`), a `traceId`, and on 400 an `errors` map.\n" +
        "* **JSON** is camelCase; ids are strings; times are ISO 8601 UTC; numbers are JSON numbers (a number sent as a string is refused with 400).\n" +
        "* Every `{orgId}` accepts Roster's id or the organization's WorkOS id (`org_…`).";
}

/// <summary>The WorkOS webhook body: the event envelope with one schema per event family Roster handles.</summary>
internal static class WebhookSchemas
{
    public const string Event = "WorkOsEvent";
    public const string ActionContext = "WorkOsActionContext";
    public const string ActionResponse = "WorkOsActionResponse";

    public static IEnumerable<(string Name, IOpenApiSchema Schema)> All(OpenApiDoc document)
    {
        static OpenApiSchema Str(string? description = null, string? format = null) => new() { Type = JsonSchemaType.String, Description = description, Format = format };
        static OpenApiSchema NullableStr(string? description = null, string? format = null) =>
            new() { Type = JsonSchemaType.String | JsonSchemaType.Null, Description = description, Format = format };
        static OpenApiSchema Enum(params string[] values) => new() { Type = JsonSchemaType.String, Enum = values.Select(v => (JsonNode)JsonValue.Create(v)).ToList() };
        static OpenApiSchema Obj(string description, Dictionary<string, IOpenApiSchema> properties, params string[] required) =>
            new() { Type = JsonSchemaType.Object, Description = description, Properties = properties, Required = required.ToHashSet() };

        OpenApiSchema Envelope(string family, string dataSchema, params string[] types) => Obj(
            $"A WorkOS {family} event.",
            new()
            {
                ["id"] = Str("The event id (event_…): the dedupe key; a repeat answers `duplicate`."),
                ["event"] = Enum(types),
                ["data"] = new OpenApiSchemaReference(dataSchema, document),
                ["created_at"] = Str("When WorkOS recorded the event.", "date-time"),
            }, "id", "event", "data");

        var roleRef = Obj("A role reference.", new() { ["slug"] = Str() }, "slug");
        yield return ("WorkOsMembershipData", Obj("An organization membership as WorkOS sends it.", new()
        {
            ["object"] = Enum("organization_membership"),
            ["id"] = Str("om_…"),
            ["user_id"] = Str("user_…"),
            ["organization_id"] = Str("org_…"),
            ["organization_name"] = Str(),
            ["status"] = Enum("active", "inactive", "pending"),
            ["role"] = roleRef,
            ["roles"] = new OpenApiSchema { Type = JsonSchemaType.Array, Items = roleRef },
            ["created_at"] = Str(format: "date-time"),
            ["updated_at"] = Str(format: "date-time"),
        }, "id", "user_id", "organization_id", "status"));
        yield return ("WorkOsUserData", Obj("A user as WorkOS sends it.", new()
        {
            ["object"] = Enum("user"),
            ["id"] = Str("user_…"),
            ["email"] = Str(format: "email"),
            ["email_verified"] = new OpenApiSchema { Type = JsonSchemaType.Boolean },
            ["first_name"] = NullableStr(),
            ["last_name"] = NullableStr(),
            ["created_at"] = Str(format: "date-time"),
            ["updated_at"] = Str(format: "date-time"),
        }, "id", "email"));
        yield return ("WorkOsOrganizationData", Obj("An organization as WorkOS sends it.", new()
        {
            ["object"] = Enum("organization"),
            ["id"] = Str("org_…"),
            ["name"] = Str(),
            ["domains"] = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.Object } },
            ["created_at"] = Str(format: "date-time"),
            ["updated_at"] = Str(format: "date-time"),
        }, "id"));
        yield return ("WorkOsInvitationData", Obj("An invitation as WorkOS sends it.", new()
        {
            ["object"] = Enum("invitation"),
            ["id"] = Str("invitation_…"),
            ["email"] = Str(format: "email"),
            ["state"] = Enum("pending", "accepted", "revoked", "expired"),
            ["organization_id"] = NullableStr("org_…"),
            ["inviter_user_id"] = NullableStr("user_…"),
            ["accepted_user_id"] = NullableStr("user_…"),
            ["role_slug"] = NullableStr(),
            ["expires_at"] = Str(format: "date-time"),
            ["created_at"] = Str(format: "date-time"),
            ["updated_at"] = Str(format: "date-time"),
        }, "id", "email"));
        yield return ("WorkOsRoleData", Obj("An environment or organization role as WorkOS sends it.", new()
        {
            ["object"] = Enum("role", "organization_role"),
            ["id"] = Str(),
            ["slug"] = Str(),
            ["name"] = Str(),
            ["description"] = NullableStr(),
            ["permissions"] = new OpenApiSchema { Type = JsonSchemaType.Array, Items = Str() },
            ["organization_id"] = Str("org_… (organization roles)"),
            ["created_at"] = Str(format: "date-time"),
            ["updated_at"] = Str(format: "date-time"),
        }, "slug"));
        yield return ("WorkOsOtherData", new OpenApiSchema { Type = JsonSchemaType.Object, Description = "Any other event's data (recorded, answered `ignored`)." });

        yield return ("WorkOsMembershipEvent", Envelope("organization membership", "WorkOsMembershipData",
            "organization_membership.created", "organization_membership.updated", "organization_membership.deleted"));
        yield return ("WorkOsUserEvent", Envelope("user", "WorkOsUserData", "user.created", "user.updated", "user.deleted"));
        yield return ("WorkOsOrganizationEvent", Envelope("organization", "WorkOsOrganizationData",
            "organization.created", "organization.updated", "organization.deleted"));
        yield return ("WorkOsInvitationEvent", Envelope("invitation", "WorkOsInvitationData",
            "invitation.created", "invitation.accepted", "invitation.revoked", "invitation.resent"));
        yield return ("WorkOsRoleEvent", Envelope("role", "WorkOsRoleData",
            "role.created", "role.updated", "role.deleted", "organization_role.created", "organization_role.updated", "organization_role.deleted"));
        var other = Obj("Any other WorkOS event: recorded and answered `ignored`.", new()
        {
            ["id"] = Str(),
            ["event"] = Str(),
            ["data"] = new OpenApiSchemaReference("WorkOsOtherData", document),
            ["created_at"] = Str(format: "date-time"),
        }, "id", "event", "data");
        yield return ("WorkOsOtherEvent", other);

        var person = Obj("The person.", new()
        {
            ["id"] = Str("user_…"),
            ["email"] = Str(format: "email"),
            ["first_name"] = NullableStr(),
            ["last_name"] = NullableStr(),
        });
        yield return ("WorkOsAuthenticationActionContext", Obj("A sign-in, after the person proved who they are.", new()
        {
            ["id"] = Str("The action's id."),
            ["object"] = Enum("authentication_action_context"),
            ["user"] = person,
            ["organization"] = Obj("The organization signed into (absent: none).", new() { ["id"] = Str("org_…"), ["name"] = Str() }, "id"),
            ["organization_membership"] = new OpenApiSchemaReference("WorkOsMembershipData", document),
        }, "id", "object", "user"));
        yield return ("WorkOsUserRegistrationActionContext", Obj("A sign-up, before the user exists.", new()
        {
            ["id"] = Str("The action's id."),
            ["object"] = Enum("user_registration_action_context"),
            ["user_data"] = Obj("Who signs up.", new() { ["email"] = Str(format: "email"), ["first_name"] = NullableStr(), ["last_name"] = NullableStr() }, "email"),
            ["invitation"] = Obj("The invitation they sign up through.", new()
            {
                ["id"] = Str("invitation_…"), ["organization_id"] = NullableStr("org_…"), ["email"] = Str(format: "email"),
            }, "id"),
        }, "id", "object", "user_data"));
        yield return (ActionContext, new OpenApiSchema
        {
            Description = "A WorkOS action context (AuthKit Actions), verified by signature before it is read.",
            AnyOf =
            [
                new OpenApiSchemaReference("WorkOsAuthenticationActionContext", document),
                new OpenApiSchemaReference("WorkOsUserRegistrationActionContext", document),
            ],
        });
        yield return (ActionResponse, Obj("The verdict, signed with the actions secret as the WorkOS SDK's signResponse signs it.", new()
        {
            ["object"] = Enum("authentication_action_response", "user_registration_action_response"),
            ["payload"] = Obj("What is signed.", new()
            {
                ["timestamp"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int64", Description = "Unix milliseconds." },
                ["verdict"] = Enum("Allow", "Deny"),
                ["error_message"] = Str("Shown to the person on a Deny."),
            }, "timestamp", "verdict"),
            ["signature"] = Str("Hex HMAC-SHA256 of \"<timestamp>.<payload JSON>\" with the actions secret."),
        }, "object", "payload", "signature"));

        yield return (Event, new OpenApiSchema
        {
            Description = "A WorkOS event, as delivered to the webhook (and listed by the Events API).",
            AnyOf =
            [
                new OpenApiSchemaReference("WorkOsMembershipEvent", document),
                new OpenApiSchemaReference("WorkOsUserEvent", document),
                new OpenApiSchemaReference("WorkOsOrganizationEvent", document),
                new OpenApiSchemaReference("WorkOsInvitationEvent", document),
                new OpenApiSchemaReference("WorkOsRoleEvent", document),
                new OpenApiSchemaReference("WorkOsOtherEvent", document),
            ],
        });
    }
}
