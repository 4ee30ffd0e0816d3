using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Roster.Infrastructure.WorkOs;

namespace Roster.Tests.Support;

/// <summary>Builds WorkOS events with the real field names (see shared/workos-and-slack-wire.md) and delivers them signed.</summary>
public static class WorkOs
{
    public const string WebhookSecret = "whsec_roster_tests_only";
    private static long _sequence;

    /// <summary>Time-ordered like WorkOS's ULIDs: a later id sorts after an earlier one.</summary>
    public static string NextEventId() =>
        $"event_{DateTime.UtcNow.Ticks:D19}{Interlocked.Increment(ref _sequence) % 10_000_000:D7}";

    public static string NewId(string prefix) => $"{prefix}_{Guid.NewGuid():N}";

    public static string Iso(DateTime at) => at.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'");

    public static string Envelope(string type, object data, string? eventId = null, DateTime? createdAt = null) =>
        JsonSerializer.Serialize(new
        {
            id = eventId ?? NextEventId(),
            @event = type,
            data,
            created_at = Iso(createdAt ?? DateTime.UtcNow),
        });

    public static object Membership(string omId, string userId, string orgId, string status = "active", string role = "member",
        DateTime? updatedAt = null, string orgName = "Acme", DateTime? createdAt = null) => new
    {
        @object = "organization_membership",
        id = omId,
        user_id = userId,
        organization_id = orgId,
        organization_name = orgName,
        status,
        role = new { slug = role },
        roles = new[] { new { slug = role } },
        directory_managed = false,
        custom_attributes = new { },
        // As in WorkOS: a membership is made when it is first updated (an accepted invitation's membership after the invitation).
        created_at = Iso(createdAt ?? updatedAt ?? DateTime.UtcNow),
        updated_at = Iso(updatedAt ?? DateTime.UtcNow),
    };

    public static object User(string userId, string email, string first = "Bob", string last = "Stone", bool verified = true, DateTime? updatedAt = null) => new
    {
        @object = "user",
        id = userId,
        email,
        email_verified = verified,
        first_name = first,
        last_name = last,
        profile_picture_url = (string?)null,
        external_id = (string?)null,
        metadata = new { },
        last_sign_in_at = (string?)null,
        created_at = Iso(DateTime.UtcNow.AddHours(-1)),
        updated_at = Iso(updatedAt ?? DateTime.UtcNow),
    };

    public static object Organization(string orgId, string name, DateTime? updatedAt = null) => new
    {
        @object = "organization",
        id = orgId,
        name,
        domains = new[] { new { @object = "organization_domain", id = "org_domain_01", domain = "acme.com", state = "verified" } },
        external_id = (string?)null,
        metadata = new { },
        created_at = Iso(DateTime.UtcNow.AddHours(-1)),
        updated_at = Iso(updatedAt ?? DateTime.UtcNow),
    };

    public static object Invitation(string invitationId, string email, string orgId, string state = "pending", DateTime? expiresAt = null,
        string? acceptedUserId = null, DateTime? createdAt = null) => new
    {
        @object = "invitation",
        id = invitationId,
        email,
        state,
        accepted_at = (string?)null,
        revoked_at = (string?)null,
        expires_at = Iso(expiresAt ?? DateTime.UtcNow.AddDays(7)),
        organization_id = orgId,
        inviter_user_id = "user_inviter",
        accepted_user_id = acceptedUserId,
        role_slug = "member",
        created_at = Iso(createdAt ?? DateTime.UtcNow),
        updated_at = Iso(createdAt ?? DateTime.UtcNow),
    };

    public static object Role(string slug, string name, string[]? permissions = null, string? orgId = null, DateTime? updatedAt = null) => orgId is null
        ? new
        {
            @object = "role", slug, name, description = (string?)null, permissions = permissions ?? [], resource_type_slug = "organization",
            created_at = Iso(DateTime.UtcNow.AddHours(-1)), updated_at = Iso(updatedAt ?? DateTime.UtcNow),
        }
        : new
        {
            @object = "organization_role", organization_id = orgId, slug, name, description = (string?)null, permissions = permissions ?? [],
            resource_type_slug = "organization", created_at = Iso(DateTime.UtcNow.AddHours(-1)), updated_at = Iso(updatedAt ?? DateTime.UtcNow),
        } as object;

    /// <summary>A membership carrying several roles (role = the first, roles[] = all).</summary>
    public static object MembershipWithRoles(string omId, string userId, string orgId, string[] roles, string status = "active", DateTime? updatedAt = null) => new
    {
        @object = "organization_membership",
        id = omId,
        user_id = userId,
        organization_id = orgId,
        organization_name = "Acme",
        status,
        role = new { slug = roles[0] },
        roles = roles.Select(r => new { slug = r }).ToArray(),
        directory_managed = false,
        custom_attributes = new { },
        created_at = Iso(DateTime.UtcNow.AddMinutes(-5)),
        updated_at = Iso(updatedAt ?? DateTime.UtcNow),
    };

    public static HttpRequestMessage SignedRequest(string json, DateTimeOffset? signedAt = null, string secret = WebhookSecret)
    {
        var body = Encoding.UTF8.GetBytes(json);
        var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/workos") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("WorkOS-Signature", WorkOsSignature.Header(secret, signedAt ?? DateTimeOffset.UtcNow, body));
        return request;
    }

    public static Task<HttpResponseMessage> Deliver(this HttpClient client, string json, DateTimeOffset? signedAt = null, string secret = WebhookSecret) =>
        client.SendAsync(SignedRequest(json, signedAt, secret));

    /// <summary>Delivers and returns the outcome the webhook answered with (asserting a 200).</summary>
    public static async Task<string> DeliverOk(this HttpClient client, string json)
    {
        var body = await (await client.Deliver(json)).ShouldBe(System.Net.HttpStatusCode.OK);
        return body.Str("outcome");
    }
}
