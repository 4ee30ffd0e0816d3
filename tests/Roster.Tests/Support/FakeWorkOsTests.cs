using System.Net;
using System.Text.Json.Nodes;

namespace Roster.Tests.Support;

/// <summary>The fake WorkOS API itself, over HTTP (no database).</summary>
public sealed class FakeWorkOsTests : IAsyncLifetime
{
    private const string MembershipTypes =
        "events[]=organization_membership.created&events[]=organization_membership.updated&events[]=organization_membership.deleted";

    private FakeWorkOs _fake = null!;
    private HttpClient _api = null!;

    public async Task InitializeAsync()
    {
        _fake = await FakeWorkOs.StartAsync();
        _api = _fake.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _api.Dispose();
        await _fake.DisposeAsync();
    }

    private (string OrgId, string UserId, string OmId) OrgWithMember(string name = "Acme", string role = "member")
    {
        var (orgId, _) = _fake.CreateOrganization(name, "acme.com");
        var (userId, _) = _fake.CreateUser($"{Guid.NewGuid():N}@example.com", "Bob", "Stone");
        var (omId, _) = _fake.AddMembership(userId, orgId, [role]);
        return (orgId, userId, omId);
    }

    private static List<string> Ids(JsonNode list) => [.. list["data"]!.AsArray().Select(e => e!.Str("id"))];

    [Fact]
    public async Task PagingThroughEventsTwoAtATimeReturnsEveryEventOnceInOrderAndEndsWithNoCursor()
    {
        var (orgId, _, omId) = OrgWithMember();
        var (otherUser, _) = _fake.CreateUser("carol@example.com", "Carol", "Reed");
        var (otherOm, _) = _fake.AddMembership(otherUser, orgId, ["member"]);
        _fake.UpdateMembership(omId, ["admin"]);
        _fake.UpdateMembership(otherOm, status: "inactive");
        _fake.RemoveMembership(otherOm);
        _fake.CreateRole("viewer", "Viewer", ["posts:read"]);
        var types = $"events[]=organization.created&events[]=user.created&events[]=role.created&{MembershipTypes}";

        var seen = new List<string>();
        string? after = null;
        var pages = 0;
        do
        {
            var page = await (await _api.GetAsync($"events?{types}&limit=2{(after is null ? "" : $"&after={after}")}")).ShouldBe(HttpStatusCode.OK);
            Assert.Equal("list", page.Str("object"));
            Assert.Null(page["list_metadata"]!["before"]);
            Assert.True(page["data"]!.AsArray().Count is 1 or 2);
            seen.AddRange(Ids(page));
            after = page["list_metadata"]!["after"]?.GetValue<string>();
            pages++;
        } while (after is not null && pages < 20);

        var log = _fake.Events.Select(e => e.Id).ToList();
        Assert.Equal(9, log.Count);
        Assert.Equal(log, seen);
        Assert.Equal(log.Order(StringComparer.Ordinal), seen);
        Assert.All(seen, id => Assert.Matches("^event_[0-9A-HJKMNP-TV-Z]{26}$", id));
        Assert.Equal(5, pages);
        Assert.Null(after);
    }

    [Fact]
    public async Task EventsCarryTheObjectAsItIsNowWithUpdatedAtStrictlyIncreasing()
    {
        var (orgId, userId, omId) = OrgWithMember();
        var changes = Enumerable.Range(0, 5).Select(i => _fake.UpdateMembership(omId, [i % 2 == 0 ? "admin" : "member"])).ToList();

        var updates = changes.Select(j => JsonNode.Parse(j)!).ToList();
        Assert.All(updates, e => Assert.Equal(("event", "organization_membership.updated"), (e.Str("object"), e.Str("event"))));
        var stamps = updates.Select(e => DateTime.Parse(e["data"]!.Str("updated_at"), System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.All(stamps.Zip(stamps.Skip(1)), pair => Assert.True(pair.Second > pair.First, $"{pair.Second:O} is not after {pair.First:O}"));
        Assert.All(updates.Zip(updates.Skip(1)), pair => Assert.True(string.CompareOrdinal(pair.Second.Str("id"), pair.First.Str("id")) > 0));
        Assert.All(updates, e => Assert.Equal(e.Str("created_at"), e["data"]!.Str("updated_at")));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", updates[0].Str("created_at"));

        var data = updates[^1]["data"]!;
        Assert.Equal(("organization_membership", omId, userId, orgId, "Acme", "active"),
            (data.Str("object"), data.Str("id"), data.Str("user_id"), data.Str("organization_id"), data.Str("organization_name"), data.Str("status")));
        Assert.Equal("admin", data["role"]!.Str("slug"));
        Assert.Equal(["admin"], data["roles"]!.AsArray().Select(r => r!.Str("slug")));
        Assert.Equal(stamps[^1], _fake.Memberships.Single().UpdatedAt);
    }

    [Fact]
    public async Task EventsFilterByTypeAndByOrganization()
    {
        var (acme, _, acmeOm) = OrgWithMember("Acme");
        var (globex, _, globexOm) = OrgWithMember("Globex");
        _fake.CreateOrganizationRole(acme, "org-billing", "Billing", ["billing:manage"]);
        var (invitation, _) = _fake.CreateInvitation("dana@example.com", globex);

        var acmeMemberships = await (await _api.GetAsync($"events?events[]=organization_membership.created&organization_id={acme}")).ShouldBe(HttpStatusCode.OK);
        Assert.Equal([acmeOm], acmeMemberships["data"]!.AsArray().Select(e => e!["data"]!.Str("id")));

        var all = $"events[]=organization.created&events[]=user.created&events[]=organization_membership.created"
            + "&events[]=organization_role.created&events[]=invitation.created&limit=100";
        var acmeAll = await (await _api.GetAsync($"events?{all}&organization_id={acme}")).ShouldBe(HttpStatusCode.OK);
        Assert.Equal(["organization.created", "organization_membership.created", "organization_role.created"],
            acmeAll["data"]!.AsArray().Select(e => e!.Str("event")));
        Assert.Equal(acme, acmeAll["data"]![0]!["data"]!.Str("id"));

        var globexAll = await (await _api.GetAsync($"events?{all}&organization_id={globex}")).ShouldBe(HttpStatusCode.OK);
        Assert.Equal([globex, globexOm, invitation], globexAll["data"]!.AsArray().Select(e => e!["data"]!.Str("id")));

        var users = await (await _api.GetAsync("events?events[]=user.created")).ShouldBe(HttpStatusCode.OK);
        Assert.Equal(2, users["data"]!.AsArray().Count);
        Assert.Null(users["list_metadata"]!["after"]);

        var missing = await (await _api.GetAsync($"events?organization_id={acme}")).ShouldBe(HttpStatusCode.BadRequest);
        Assert.Equal("invalid_request", missing.Str("code"));
        await (await _api.GetAsync("events?events[]=user.created&limit=101")).ShouldBe(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task EventsCanBeBoundedByRangeAndResumedAfterAnId()
    {
        OrgWithMember();
        var log = _fake.Events;
        var types = "events[]=organization.created&events[]=user.created&events[]=organization_membership.created";

        var fromSecond = await (await _api.GetAsync($"events?{types}&range_start={FakeWorkOs.Iso(log[1].CreatedAt)}")).ShouldBe(HttpStatusCode.OK);
        Assert.Equal(log.Skip(1).Select(e => e.Id), Ids(fromSecond));
        var beforeLast = await (await _api.GetAsync($"events?{types}&range_end={FakeWorkOs.Iso(log[2].CreatedAt)}")).ShouldBe(HttpStatusCode.OK);
        Assert.Equal(log.Take(2).Select(e => e.Id), Ids(beforeLast));
        var afterFirst = await (await _api.GetAsync($"events?{types}&after={log[0].Id}")).ShouldBe(HttpStatusCode.OK);
        Assert.Equal(log.Skip(1).Select(e => e.Id), Ids(afterFirst));
        var afterAll = await (await _api.GetAsync($"events?{types}&after={log[^1].Id}")).ShouldBe(HttpStatusCode.OK);
        Assert.Empty(afterAll["data"]!.AsArray());
        Assert.Null(afterAll["list_metadata"]!["after"]);
    }

    [Fact]
    public async Task PostingAMembershipAppendsACreatedEventTheEventsApiServes()
    {
        var (orgId, _) = _fake.CreateOrganization("Acme");
        var (userId, _) = _fake.CreateUser("erin@example.com", "Erin", "Hale");
        var lastBefore = _fake.Events[^1].Id;

        var created = await (await _api.PostJson("user_management/organization_memberships",
            new { user_id = userId, organization_id = orgId, role_slug = "admin" })).ShouldBe(HttpStatusCode.Created);

        var omId = created.Str("id");
        Assert.StartsWith("om_", omId);
        Assert.Equal(("organization_membership", "active", "admin", "Acme"),
            (created.Str("object"), created.Str("status"), created["role"]!.Str("slug"), created.Str("organization_name")));
        var events = await (await _api.GetAsync($"events?{MembershipTypes}&after={lastBefore}")).ShouldBe(HttpStatusCode.OK);
        var evt = Assert.Single(events["data"]!.AsArray())!;
        Assert.Equal(("organization_membership.created", omId), (evt.Str("event"), evt["data"]!.Str("id")));
        Assert.Equal(created.ToJsonString(), evt["data"]!.ToJsonString());
        Assert.Equal(omId, Assert.Single(_fake.Memberships).Id);
        var recorded = _fake.Requests.Single(r => r.Method == "POST");
        Assert.Equal("/user_management/organization_memberships", recorded.Path);
        Assert.Contains("\"role_slug\":\"admin\"", recorded.Body);

        var again = await (await _api.PostJson("user_management/organization_memberships", new { user_id = userId, organization_id = orgId }))
            .ShouldBe(HttpStatusCode.UnprocessableEntity);
        Assert.Equal("organization_membership_already_exists", again.Str("code"));
        var unknown = await (await _api.PostJson("user_management/organization_memberships", new { user_id = "user_nobody", organization_id = orgId }))
            .ShouldBe(HttpStatusCode.NotFound);
        Assert.Equal("entity_not_found", unknown.Str("code"));
        Assert.Single(_fake.Memberships);
    }

    [Fact]
    public async Task PostingForAnInactiveMembershipReactivatesItWithTheRequestedRole()
    {
        var (orgId, userId, omId) = OrgWithMember();
        _fake.CreateOrganizationRole(orgId, "org-billing", "Billing");
        _fake.UpdateMembership(omId, status: "inactive");

        var back = await (await _api.PostJson("user_management/organization_memberships",
            new { user_id = userId, organization_id = orgId, role_slugs = new[] { "admin", "org-billing" } })).ShouldBe(HttpStatusCode.OK);

        Assert.Equal((omId, "active"), (back.Str("id"), back.Str("status")));
        Assert.Equal(["admin", "org-billing"], back["roles"]!.AsArray().Select(r => r!.Str("slug")));
        Assert.Equal("organization_membership.updated", _fake.Events[^1].Type);
    }

    [Fact]
    public async Task PutAndDeleteChangeTheMembershipAndAppendEvents()
    {
        var (orgId, userId, omId) = OrgWithMember();

        var updated = await (await _api.PutJson($"user_management/organization_memberships/{omId}", new { role_slug = "admin" })).ShouldBe(HttpStatusCode.OK);
        Assert.Equal("admin", updated["role"]!.Str("slug"));
        Assert.Equal(("organization_membership.updated", updated.ToJsonString()),
            (_fake.Events[^1].Type, JsonNode.Parse(_fake.Events[^1].Json)!["data"]!.ToJsonString()));
        var fetched = await (await _api.GetAsync($"user_management/organization_memberships/{omId}")).ShouldBe(HttpStatusCode.OK);
        Assert.Equal(updated.ToJsonString(), fetched.ToJsonString());

        var deleted = await _api.DeleteAsync($"user_management/organization_memberships/{omId}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        var last = JsonNode.Parse(_fake.Events[^1].Json)!;
        Assert.Equal(("organization_membership.deleted", omId, userId, orgId),
            (last.Str("event"), last["data"]!.Str("id"), last["data"]!.Str("user_id"), last["data"]!.Str("organization_id")));
        Assert.Empty(_fake.Memberships);
        await (await _api.GetAsync($"user_management/organization_memberships/{omId}")).ShouldBe(HttpStatusCode.NotFound);
        await (await _api.PutJson($"user_management/organization_memberships/{omId}", new { role_slug = "member" })).ShouldBe(HttpStatusCode.NotFound);
        Assert.Equal(404, (int)(await _api.DeleteAsync($"user_management/organization_memberships/{omId}")).StatusCode);
    }

    [Fact]
    public async Task MembershipListsFilterByStatusAndPageWithACursor()
    {
        var (orgId, _) = _fake.CreateOrganization("Acme");
        var oms = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var (userId, _) = _fake.CreateUser($"u{i}@example.com", "U", $"{i}");
            oms.Add(_fake.AddMembership(userId, orgId, ["member"], status: i == 4 ? "pending" : "active").Id);
        }

        var seen = new List<string>();
        string? after = null;
        do
        {
            var page = await (await _api.GetAsync($"user_management/organization_memberships?organization_id={orgId}&limit=2"
                + (after is null ? "" : $"&after={after}"))).ShouldBe(HttpStatusCode.OK);
            seen.AddRange(Ids(page));
            after = page["list_metadata"]!["after"]?.GetValue<string>();
        } while (after is not null && seen.Count < 20);
        Assert.Equal(oms.Take(4).Reverse(), seen); // active only by default, newest first

        var pending = await (await _api.GetAsync($"user_management/organization_memberships?organization_id={orgId}&statuses[]=pending")).ShouldBe(HttpStatusCode.OK);
        Assert.Equal([oms[4]], Ids(pending));
        var ascending = await (await _api.GetAsync(
            $"user_management/organization_memberships?organization_id={orgId}&statuses[]=active&statuses[]=pending&order=asc&limit=100")).ShouldBe(HttpStatusCode.OK);
        Assert.Equal(oms, Ids(ascending));
        await (await _api.GetAsync("user_management/organization_memberships")).ShouldBe(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task UsersAndRolesAreServedInTheRestShapes()
    {
        var (orgId, userId, _) = OrgWithMember();
        var roleEvent = JsonNode.Parse(_fake.CreateRole("viewer", "Viewer", ["posts:read"], "Reads posts"))!;
        var orgRoleEvent = JsonNode.Parse(_fake.CreateOrganizationRole(orgId, "org-billing", "Billing", ["billing:manage"]))!;

        var user = await (await _api.GetAsync($"user_management/users/{userId}")).ShouldBe(HttpStatusCode.OK);
        Assert.Equal(("user", userId, "Bob", true), (user.Str("object"), user.Str("id"), user.Str("first_name"), user["email_verified"]!.GetValue<bool>()));
        Assert.Equal("entity_not_found", (await (await _api.GetAsync("user_management/users/user_nobody")).ShouldBe(HttpStatusCode.NotFound)).Str("code"));

        var roles = await (await _api.GetAsync("authorization/roles")).ShouldBe(HttpStatusCode.OK);
        Assert.Equal("list", roles.Str("object"));
        // A new environment has member and admin; the test's own role comes after them.
        Assert.Equal(["member", "admin", "viewer"], roles["data"]!.AsArray().Select(r => r!.Str("slug")));
        var viewer = roles["data"]!.AsArray()[^1]!;
        Assert.Equal(("role", "viewer", "Viewer", "EnvironmentRole", "Reads posts"),
            (viewer.Str("object"), viewer.Str("slug"), viewer.Str("name"), viewer.Str("type"), viewer.Str("description")));
        Assert.StartsWith("role_", viewer.Str("id"));
        Assert.Equal(["posts:read"], viewer["permissions"]!.AsArray().Select(p => p!.GetValue<string>()));

        var orgRoles = await (await _api.GetAsync($"authorization/organizations/{orgId}/roles")).ShouldBe(HttpStatusCode.OK);
        Assert.Equal([("member", "EnvironmentRole"), ("admin", "EnvironmentRole"), ("viewer", "EnvironmentRole"), ("org-billing", "OrganizationRole")],
            orgRoles["data"]!.AsArray().Select(r => (r!.Str("slug"), r!.Str("type"))));
        Assert.Equal("org-billing", Assert.Single(_fake.OrganizationRoles(orgId)).Slug);
        await (await _api.GetAsync("authorization/organizations/org_nobody/roles")).ShouldBe(HttpStatusCode.NotFound);

        // Event data is keyed by slug, without the REST id or type.
        Assert.Equal(("role.created", "role", "viewer"), (roleEvent.Str("event"), roleEvent["data"]!.Str("object"), roleEvent["data"]!.Str("slug")));
        Assert.Null(roleEvent["data"]!["id"]);
        Assert.Equal(("organization_role.created", "organization_role", orgId, "Billing"),
            (orgRoleEvent.Str("event"), orgRoleEvent["data"]!.Str("object"), orgRoleEvent["data"]!.Str("organization_id"), orgRoleEvent["data"]!.Str("name")));
        Assert.Equal("role.deleted", JsonNode.Parse(_fake.DeleteRole("viewer"))!.Str("event"));
        Assert.Equal(["member", "admin"], _fake.Roles.Select(r => r.Slug));
    }

    [Fact]
    public async Task EveryRequestNeedsTheApiKey()
    {
        var (orgId, userId, _) = OrgWithMember();
        _fake.UpdateMembership(_fake.Memberships[0].Id, status: "inactive");
        var eventsBefore = _fake.Events.Count;
        using var anonymous = new HttpClient { BaseAddress = _fake.BaseUrl };
        using var wrongKey = new HttpClient { BaseAddress = _fake.BaseUrl };
        wrongKey.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "sk_test_wrong");

        var denied = await (await anonymous.GetAsync("events?events[]=user.created")).ShouldBe(HttpStatusCode.Unauthorized);
        Assert.Equal("unauthorized", denied.Str("code"));
        Assert.False(string.IsNullOrEmpty(denied.Str("message")));
        await (await wrongKey.PostJson("user_management/organization_memberships", new { user_id = userId, organization_id = orgId }))
            .ShouldBe(HttpStatusCode.Unauthorized);

        Assert.Equal("inactive", _fake.Memberships.Single().Status);
        Assert.Equal(eventsBefore, _fake.Events.Count);
        Assert.Equal(2, _fake.Requests.Count);
    }

    [Fact]
    public async Task FailNextAnswersTheInjectedErrorsWithoutTouchingState()
    {
        var (orgId, _) = _fake.CreateOrganization("Acme");
        var (userId, _) = _fake.CreateUser("fay@example.com", "Fay", "Lund");
        var eventsBefore = _fake.Events.Count;
        _fake.FailNext(2, 429, TimeSpan.FromSeconds(3));

        for (var i = 0; i < 2; i++)
        {
            var response = await _api.PostJson("user_management/organization_memberships", new { user_id = userId, organization_id = orgId });
            Assert.Equal("3", response.Headers.RetryAfter?.ToString());
            Assert.Equal("rate_limit_exceeded", (await response.ShouldBe(HttpStatusCode.TooManyRequests)).Str("code"));
        }
        Assert.Empty(_fake.Memberships);
        Assert.Equal(eventsBefore, _fake.Events.Count);

        _fake.FailNext(1);
        var failed = await (await _api.GetAsync($"user_management/users/{userId}")).ShouldBe(HttpStatusCode.InternalServerError);
        Assert.Equal("server_error", failed.Str("code"));

        await (await _api.PostJson("user_management/organization_memberships", new { user_id = userId, organization_id = orgId })).ShouldBe(HttpStatusCode.Created);
        Assert.Single(_fake.Memberships);
        Assert.Equal(eventsBefore + 1, _fake.Events.Count);
        Assert.Equal(4, _fake.Requests.Count);
    }

    [Fact]
    public async Task WhileDownEveryRequestAnswers503AndNothingChanges()
    {
        var (_, userId, omId) = OrgWithMember();
        var eventsBefore = _fake.Events.Count;
        _fake.Down = true;

        var down = await (await _api.GetAsync("events?events[]=user.created")).ShouldBe(HttpStatusCode.ServiceUnavailable);
        Assert.Equal("service_unavailable", down.Str("code"));
        await (await _api.PutJson($"user_management/organization_memberships/{omId}", new { role_slug = "admin" })).ShouldBe(HttpStatusCode.ServiceUnavailable);
        Assert.Equal(503, (int)(await _api.DeleteAsync($"user_management/organization_memberships/{omId}")).StatusCode);
        Assert.Equal("member", _fake.Memberships.Single().RoleSlug);
        Assert.Equal(eventsBefore, _fake.Events.Count);

        _fake.Down = false;
        await (await _api.GetAsync($"user_management/users/{userId}")).ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task ConcurrentWritesEachGetTheirOwnEventInIdOrder()
    {
        var (orgId, _) = _fake.CreateOrganization("Acme");
        var users = Enumerable.Range(0, 20).Select(i => _fake.CreateUser($"c{i}@example.com", "C", $"{i}").Id).ToList();
        var eventsBefore = _fake.Events.Count;

        var responses = await Task.WhenAll(users.Select(u =>
            _api.PostJson("user_management/organization_memberships", new { user_id = u, organization_id = orgId })));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        Assert.Equal(20, _fake.Memberships.Count);
        var created = _fake.Events.Skip(eventsBefore).ToList();
        Assert.Equal(20, created.Count);
        Assert.Equal(created.Select(e => e.Id).Order(StringComparer.Ordinal), created.Select(e => e.Id));
        Assert.Equal(20, created.Select(e => e.CreatedAt).Distinct().Count());
    }

    [Fact]
    public async Task StrictlyAnUnknownEventNameFailsTheWholeEventsRequestAsWorkOsDoes()
    {
        OrgWithMember();
        foreach (var query in new[] { "events[]=user.created&events[]=invitation.expired", "events=user.created,invitation.expired", "events=invitation.expired" })
        {
            var refused = await (await _api.GetAsync($"events?{query}")).ShouldBe(HttpStatusCode.BadRequest);
            Assert.Equal("invalid_events_request", refused.Str("code"));
            Assert.Contains("invitation.expired", refused.Str("message"));
        }

        _fake.Strict = false;
        var lenient = await (await _api.GetAsync("events?events[]=user.created&events[]=invitation.expired")).ShouldBe(HttpStatusCode.OK);
        Assert.Single(lenient["data"]!.AsArray());
    }

    [Fact]
    public async Task EventNamesAreTakenRepeatedWithBracketsOrCommaJoinedAlike()
    {
        OrgWithMember();
        var bracketed = await (await _api.GetAsync("events?events[]=organization.created&events[]=user.created")).ShouldBe(HttpStatusCode.OK);
        var commas = await (await _api.GetAsync("events?events=organization.created%2Cuser.created")).ShouldBe(HttpStatusCode.OK);
        var repeated = await (await _api.GetAsync("events?events=organization.created&events=user.created")).ShouldBe(HttpStatusCode.OK);

        Assert.Equal(2, Ids(bracketed).Count);
        Assert.Equal(Ids(bracketed), Ids(commas));
        Assert.Equal(Ids(bracketed), Ids(repeated));
    }

    [Fact]
    public async Task MembershipStatusesAreTakenCommaJoinedAsTheSdkSendsThemAndAnUnknownOneIsRefused()
    {
        var (orgId, _) = _fake.CreateOrganization("Acme");
        var active = _fake.AddMembership(_fake.CreateUser("a@example.com").Id, orgId, ["member"]).Id;
        var inactive = _fake.AddMembership(_fake.CreateUser("i@example.com").Id, orgId, ["member"], status: "inactive").Id;
        var pending = _fake.AddMembership(_fake.CreateUser("p@example.com").Id, orgId, ["member"], status: "pending").Id;

        var all = await (await _api.GetAsync($"user_management/organization_memberships?organization_id={orgId}&statuses=active%2Cinactive%2Cpending&order=asc"))
            .ShouldBe(HttpStatusCode.OK);
        Assert.Equal([active, inactive, pending], Ids(all));
        var bracketed = await (await _api.GetAsync($"user_management/organization_memberships?organization_id={orgId}&statuses[]=inactive&statuses[]=pending&order=asc"))
            .ShouldBe(HttpStatusCode.OK);
        Assert.Equal([inactive, pending], Ids(bracketed));
        await (await _api.GetAsync($"user_management/organization_memberships?organization_id={orgId}&statuses=deleted")).ShouldBe(HttpStatusCode.UnprocessableEntity);
    }

    [Fact]
    public async Task ARepeatedIdempotencyKeyGetsTheFirstAnswerAndCreatesNothingMore()
    {
        var (orgId, _) = _fake.CreateOrganization("Acme");
        var (userId, _) = _fake.CreateUser("ida@example.com");
        var (otherId, _) = _fake.CreateUser("olaf@example.com");
        HttpRequestMessage Create(string user, string key)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "user_management/organization_memberships")
            {
                Content = JsonContent(new { user_id = user, organization_id = orgId, role_slugs = new[] { "member" } }),
            };
            request.Headers.Add("Idempotency-Key", key);
            return request;
        }

        var first = await (await _api.SendAsync(Create(userId, "key-1"))).ShouldBe(HttpStatusCode.Created);
        var eventsAfterFirst = _fake.Events.Count;
        var again = await (await _api.SendAsync(Create(userId, "key-1"))).ShouldBe(HttpStatusCode.Created);

        Assert.Equal(first.ToJsonString(), again.ToJsonString());
        Assert.Equal(eventsAfterFirst, _fake.Events.Count);
        Assert.Single(_fake.Memberships);
        Assert.Equal("idempotency_key_reused", (await (await _api.SendAsync(Create(otherId, "key-1"))).ShouldBe(HttpStatusCode.BadRequest)).Str("code"));
        // Without the key (or with a new one) a repeat is a new request: the membership exists already.
        Assert.Equal("organization_membership_already_exists",
            (await (await _api.SendAsync(Create(userId, "key-2"))).ShouldBe(HttpStatusCode.UnprocessableEntity)).Str("code"));
        Assert.Equal("key-1", _fake.Requests[0].Header("Idempotency-Key"));
    }

    [Fact]
    public async Task AMembershipWriteNamingARoleTheEnvironmentLacksIsRefused()
    {
        var (orgId, userId, omId) = OrgWithMember();
        var (otherId, _) = _fake.CreateUser("olga@example.com");

        var created = await _api.PostJson("user_management/organization_memberships", new { user_id = otherId, organization_id = orgId, role_slug = "owner" });
        Assert.Equal("role_not_found", (await created.ShouldBe(HttpStatusCode.UnprocessableEntity)).Str("code"));
        var updated = await _api.PutJson($"user_management/organization_memberships/{omId}", new { role_slugs = new[] { "admin", "org-nope" } });
        Assert.Equal("role_not_found", (await updated.ShouldBe(HttpStatusCode.UnprocessableEntity)).Str("code"));
        Assert.Equal(["member"], _fake.Memberships.Single().RoleSlugs);

        _fake.CreateOrganizationRole(orgId, "org-nope", "Now it exists");
        await (await _api.PutJson($"user_management/organization_memberships/{omId}", new { role_slugs = new[] { "admin", "org-nope" } })).ShouldBe(HttpStatusCode.OK);
        _ = userId;
    }

    [Fact]
    public async Task OrganizationsAreListedNewestFirstAndPagedWithACursor()
    {
        var ids = Enumerable.Range(0, 5).Select(i => _fake.CreateOrganization($"Org {i}").Id).ToList();

        var seen = new List<string>();
        string? after = null;
        do
        {
            var page = await (await _api.GetAsync($"organizations?limit=2&order=desc{(after is null ? "" : $"&after={after}")}")).ShouldBe(HttpStatusCode.OK);
            seen.AddRange(Ids(page));
            Assert.All(page["data"]!.AsArray(), o => Assert.Equal("organization", o!.Str("object")));
            after = page["list_metadata"]!["after"]?.GetValue<string>();
        } while (after is not null && seen.Count < 20);

        Assert.Equal(Enumerable.Reverse(ids), seen);
        var ascending = await (await _api.GetAsync("organizations?order=asc&limit=100")).ShouldBe(HttpStatusCode.OK);
        Assert.Equal(ids, Ids(ascending));
    }

    private static StringContent JsonContent(object body) =>
        new(System.Text.Json.JsonSerializer.Serialize(body), System.Text.Encoding.UTF8, "application/json");
}
