using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Roster.Cli;
using Roster.Infrastructure.Changes;
using Roster.Tests.Support;

namespace Roster.Tests.Changes;

/// <summary>
/// The feed holds every membership change as it was committed: those WorkOS makes by deleting a user, the state before
/// and after each change (a change's <c>previous</c> is the membership of the change before it), the person as they were
/// then; and the global feed is open to a service credential and to nothing else it might try.
/// </summary>
public abstract class FeedCompletenessTests(WebhookApp app) : IAsyncLifetime
{
    private readonly Scenario _s = new(app);
    private readonly HttpClient _admin = app.ClientFor(RosterApp.NewUser("platform", admin: true));
    private readonly HttpClient _workos = app.ClientFor(null);
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await WebhookReceiver.StartAsync();

    public async Task DisposeAsync()
    {
        await app.WithDbAsync(db => db.WebhookSubscriptions.ExecuteUpdateAsync(s => s.SetProperty(x => x.DeletedAt, DateTime.UtcNow)));
        await _receiver.DisposeAsync();
    }

    private Task<List<JsonNode>> ChangesOf(Org org) => FeedSupport.WalkAsync(_s.As(org.Owner), $"/api/organizations/{org.Id}/changes");

    private static (string? Role, string? Status, string? SeatType) State(JsonNode? node) =>
        node is null ? default : (node["role"]?.GetValue<string>(), node["status"]?.GetValue<string>(), node["seatType"]?.GetValue<string>());

    /// <summary>Each organization's feed is 1..n, and every change to a membership starts from where the one before it left it.</summary>
    private static void AssertGaplessAndChained(List<JsonNode> feed)
    {
        Assert.Equal(Enumerable.Range(1, feed.Count).Select(i => (long)i), feed.Select(c => c.Long("sequence")));
        foreach (var line in feed.Where(c => c["membershipId"] is not null).GroupBy(c => c.Str("membershipId")))
        {
            JsonNode? before = null;
            foreach (var change in line)
            {
                if (before is not null)
                    Assert.True(State(before["membership"]) == State(change["previous"]),
                        $"{change.Str("type")} (sequence {change.Long("sequence")}) has previous {State(change["previous"])}, but the change before it left {State(before["membership"])}");
                before = change;
            }
        }
    }

    [Fact]
    public async Task AWorkOsUserDeletionRemovesEachOfTheirMembershipsAsAChangeInItsOrganizationAndDeliversItInSequence()
    {
        var person = RosterApp.NewUser("deleted");
        var personId = await _s.UserIdOf(person);
        var active = await _s.NewOrg(plan: "company_leader");
        var requested = await _s.NewOrg(plan: "company_leader");
        var invited = await _s.NewOrg(plan: "company_leader");
        var activeMembership = await _s.AddActive(active.Id, active.Owner, person, seatType: "community_only");
        var joinRequest = await _s.RequestToJoin(requested.Id, person); // holds no seat: its organization is locked all the same
        var invitation = await _s.Invite(invited.Id, invited.Owner, person, role: "admin");
        await app.SequenceAsync();
        var secret = (await (await _admin.PostJson("/api/admin/webhook-subscriptions", new { url = _receiver.Url() })).ShouldBe(HttpStatusCode.Created)).Str("secret");

        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("user.deleted", WorkOs.User(person.Sub, person.Email))));
        // The organization goes on: the next change follows the removal.
        var next = await _s.Invite(active.Id, active.Owner, RosterApp.NewUser("next"));

        var expected = new[]
        {
            (active, activeMembership, ("member", "active", "community_only")),
            (requested, joinRequest, ("member", "pending", "contributor")),
            (invited, invitation, ("admin", "pending", "contributor")),
        };
        var removals = new List<string>();
        foreach (var (org, membership, before) in expected)
        {
            var feed = await ChangesOf(org);
            AssertGaplessAndChained(feed);
            var removed = Assert.Single(feed, c => c.Str("type") == "membership.removed");
            Assert.Equal((membership.ToString(), personId.ToString(), "webhook", "workos"),
                (removed.Str("membershipId"), removed.Str("userId"), removed.Str("via"), removed["actor"]!.Str("kind")));
            Assert.Null(removed["membership"]);
            Assert.Equal(before, State(removed["previous"]));
            removals.Add(removed.Str("id"));
            // Audited too, and chained: the export verifies to its end.
            var export = await (await _s.As(org.Owner).GetAsync($"/api/organizations/{org.Id}/audit/export")).Content.ReadAsStringAsync();
            var lines = export.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(AuditChain.Verify(lines).Intact, export);
            Assert.Contains(lines, l => JsonNode.Parse(l)!.Str("action") == "removed" && JsonNode.Parse(l)!.Str("membershipId") == membership.ToString());
        }

        var activeFeed = await ChangesOf(active);
        var expectedActive = activeFeed.SkipWhile(c => c.Str("id") != removals[0]).Select(c => c.Str("id")).ToList();
        Assert.Equal(2, expectedActive.Count);
        Assert.Equal(next.ToString(), activeFeed[^1].Str("membershipId"));
        await _receiver.WaitUntilAsync(r => removals.Concat(expectedActive).All(id => r.Any(x => x.Id == id && x.Answered == 200)),
            what: "the three removals and the change after one of them");
        Assert.Equal(expectedActive, _receiver.Accepted.Where(r => r.Json.Str("organizationId") == active.Id.ToString()).Select(r => r.Id));
        for (var i = 1; i < expected.Length; i++)
            Assert.Equal([removals[i]], _receiver.Accepted.Where(r => r.Json.Str("organizationId") == expected[i].Item1.Id.ToString()).Select(r => r.Id));
        Assert.All(_receiver.Accepted, r => Assert.True(WebhookReceiver.Verifies(r, secret)));
    }

    [Fact]
    public async Task ConcurrentUserDeletionsAndChangesInTheSameOrganizationsAllCommitWithGaplessFeeds()
    {
        // Every person is in every organization: each deletion locks all of them, by id, while owners change them too.
        var orgs = new List<Org>();
        for (var i = 0; i < 3; i++) orgs.Add(await _s.NewOrg(plan: "company_leader"));
        var people = Enumerable.Range(0, 4).Select(i => RosterApp.NewUser($"leaving{i}")).ToList();
        var stayers = new List<(Org Org, Guid Membership)>();
        foreach (var org in orgs)
        {
            foreach (var person in people) await _s.AddActive(org.Id, org.Owner, person, seatType: "community_only");
            stayers.Add((org, await _s.AddActive(org.Id, org.Owner, RosterApp.NewUser("stayer"), seatType: "community_only")));
        }

        var deletions = people.Select(p => _workos.Deliver(WorkOs.Envelope("user.deleted", WorkOs.User(p.Sub, p.Email))));
        var changes = stayers.SelectMany(s => new[] { "admin", "billing" }.Select(role =>
            _s.As(s.Org.Owner).PatchJson($"/api/organizations/{s.Org.Id}/members/{s.Membership}", new { role })));
        var answers = await Task.WhenAll(deletions.Concat(changes));

        foreach (var answer in answers)
            Assert.True(answer.StatusCode == HttpStatusCode.OK, $"{answer.RequestMessage?.RequestUri}: {(int)answer.StatusCode} {await answer.Content.ReadAsStringAsync()}");
        foreach (var org in orgs)
        {
            var feed = await ChangesOf(org);
            AssertGaplessAndChained(feed);
            Assert.Equal(people.Count, feed.Count(c => c.Str("type") == "membership.removed" && c.Str("via") == "webhook"));
            Assert.Equal(2, feed.Count(c => c.Str("type") == "membership.role_changed"));
        }
        var live = await app.WithDbAsync(db => db.Memberships.CountAsync(m => orgs.Select(o => o.Id).Contains(m.OrganizationId) && m.DeletedAt == null));
        Assert.Equal(orgs.Count * 2, live); // each organization keeps its owner and its stayer
    }

    [Fact]
    public async Task AJoinRequestActivatedByWorkOsPublishesTheSeatTypeItHadBeforeAndTheOneItHasAfter()
    {
        var org = await _s.NewOrg(plan: "company_leader");
        var workosOrg = WorkOs.NewId("org");
        await app.WithDbAsync(db => db.Organizations.Where(o => o.Id == org.Id).ExecuteUpdateAsync(s => s.SetProperty(o => o.WorkosOrganizationId, workosOrg)));
        var person = RosterApp.NewUser("requester");
        var request = await _s.RequestToJoin(org.Id, person);

        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(WorkOs.NewId("om"), person.Sub, workosOrg))));

        var feed = await ChangesOf(org);
        AssertGaplessAndChained(feed);
        var activated = feed[^1];
        Assert.Equal(("membership.activated", request.ToString()), (activated.Str("type"), activated.Str("membershipId")));
        Assert.Equal(("member", "pending", "contributor"), State(activated["previous"]));
        Assert.Equal(("member", "active", "community_only"), State(activated["membership"]));
    }

    [Theory]
    [InlineData("added again")]
    [InlineData("asks to join again")]
    public async Task AMembershipWorkOsDeactivatedIsPublishedAsRemovedWhenThePersonComesBackOnANewOne(string how)
    {
        var org = await _s.NewOrg(plan: "company_leader");
        var workosOrg = WorkOs.NewId("org");
        await app.WithDbAsync(db => db.Organizations.Where(o => o.Id == org.Id).ExecuteUpdateAsync(s => s.SetProperty(o => o.WorkosOrganizationId, workosOrg)));
        var person = RosterApp.NewUser("returning");
        var personId = await _s.UserIdOf(person);
        var om = WorkOs.NewId("om");
        var at = DateTime.UtcNow.AddMinutes(-5);
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(om, person.Sub, workosOrg, updatedAt: at))));
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.updated", WorkOs.Membership(om, person.Sub, workosOrg, status: "inactive", updatedAt: at.AddMinutes(1)))));
        var old = await app.WithDbAsync(db => db.Memberships.Where(m => m.OrganizationId == org.Id && m.UserId == personId).Select(m => m.Id).SingleAsync());

        var again = how == "added again" ? await _s.Invite(org.Id, org.Owner, person) : await _s.RequestToJoin(org.Id, person);

        var feed = await ChangesOf(org);
        AssertGaplessAndChained(feed);
        var (deactivated, removed, made) = (Assert.Single(feed, c => c.Str("type") == "membership.deactivated"),
            Assert.Single(feed, c => c.Str("type") == "membership.removed"), feed.Single(c => c["membershipId"]?.GetValue<string>() == again.ToString()));
        Assert.Equal((old.ToString(), old.ToString()), (deactivated.Str("membershipId"), removed.Str("membershipId")));
        Assert.Equal(("roster", "api"), (removed["actor"]!.Str("kind"), removed.Str("via")));
        Assert.Null(removed["membership"]);
        Assert.Equal(State(deactivated["membership"]), State(removed["previous"]));
        Assert.Equal("inactive", removed["previous"]!.Str("status"));
        Assert.Equal(how == "added again" ? "membership.added" : "membership.requested", made.Str("type"));
        // Both made in one commit: their sequences are adjacent.
        Assert.Equal(1, Math.Abs(made.Long("sequence") - removed.Long("sequence")));
    }

    [Fact]
    public async Task ARoleAndSeatTypeChangeInOnePatchIsTwoChangesEachStartingWhereTheOneBeforeLeftIt()
    {
        var org = await _s.NewOrg(plan: "company_leader");
        var membership = await _s.AddActive(org.Id, org.Owner, RosterApp.NewUser("both"));
        await (await _s.As(org.Owner).PatchJson($"/api/organizations/{org.Id}/members/{membership}", new { role = "admin", seatType = "community_only" }))
            .ShouldBe(HttpStatusCode.OK);

        var feed = await ChangesOf(org);
        AssertGaplessAndChained(feed);
        var (role, seat) = (feed[^2], feed[^1]);
        Assert.Equal(("membership.role_changed", "membership.seat_type_changed"), (role.Str("type"), seat.Str("type")));
        Assert.Equal((("member", "active", "contributor"), ("admin", "active", "contributor")), (State(role["previous"]), State(role["membership"])));
        Assert.Equal((("admin", "active", "contributor"), ("admin", "active", "community_only")), (State(seat["previous"]), State(seat["membership"])));
    }

    [Fact]
    public async Task AnApprovalOntoAnotherSeatTypePublishesTheRequestsSeatTypeAsPrevious()
    {
        var org = await _s.NewOrg(plan: "company_leader");
        var request = await _s.RequestToJoin(org.Id, RosterApp.NewUser("approved"));
        await (await _s.As(org.Owner).PutJson($"/api/organizations/{org.Id}/requests/{request}/approve", new { seatType = "community_only" }))
            .ShouldBe(HttpStatusCode.OK);

        var approved = (await ChangesOf(org))[^1];
        Assert.Equal("membership.approved", approved.Str("type"));
        Assert.Equal((("member", "pending", "contributor"), ("member", "active", "community_only")), (State(approved["previous"]), State(approved["membership"])));
    }

    [Fact]
    public async Task ARenewalPublishesTheInvitationWithItsNewExpiry()
    {
        var org = await _s.NewOrg(plan: "company_leader");
        var invitation = await _s.Invite(org.Id, org.Owner, RosterApp.NewUser("renewed"));
        var renewed = await (await _s.As(org.Owner).PostAsync($"/api/organizations/{org.Id}/members/{invitation}/renew", null)).ShouldBe(HttpStatusCode.OK);

        var feed = await ChangesOf(org);
        var (added, renewal) = (feed[^2], feed[^1]);
        Assert.Equal("membership.renewed", renewal.Str("type"));
        // To the microsecond, as both databases keep it.
        Assert.Equal(ChangeLog.Micros(DateTime.Parse(renewed.Str("expiresAt"), null, System.Globalization.DateTimeStyles.RoundtripKind)),
            DateTime.Parse(renewal["membership"]!.Str("expiresAt"), null, System.Globalization.DateTimeStyles.RoundtripKind));
        Assert.NotEqual(added["membership"]!.Str("expiresAt"), renewal["membership"]!.Str("expiresAt"));
    }

    [Fact]
    public async Task AChangeKeepsThePersonAsTheyWereWhenItCommittedAndALaterChangeShowsThemAsTheyAreThen()
    {
        var org = await _s.NewOrg(plan: "company_leader");
        var person = RosterApp.NewUser("renamed");
        var membership = await _s.Invite(org.Id, org.Owner, person);
        var newEmail = $"renamed.{Guid.NewGuid():N}@example.com";
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("user.updated", WorkOs.User(person.Sub, newEmail, "Renée", "Newname"))));
        await _s.Accept(person with { Email = newEmail }, membership);

        var feed = await ChangesOf(org);
        var (added, accepted) = (feed[^2], feed[^1]);
        Assert.Equal(("membership.added", person.Email), (added.Str("type"), added["membership"]!.Str("email")));
        Assert.Equal(("membership.accepted", newEmail), (accepted.Str("type"), accepted["membership"]!.Str("email")));
    }

    [Fact]
    public async Task AReceiverThatIsNotListeningForAWhileGetsEverythingInOrderOnceItListens()
    {
        var a = await _s.NewOrg(plan: "company_leader");
        var b = await _s.NewOrg(plan: "company_leader");
        await app.SequenceAsync();
        var port = WebhookReceiver.FreePort();
        var subscription = (await (await _admin.PostJson("/api/admin/webhook-subscriptions", new { url = $"http://127.0.0.1:{port}/hooks" }))
            .ShouldBe(HttpStatusCode.Created)).Str("id");
        for (var i = 0; i < 3; i++)
        {
            await _s.Invite(a.Id, a.Owner, RosterApp.NewUser("a"), seatType: "community_only");
            await _s.Invite(b.Id, b.Owner, RosterApp.NewUser("b"), seatType: "community_only");
        }
        // Down: every connection is refused, and the log says so, while the first change of each line waits for its retry.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        JsonArray log;
        do
        {
            await Task.Delay(100);
            log = (await (await _admin.GetAsync($"/api/admin/webhook-subscriptions/{subscription}/deliveries?limit=500")).ShouldBe(HttpStatusCode.OK)).AsArray();
        } while (log.Count(d => d!["attempts"]!.GetValue<int>() >= 1) < 2 && DateTime.UtcNow < deadline);
        Assert.True(log.Count(d => d!["attempts"]!.GetValue<int>() >= 1) >= 2, log.ToJsonString());
        Assert.All(log, d => Assert.Equal("pending", d!.Str("status")));
        Assert.All(log.Where(d => d!["attempts"]!.GetValue<int>() >= 1), d => Assert.Equal((null, true), (d!["responseCode"], d["lastError"] is not null)));
        // Only the head of each organization's line is tried: the next waits for it.
        foreach (var line in log.GroupBy(d => d!.Str("organizationId")))
            Assert.All(line.Where(d => d!["attempts"]!.GetValue<int>() >= 1),
                d => Assert.Equal(line.Min(x => x!.Long("ordinal")), d!.Long("ordinal")));

        await using var receiver = await WebhookReceiver.StartAsync(port);
        foreach (var org in new[] { a, b })
        {
            var expected = (await ChangesOf(org)).Where(c => c.Str("type") == "membership.added").Select(c => c.Str("id")).ToList();
            await receiver.WaitUntilAsync(r => expected.All(id => r.Any(x => x.Id == id && x.Answered == 200)), what: "every change of the organization");
            Assert.Equal(expected, receiver.Accepted.Where(r => r.Json.Str("organizationId") == org.Id.ToString()).Select(r => r.Id!).Distinct());
        }
    }

    private async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await RosterCommands.RunAsync(app.Services, args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    private HttpClient Bearer(string token)
    {
        var client = app.ClientFor(null);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.Trim());
        return client;
    }

    [Fact]
    public async Task ADevTokenServiceCredentialReadsTheGlobalFeedAndNoUserRouteAndMakesNoUser()
    {
        var org = await _s.NewOrg();
        await app.SequenceAsync();
        var client = $"client_{Guid.NewGuid():N}";
        var (code, output, error) = await RunAsync("dev-token", "--service", "--sub", client);
        Assert.Equal((0, ""), (code, error));
        var service = Bearer(output);

        var feed = await FeedSupport.WalkAsync(service, "/api/admin/changes?limit=500", maxPages: 1000);
        Assert.Contains(feed, c => c.Str("organizationId") == org.Id.ToString() && c.Str("type") == "organization.created");

        // A person's routes, an organization's feed, an admin route that is not the feed: not a token they take (401, as
        // any token without an email), and nothing is made.
        await (await service.GetAsync("/api/membership-requests/mine")).ShouldBeProblem(HttpStatusCode.Unauthorized, "unauthorized");
        await (await service.GetAsync($"/api/organizations/{org.Id}/changes")).ShouldBeProblem(HttpStatusCode.Unauthorized, "unauthorized");
        await (await service.PostJson("/api/organizations", new { name = "Made by a machine" })).ShouldBeProblem(HttpStatusCode.Unauthorized, "unauthorized");
        await (await service.GetAsync("/api/admin/webhook-subscriptions")).ShouldBeProblem(HttpStatusCode.Unauthorized, "unauthorized");
        Assert.False(await app.WithDbAsync(db => db.Users.AnyAsync(u => u.WorkosUserId == client)));
        Assert.False(await app.WithDbAsync(db => db.Organizations.AnyAsync(o => o.Name == "Made by a machine")));
    }

    [Fact]
    public async Task AServiceCredentialWithoutTheFeedPermissionIsForbiddenTheGlobalFeed()
    {
        var (code, output, _) = await RunAsync("dev-token", "--service", "--sub", $"client_{Guid.NewGuid():N}", "--permission", "billing:read");
        Assert.Equal(0, code);
        await (await Bearer(output).GetAsync("/api/admin/changes")).ShouldBeProblem(HttpStatusCode.Forbidden, "forbidden");
        await (await FeedSupport.ServiceClient(app, "billing:read").GetAsync("/api/admin/changes")).ShouldBeProblem(HttpStatusCode.Forbidden, "forbidden");
        // Nor does a person's token without it.
        var person = RosterApp.NewUser("reader");
        await (await _s.As(person).GetAsync("/api/admin/changes")).ShouldBeProblem(HttpStatusCode.Forbidden, "forbidden");
    }

    [Theory]
    [InlineData("dev-token", "--service")]
    [InlineData("dev-token", "--service", "--sub", "client_x", "--email", "x@example.com")]
    [InlineData("dev-token", "--service", "--sub", "client_x", "--admin")]
    [InlineData("dev-token", "--service", "--sub", "client_x", "--permission")]
    public async Task AServiceCredentialIsNotAPersonAndAMalformedOneIsAUsageError(params string[] args)
    {
        var (code, output, error) = await RunAsync(args);
        Assert.Equal((2, ""), (code, output));
        Assert.Contains("usage:", error, StringComparison.Ordinal);
    }
}

public sealed class FeedCompletenessTestsOnSqlite(WebhookSqliteApp app) : FeedCompletenessTests(app), IClassFixture<WebhookSqliteApp>;

public sealed class FeedCompletenessTestsOnPostgres(WebhookPostgresApp app) : FeedCompletenessTests(app), IClassFixture<WebhookPostgresApp>;
