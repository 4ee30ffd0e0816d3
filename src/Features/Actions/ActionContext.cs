using System.Text.Json;
using Roster.Infrastructure.WorkOs;

namespace Roster.Features.Actions;

/// <summary>The person signing in, as the authentication context names them.</summary>
public sealed record ActionUser(string Id, string? Email, string? Name);

/// <summary>What WorkOS sends an actions endpoint, told apart by <c>object</c>.</summary>
public abstract record ActionContext(string Id)
{
    public const string AuthenticationObject = "authentication_action_context";
    public const string RegistrationObject = "user_registration_action_context";

    /// <summary>The response type signResponse takes: <c>authentication</c> or <c>user_registration</c>.</summary>
    public abstract string ActionType { get; }

    /// <summary>Reads a verified body; null when it is not one of the two contexts or lacks what a decision needs.</summary>
    public static ActionContext? Parse(ReadOnlySpan<byte> body)
    {
        try
        {
            using var document = JsonDocument.Parse(body.ToArray());
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return null;
            var id = Text(root, "id");
            if (id is null || id.Length > 200) return null;
            return Text(root, "object") switch
            {
                AuthenticationObject => AuthenticationContext.Read(id, root),
                RegistrationObject => RegistrationContext.Read(id, root),
                _ => null,
            };
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            // InvalidOperationException: a string escape that is not valid UTF-16 (a lone surrogate) is well-formed JSON
            // that cannot be read as a string; JsonException/FormatException: a field of the wrong type or shape.
            return null;
        }
    }

    /// <summary>A non-blank string property; null when missing or null; throws (→ malformed) when of another type.</summary>
    internal static string? Text(JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.String) throw new FormatException($"{name} must be a string.");
        var text = value.GetString();
        return string.IsNullOrWhiteSpace(text) ? null : text;
    }

    /// <summary>An object property; null when missing or null; throws (→ malformed) when of another type.</summary>
    internal static JsonElement? Object(JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.Object) throw new FormatException($"{name} must be an object.");
        return value;
    }

    internal static string? FullName(JsonElement person) =>
        Text(person, "name") ?? (string.Join(' ', new[] { Text(person, "first_name"), Text(person, "last_name") }.OfType<string>()) is { Length: > 0 } n ? n : null);
}

/// <summary>
/// A sign-in (after the person proved who they are, before they reach the product). <see cref="OrganizationId"/> is null
/// for a sign-in into no organization; <see cref="Membership"/> is the WorkOS membership it is made through, when given.
/// </summary>
public sealed record AuthenticationContext(string Id, ActionUser User, string? OrganizationId, string? OrganizationName, WorkOsMembership? Membership)
    : ActionContext(Id)
{
    public override string ActionType => "authentication";

    internal static AuthenticationContext? Read(string id, JsonElement root)
    {
        if (Object(root, "user") is not { } user || Text(user, "id") is not { } userId) return null;
        var person = new ActionUser(userId, Text(user, "email"), FullName(user));
        if (Object(root, "organization") is not { } organization)
            return new AuthenticationContext(id, person, null, null, null);
        if (Text(organization, "id") is not { } organizationId) return null;

        WorkOsMembership? membership = null;
        if (Object(root, "organization_membership") is { } m)
        {
            membership = m.Deserialize<WorkOsMembership>(WorkOsEvent.Json);
            if (membership is null) return null;
            // The membership is the one of this person in this organization, whatever its own fields say.
            membership = membership with { UserId = userId, OrganizationId = organizationId, Id = membership.Id is { Length: > 0 } om ? om : null };
        }
        return new AuthenticationContext(id, person, organizationId, Text(organization, "name"), membership);
    }
}

/// <summary>A sign-up (before the user is provisioned), with the invitation it comes through, if any.</summary>
public sealed record RegistrationContext(string Id, string Email, string? Name, string? InvitationId, string? InvitationOrganizationId, string? InvitationEmail)
    : ActionContext(Id)
{
    public override string ActionType => "user_registration";

    internal static RegistrationContext? Read(string id, JsonElement root)
    {
        if (Object(root, "user_data") is not { } data || Text(data, "email") is not { } email) return null;
        var invitation = Object(root, "invitation");
        return new RegistrationContext(id, email, FullName(data),
            invitation is { } i ? Text(i, "id") : null,
            invitation is { } j ? Text(j, "organization_id") : null,
            invitation is { } k ? Text(k, "email") : null);
    }
}
