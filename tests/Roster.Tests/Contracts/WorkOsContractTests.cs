using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Roster.Features.WorkOsSync;
using Roster.Features.WebhookIngest;
using Roster.Infrastructure.Data;
using Roster.Tests.Support;
using Roster.Tests.WorkOsSync;
using Roster.Infrastructure.WorkOs;

namespace Roster.Tests.Contracts;

/// <summary>The WorkOS half of the contract suite: @workos-inc/node 11.0.0 judges Roster's wire and the fake's.</summary>
public class WorkOsEventNameContractTests
{
    private static async Task<string[]> SdkEventNames() =>
        JsonSerializer.Deserialize<string[]>((await NodeContract.RunAsync("workos/event-names.mjs")).EnsureSuccess().Stdout)!;

    [Fact]
    public async Task TheStrictFakeKnowsExactlyTheEventNamesOfTheSdk()
    {
        var sdk = await SdkEventNames();

        Assert.Equal(sdk.Order(StringComparer.Ordinal), FakeWorkOs.EventNames.Order(StringComparer.Ordinal));
        Assert.DoesNotContain("invitation.expired", sdk);
    }

    [Fact]
    public async Task RosterAsksForAndHandlesOnlyEventsTheSdkNames()
    {
        var sdk = (await SdkEventNames()).ToHashSet(StringComparer.Ordinal);

        Assert.All(EventSync.OrganizationEventTypes.Concat(EventSync.EnvironmentEventTypes).Concat(EventSync.UserEventTypes), t => Assert.Contains(t, sdk));
        Assert.False(WebhookProcessor.Handles("invitation.expired"));
        var handled = sdk.Where(WebhookProcessor.Handles).ToHashSet();
        // Everything the Events API is asked for is handled, and every handled type is asked for.
        Assert.Equal(handled.Order(StringComparer.Ordinal),
            EventSync.OrganizationEventTypes.Concat(EventSync.EnvironmentEventTypes).Concat(EventSync.UserEventTypes).Order(StringComparer.Ordinal));
    }
}

/// <summary>The SDK's own calls against the strict fake: it answers as WorkOS does, and the SDK reads every answer.</summary>
public sealed class WorkOsFakeContractTests : IAsyncLifetime
{
    private FakeWorkOs _fake = null!;

    public async Task InitializeAsync() => _fake = await FakeWorkOs.StartAsync();

    public async Task DisposeAsync() => await _fake.DisposeAsync();

    private async Task<JsonArray> Sdk(params object[] calls)
    {
        var result = (await NodeContract.RunAsync("workos/sdk-calls.mjs",
            new Dictionary<string, string> { ["WORKOS_BASE_URL"] = _fake.BaseUrl.ToString(), ["WORKOS_API_KEY"] = _fake.ApiKey },
            JsonSerializer.Serialize(calls))).EnsureSuccess();
        return JsonNode.Parse(result.Stdout)!.AsArray();
    }

    private static JsonNode Ok(JsonNode? call) =>
        call!["ok"]!.GetValue<bool>() ? call["result"]! : throw new Xunit.Sdk.XunitException($"SDK call failed: {call.ToJsonString()}");

    [Fact]
    public async Task TheSdksCallsGetWorkOsAnswersFromTheStrictFake()
    {
        var (org, _) = _fake.CreateOrganization("Sdk Co");
        var (other, _) = _fake.CreateOrganization("Sdk Two");
        var (user, _) = _fake.CreateUser("sdk.user@example.com", "Sam", "Dee");
        var (pending, _) = _fake.CreateUser("sdk.pending@example.com");
        _fake.AddMembership(pending, org, ["member"], status: "pending");
        _fake.CreateOrganizationRole(org, "org-billing-admin", "Billing");

        var results = await Sdk(
            new { op = "listEvents", args = new { events = new[] { "organization.created", "user.created", "organization_membership.created" }, limit = 100 } },
            new { op = "listEvents", args = new { events = new[] { "user.created", "invitation.expired" } } },
            new { op = "createOrganizationMembership", args = new { organizationId = org, userId = user, roleSlugs = new[] { "member", "org-billing-admin" } } },
            new { op = "listOrganizationMemberships", args = new { organizationId = org, statuses = new[] { "active", "inactive", "pending" }, limit = 100 } },
            new { op = "listOrganizationMemberships", args = new { organizationId = org } },
            new { op = "getUser", args = new { id = user } },
            new { op = "listOrganizations", args = new { limit = 1 } },
            new { op = "listOrganizationRoles", args = new { organizationId = org } },
            new { op = "createOrganizationMembership", args = new { organizationId = org, userId = user, roleSlug = "owner" } });

        var events = Ok(results[0])["data"]!.AsArray();
        Assert.Equal(5, events.Count); // two organizations, two users, one membership
        Assert.All(events, e => Assert.False(string.IsNullOrEmpty(e!.Str("createdAt"))));
        var refused = results[1]!["error"]!;
        Assert.Equal((400, "invalid_events_request"), (refused["status"]!.GetValue<int>(), refused.Str("code")));
        var created = Ok(results[2]);
        Assert.Equal(["member", "org-billing-admin"], created["roles"]!.AsArray().Select(r => r!.Str("slug")));
        Assert.Equal(2, Ok(results[3])["data"]!.AsArray().Count);
        Assert.Equal([created.Str("id")], Ok(results[4])["data"]!.AsArray().Select(m => m!.Str("id")));
        Assert.Equal(("sdk.user@example.com", "Sam"), (Ok(results[5]).Str("email"), Ok(results[5]).Str("firstName")));
        Assert.Equal(other, Ok(results[6])["data"]!.AsArray().Single()!.Str("id"));
        Assert.NotNull(Ok(results[6])["listMetadata"]!["after"]);
        Assert.Contains("org-billing-admin", Ok(results[7])["data"]!.AsArray().Select(r => r!.Str("slug")));
        Assert.Equal(422, results[8]!["error"]!["status"]!.GetValue<int>());

        var id = created.Str("id");
        var changed = await Sdk(
            new { op = "updateOrganizationMembership", args = new { id, options = new { roleSlugs = new[] { "admin", "org-billing-admin" } } } },
            new { op = "deleteOrganizationMembership", args = new { id } },
            new { op = "getUser", args = new { id = "user_nobody" } });
        Assert.Equal(["admin", "org-billing-admin"], Ok(changed[0])["roles"]!.AsArray().Select(r => r!.Str("slug")));
        Assert.True(changed[1]!["ok"]!.GetValue<bool>());
        Assert.DoesNotContain(_fake.Memberships, m => m.Id == id);
        Assert.Equal(404, changed[2]!["error"]!["status"]!.GetValue<int>());

        // The SDK's own requests were the forms the fake must take: events and statuses comma-joined, a key on the create.
        Assert.Contains(_fake.Requests, r => r.Path == "/events" && r.PathAndQuery.Contains("events=organization.created%2Cuser.created"));
        Assert.Contains(_fake.Requests, r => r.Path == "/user_management/organization_memberships" && r.PathAndQuery.Contains("statuses=active%2Cinactive%2Cpending"));
        Assert.All(_fake.Requests.Where(r => r.Method == "POST"), r => Assert.False(string.IsNullOrEmpty(r.Header("Idempotency-Key"))));
    }

    /// <summary>Method, path, query (decoded, order-free), JSON body and the headers that matter, of one recorded request.</summary>
    private static object Shape(RecordedRequest r)
    {
        var query = r.PathAndQuery.Contains('?') ? System.Web.HttpUtility.ParseQueryString(r.PathAndQuery.Split('?', 2)[1]) : new System.Collections.Specialized.NameValueCollection();
        var pairs = query.AllKeys.OrderBy(k => k, StringComparer.Ordinal).Select(k => $"{k}={query[k]}").ToList();
        var body = string.IsNullOrEmpty(r.Body) ? "" : JsonNode.Parse(r.Body)!.ToJsonString();
        var contentType = r.Header("Content-Type")?.Split(';')[0].Trim();
        return new
        {
            r.Method, r.Path, Query = string.Join("&", pairs), Body = body,
            Auth = r.Header("Authorization"), ContentType = r.Method is "POST" or "PUT" ? contentType : null,
            HasIdempotencyKey = !string.IsNullOrEmpty(r.Header("Idempotency-Key")),
        };
    }

    [Fact]
    public async Task RostersRequestsAreTheSdksRequestsForEveryOutboundOperation()
    {
        var (org, _) = _fake.CreateOrganization("Parity Inc");
        var (user, _) = _fake.CreateUser("parity@example.com");
        var (second, _) = _fake.CreateUser("parity2@example.com");
        var (om, _) = _fake.AddMembership(second, org, ["member"]);
        using var http = new HttpClient();
        var roster = new WorkOsClient(http, new WorkOsOptions { ApiKey = _fake.ApiKey, BaseUrl = _fake.BaseUrl.ToString(), MaxRetries = 1 });
        var ct = CancellationToken.None;

        async Task<object> RosterDoes(Func<Task> operation)
        {
            var before = _fake.Requests.Count;
            await operation();
            return Shape(Assert.Single(_fake.Requests.Skip(before)));
        }

        async Task<object> SdkDoes(object call)
        {
            var before = _fake.Requests.Count;
            var result = (await Sdk(call))[0]!;
            Assert.True(result["ok"]!.GetValue<bool>() || call.ToString()!.Contains("createOrganizationMembership"), result.ToJsonString());
            return Shape(Assert.Single(_fake.Requests.Skip(before)));
        }

        var types = EventSync.OrganizationEventTypes;
        Assert.Equal(await SdkDoes(new { op = "listEvents", args = new { events = types, organizationId = org, after = "event_01", limit = 100 } }),
            await RosterDoes(() => roster.ListEventsAsync(types, org, "event_01", null, 100, ct)));
        Assert.Equal(await SdkDoes(new { op = "listOrganizationMemberships", args = new { userId = user, organizationId = org, statuses = WorkOsClient.AllMembershipStatuses, limit = 100 } }),
            await RosterDoes(() => roster.ListMembershipsAsync(org, user, null, ct, WorkOsClient.AllMembershipStatuses)));
        Assert.Equal(await SdkDoes(new { op = "listOrganizations", args = new { limit = 100, after = "org_01" } }),
            await RosterDoes(() => roster.ListOrganizationsAsync("org_01", ct)));
        Assert.Equal(await SdkDoes(new { op = "getUser", args = new { id = user } }),
            await RosterDoes(() => roster.GetUserAsync(user, ct)));
        Assert.Equal(await SdkDoes(new { op = "listOrganizationRoles", args = new { organizationId = org } }),
            await RosterDoes(() => roster.ListOrganizationRoleSlugsAsync(org, ct)));
        var slugs = new[] { "admin", "member" };
        Assert.Equal(await SdkDoes(new { op = "updateOrganizationMembership", args = new { id = om, options = new { roleSlugs = slugs } } }),
            await RosterDoes(() => roster.UpdateMembershipRolesAsync(om, slugs, ct)));
        // The SDK's create goes first and makes the membership; Roster's same create is then refused, but its request is what counts.
        var sdkCreate = await SdkDoes(new { op = "createOrganizationMembership", args = new { organizationId = org, userId = user, roleSlugs = slugs } });
        var rosterCreate = await RosterDoes(async () => await Assert.ThrowsAsync<WorkOsApiException>(() =>
            roster.CreateMembershipAsync(user, org, slugs, "roster-outbox-key", ct)));
        Assert.Equal(sdkCreate, rosterCreate);
        var sdkDelete = await SdkDoes(new { op = "deleteOrganizationMembership", args = new { id = om } });
        var rosterDelete = await RosterDoes(() => roster.DeleteMembershipAsync(om, ct));
        Assert.Equal(sdkDelete, rosterDelete);
    }
}
