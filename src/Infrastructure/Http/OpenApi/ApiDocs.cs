using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;

namespace Roster.Infrastructure.Http.OpenApi;

/// <summary>A problem an endpoint can answer: its status and every <c>code</c> it carries there.</summary>
public sealed record ProblemAnswerMetadata(int Status, IReadOnlyList<string> Codes, string? When);

/// <summary>A named example of an operation's JSON request body.</summary>
public sealed record RequestExampleMetadata(string Name, string Summary, JsonNode Value);

/// <summary>What the document says about one parameter beyond its type.</summary>
public sealed record ParameterDocMetadata(string Name, string Description, bool Required, IReadOnlyList<string>? Values, string? Example,
    (int Minimum, int Maximum)? Integer = null);

/// <summary>The endpoint writes this response itself; the document shows this component schema for it.</summary>
public sealed record ResponseSchemaMetadata(int Status, string ComponentName, string Description);

/// <summary>The endpoint reads its body itself; the document shows this component schema for it.</summary>
public sealed record RequestSchemaMetadata(string ComponentName, string Description);

/// <summary>A request header the endpoint requires (e.g. the WorkOS signature).</summary>
public sealed record RequiredHeaderMetadata(string Name, string Description, string Example);

/// <summary>The endpoint never touches storage, so it cannot answer 503 storage_unavailable.</summary>
public sealed record NoStorageMetadata;

/// <summary>
/// Conventions the OpenAPI document is built from (see <see cref="RosterOpenApi"/>): endpoints state what only they know —
/// summary, description, the problems they answer and with which codes, examples — and the transformers add what follows
/// from the endpoint's metadata alone (security, 401/403 of the policy, 400/415 of a JSON body, 429 of a rate limit, 503
/// of storage, 500).
/// </summary>
public static class ApiDocs
{
    /// <summary>Documents (and declares) a problem answer with every <c>code</c> the endpoint can put in it.</summary>
    public static TBuilder Answers<TBuilder>(this TBuilder builder, int status, params string[] codes) where TBuilder : IEndpointConventionBuilder =>
        builder.Answers(status, when: null, codes);

    /// <summary>Documents a problem answer with its codes and when it happens.</summary>
    public static TBuilder Answers<TBuilder>(this TBuilder builder, int status, string? when, params string[] codes)
        where TBuilder : IEndpointConventionBuilder
    {
        if (codes.Length == 0) codes = [Problems.DefaultCode(status)];
        builder.WithMetadata(new ProducesResponseTypeMetadata(status, typeof(ProblemDetails), ["application/problem+json"]));
        builder.WithMetadata(new ProblemAnswerMetadata(status, codes, when));
        return builder;
    }

    /// <summary>An example request body (raw JSON, so the example is exactly what a client sends).</summary>
    public static RouteHandlerBuilder WithRequestExample(this RouteHandlerBuilder builder, string name, string summary, string json) =>
        builder.WithMetadata(new RequestExampleMetadata(name, summary, JsonNode.Parse(json)!));

    public static RouteHandlerBuilder WithParameterDoc(this RouteHandlerBuilder builder, string name, string description,
        bool required = false, IReadOnlyList<string>? values = null, string? example = null) =>
        builder.WithMetadata(new ParameterDocMetadata(name, description, required, values, example));

    /// <summary>A query parameter read as text by the handler but meant as a whole number in a range.</summary>
    public static RouteHandlerBuilder WithIntegerParameterDoc(this RouteHandlerBuilder builder, string name, string description, int minimum, int maximum) =>
        builder.WithMetadata(new ParameterDocMetadata(name, description, false, null, null, (minimum, maximum)));

    public static RouteHandlerBuilder WithResponseSchema(this RouteHandlerBuilder builder, int status, string componentName, string description) =>
        builder.WithMetadata(new ResponseSchemaMetadata(status, componentName, description));

    public static RouteHandlerBuilder WithRequestSchema(this RouteHandlerBuilder builder, string componentName, string description) =>
        builder.WithMetadata(new RequestSchemaMetadata(componentName, description));

    public static RouteHandlerBuilder WithRequiredHeader(this RouteHandlerBuilder builder, string name, string description, string example) =>
        builder.WithMetadata(new RequiredHeaderMetadata(name, description, example));

    public static TBuilder WithoutStorage<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new NoStorageMetadata());
}

/// <summary>
/// The property takes one of the public string constants of <paramref name="constants"/> (e.g. MembershipStatus), and
/// the document lists them as its enum.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class OneOfAttribute(Type constants) : Attribute
{
    public IReadOnlyList<string> Values { get; } = constants
        .GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
        .Where(f => f is { IsLiteral: true } && f.FieldType == typeof(string))
        .Select(f => (string)f.GetRawConstantValue()!)
        .ToList();
}

/// <summary>A role: owner, admin, member, or a custom WorkOS role slug.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class RoleValueAttribute : Attribute;

/// <summary>A seat type of the configured plan catalog (an enum of this deployment's seat types in request bodies).</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class SeatTypeValueAttribute : Attribute;

/// <summary>A plan of the configured catalog (an enum of this deployment's plans in request bodies).</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class PlanValueAttribute : Attribute;

/// <summary>A request body property that must be present (and not null); every other one is optional and, when sent, not null.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class RequiredInBodyAttribute : Attribute;

/// <summary>
/// A request body that needs at least one of these properties (e.g. a PATCH of role and/or seat type): the document
/// says so as one anyOf branch per property, each requiring it, so a generated client refuses a body with none of them.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class AtLeastOneOfAttribute(params string[] properties) : Attribute
{
    public IReadOnlyList<string> Properties { get; } = properties;
}
