using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Roster.Infrastructure.WorkOs;

namespace Roster.Tests.Support;

/// <summary>WorkOS action contexts (the SDK fixtures' shape, see shared/fixtures/workos-node/actions--*.json), signed and sent.</summary>
public static partial class WorkOsActions
{
    public const string Secret = "wos_actions_roster_tests_only";
    public const string Path = "/webhooks/workos/actions";

    public static string NewActionId() => $"action_{Guid.NewGuid():N}";

    /// <summary>A sign-in of <paramref name="userId"/>; into an organization (with its membership) when <paramref name="orgId"/> is given.</summary>
    public static string Authentication(string userId, string email, string? orgId = null, string? omId = null, string orgName = "Acme",
        string status = "active", string role = "member", string? actionId = null, DateTime? membershipUpdatedAt = null, bool withMembership = true)
    {
        var context = new JsonObject
        {
            ["id"] = actionId ?? NewActionId(),
            ["user"] = new JsonObject
            {
                ["object"] = "user", ["id"] = userId, ["email"] = email, ["first_name"] = "Jane", ["last_name"] = "Doe", ["email_verified"] = true,
                ["profile_picture_url"] = null, ["created_at"] = WorkOs.Iso(DateTime.UtcNow.AddDays(-1)), ["updated_at"] = WorkOs.Iso(DateTime.UtcNow.AddDays(-1)),
            },
            ["ip_address"] = "50.141.123.10",
            ["user_agent"] = "Mozilla/5.0",
            ["device_fingerprint"] = "notafingerprint",
            ["issuer"] = "test",
            ["object"] = "authentication_action_context",
        };
        if (orgId is not null)
        {
            context["organization"] = new JsonObject
            {
                ["object"] = "organization", ["id"] = orgId, ["name"] = orgName, ["allow_profiles_outside_organization"] = false,
                ["domains"] = new JsonArray(), ["created_at"] = WorkOs.Iso(DateTime.UtcNow.AddDays(-1)), ["updated_at"] = WorkOs.Iso(DateTime.UtcNow.AddDays(-1)),
            };
            if (withMembership)
                context["organization_membership"] = new JsonObject
                {
                    ["object"] = "organization_membership", ["id"] = omId ?? WorkOs.NewId("om"), ["user_id"] = userId, ["organization_id"] = orgId,
                    ["role"] = new JsonObject { ["slug"] = role }, ["status"] = status, ["directory_managed"] = false,
                    ["custom_attributes"] = new JsonObject(), ["created_at"] = WorkOs.Iso(DateTime.UtcNow.AddMinutes(-1)),
                    ["updated_at"] = WorkOs.Iso(membershipUpdatedAt ?? DateTime.UtcNow.AddMinutes(-1)),
                };
        }
        return context.ToJsonString();
    }

    /// <summary>A sign-up of <paramref name="email"/>, through an invitation to <paramref name="orgId"/> when given.</summary>
    public static string Registration(string email, string? orgId = null, string? invitationId = null, string? actionId = null)
    {
        var context = new JsonObject
        {
            ["id"] = actionId ?? NewActionId(),
            ["user_data"] = new JsonObject { ["object"] = "user_data", ["email"] = email, ["first_name"] = "Jane", ["last_name"] = "Doe" },
            ["ip_address"] = "50.141.123.10",
            ["user_agent"] = "Mozilla/5.0",
            ["device_fingerprint"] = "notafingerprint",
            ["object"] = "user_registration_action_context",
        };
        if (orgId is not null)
            context["invitation"] = new JsonObject
            {
                ["object"] = "invitation", ["id"] = invitationId ?? WorkOs.NewId("invitation"), ["email"] = email,
                ["expires_at"] = WorkOs.Iso(DateTime.UtcNow.AddDays(7)), ["created_at"] = WorkOs.Iso(DateTime.UtcNow), ["updated_at"] = WorkOs.Iso(DateTime.UtcNow),
                ["accepted_at"] = null, ["revoked_at"] = null, ["organization_id"] = orgId, ["inviter_user_id"] = "user_inviter",
            };
        return context.ToJsonString();
    }

    public static HttpRequestMessage Signed(string json, DateTimeOffset? signedAt = null, string secret = Secret, string? header = null)
    {
        var body = Encoding.UTF8.GetBytes(json);
        var request = new HttpRequestMessage(HttpMethod.Post, Path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("WorkOS-Signature", header ?? WorkOsSignature.Header(secret, signedAt ?? DateTimeOffset.UtcNow, body));
        return request;
    }

    /// <summary>A verified answer: its verdict and error message (the signature checked against <see cref="Secret"/>).</summary>
    public sealed record Answer(string Object, string Verdict, string? ErrorMessage, long Timestamp, string Body);

    public static async Task<Answer> Act(this HttpClient client, string json)
    {
        using var response = await client.SendAsync(Signed(json));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"Expected 200 but got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return Read(body);
    }

    /// <summary>Parses an answer and checks its signature the way WorkOS does: HMAC over "&lt;timestamp&gt;.&lt;payload JSON text&gt;".</summary>
    public static Answer Read(string body)
    {
        var match = Shape().Match(body);
        Assert.True(match.Success, $"Not a signed action response: {body}");
        var payload = match.Groups["payload"].Value;
        var node = JsonNode.Parse(payload)!;
        var timestamp = node["timestamp"]!.GetValue<long>();
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes($"{timestamp}.{payload}")));
        Assert.Equal(expected, match.Groups["signature"].Value);
        return new Answer(match.Groups["object"].Value, node["verdict"]!.GetValue<string>(), node["error_message"]?.GetValue<string>(), timestamp, body);
    }

    [GeneratedRegex("""^\{"object":"(?<object>[a-z_]+)","payload":(?<payload>\{.*\}),"signature":"(?<signature>[0-9a-f]{64})"\}$""", RegexOptions.Singleline)]
    private static partial Regex Shape();
}
