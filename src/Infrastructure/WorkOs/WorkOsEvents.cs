using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Roster.Infrastructure.WorkOs;

/// <summary>The envelope WorkOS delivers (webhooks) and lists (Events API): id, event type, data, created_at.</summary>
public sealed record WorkOsEvent(string Id, string Event, JsonElement Data, DateTime? CreatedAt)
{
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        PropertyNameCaseInsensitive = false,
        NumberHandling = JsonNumberHandling.Strict,
        Converters = { new WorkOsTime.Converter() },
    };

    /// <summary>Reads the envelope; null when it is not JSON or lacks id, event or an object in data.</summary>
    public static WorkOsEvent? Parse(ReadOnlySpan<byte> body)
    {
        try
        {
            using var document = JsonDocument.Parse(body.ToArray());
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return null;
            if (!root.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(id.GetString())) return null;
            if (!root.TryGetProperty("event", out var type) || type.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(type.GetString())) return null;
            if (!root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object) return null;
            DateTime? createdAt = root.TryGetProperty("created_at", out var c) && c.ValueKind == JsonValueKind.String && WorkOsTime.TryParse(c.GetString(), out var at)
                ? at
                : null;
            if (id.GetString()!.Length > 200 || type.GetString()!.Length > 200) return null;
            return new WorkOsEvent(id.GetString()!, type.GetString()!, data.Clone(), createdAt);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: a string escape that is not valid UTF-16 (a lone surrogate such as "\ud800")
            // is well-formed JSON, but cannot be read as a string.
            return null;
        }
    }

    /// <summary>The data object as <typeparamref name="T"/>; throws <see cref="MalformedEventException"/> when it does not fit.</summary>
    public T DataAs<T>() where T : class
    {
        try
        {
            return Data.Deserialize<T>(Json) ?? throw new MalformedEventException($"{Event}: data is empty.");
        }
        catch (JsonException ex)
        {
            throw new MalformedEventException($"{Event}: data does not have the expected shape ({ex.Path}).");
        }
        catch (InvalidOperationException)
        {
            throw new MalformedEventException($"{Event}: data holds a string that is not valid UTF-16.");
        }
    }
}

public sealed class MalformedEventException(string message) : Exception(message);

/// <summary>
/// Times as WorkOS writes them: ISO 8601 (<c>2026-11-01T10:00:00.000Z</c>) and the form its SDK fixtures and docs show
/// (<c>2020-05-06 04:21:48.649164</c>: a space, microseconds, no zone, meaning UTC). Both are read wherever WorkOS sends
/// a time (the envelope's <c>created_at</c>, every <c>*_at</c> of the objects); anything else is not a WorkOS time.
/// </summary>
public static class WorkOsTime
{
    private static readonly string[] Formats =
    [
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd'T'HH:mm:ssK",
        "yyyy-MM-dd HH:mm:ss.FFFFFFFK", "yyyy-MM-dd HH:mm:ssK",
    ];

    public static bool TryParse(string? value, out DateTime utc)
    {
        utc = default;
        if (string.IsNullOrEmpty(value) || value.Length > 40) return false;
        if (!DateTime.TryParseExact(value, Formats, CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var parsed)) return false;
        utc = DateTime.SpecifyKind(parsed, DateTimeKind.Utc);
        return true;
    }

    public static string Format(DateTime at) => at.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Reads both forms into UTC <see cref="DateTime"/>s (null stays null); writes ISO 8601 with Z.</summary>
    public sealed class Converter : JsonConverter<DateTime>
    {
        public override DateTime Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.String && TryParse(reader.GetString(), out var at)
                ? at
                : throw new JsonException("Expected a WorkOS time (ISO 8601, or \"yyyy-MM-dd HH:mm:ss.ffffff\" in UTC).");

        public override void Write(Utf8JsonWriter writer, DateTime value, JsonSerializerOptions options) => writer.WriteStringValue(Format(value));
    }
}

public sealed record WorkOsRoleRef(string? Slug);

public sealed record WorkOsMembership(
    string? Id,
    string? UserId,
    string? OrganizationId,
    string? OrganizationName,
    string? Status,
    WorkOsRoleRef? Role,
    IReadOnlyList<WorkOsRoleRef>? Roles,
    DateTime? CreatedAt,
    DateTime? UpdatedAt)
{
    public string RoleSlug => Role?.Slug ?? Roles?.FirstOrDefault()?.Slug ?? Infrastructure.Data.Roles.Member;

    /// <summary>Every role slug the membership carries (role and roles[]).</summary>
    public IReadOnlyCollection<string> RoleSlugs =>
        (Roles ?? []).Select(r => r?.Slug).Append(Role?.Slug).OfType<string>().Where(s => s.Length > 0)
            .DefaultIfEmpty(Infrastructure.Data.Roles.Member).Distinct(StringComparer.Ordinal).ToList();
}

public sealed record WorkOsUser(
    string? Id,
    string? Email,
    bool EmailVerified,
    string? FirstName,
    string? LastName,
    DateTime? CreatedAt,
    DateTime? UpdatedAt)
{
    public string? FullName => string.Join(' ', new[] { FirstName, LastName }.Where(n => !string.IsNullOrWhiteSpace(n))) is { Length: > 0 } n ? n : null;
}

public sealed record WorkOsOrganization(string? Id, string? Name, DateTime? CreatedAt, DateTime? UpdatedAt);

public sealed record WorkOsInvitation(
    string? Id,
    string? Email,
    string? State,
    DateTime? ExpiresAt,
    string? OrganizationId,
    string? InviterUserId,
    string? AcceptedUserId,
    string? RoleSlug,
    DateTime? CreatedAt,
    DateTime? UpdatedAt);

public sealed record WorkOsRole(
    string? Slug,
    string? Name,
    string? Description,
    IReadOnlyList<string>? Permissions,
    string? OrganizationId,
    DateTime? CreatedAt,
    DateTime? UpdatedAt);
