using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Roster.Features.Changes;
using Roster.Tests.Support;

namespace Roster.Tests.Changes;

/// <summary>The change feed over HTTP: every membership change appended in its own transaction, numbered, readable in order.</summary>
public abstract class ChangeFeedTests(RosterApp app)
{
    private readonly Scenario _s = new(app);

    [Fact]
    public async Task AMembershipsLifeIsPublishedInSequenceOrderWithItsStateAfterAndBeforeEachChange()
    {
        var org = await _s.NewOrg();
        var bob = RosterApp.NewUser("bob");
        var bobId = await _s.UserIdOf(bob);
        var ownerId = await _s.UserIdOf(org.Owner);
        var membership = await _s.Invite(org.Id, org.Owner, bob);
        await _s.Accept(bob, membership);
        await (await _s.As(org.Owner).PatchJson($"/api/organizations/{org.Id}/members/{membership}", new { role = "admin" })).ShouldBe(HttpStatusCode.OK);
        await (await _s.As(org.Owner).PatchJson($"/api/organizations/{org.Id}/members/{membership}", new { seatType = "community_only" })).ShouldBe(HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.NoContent, (await _s.As(org.Owner).DeleteAsync($"/api/organizations/{org.Id}/members/{membership}")).StatusCode);
        await _s.SetPlan(org.Id, "company_standard");

        var changes = await FeedSupport.WalkAsync(_s.As(org.Owner), $"/api/organizations/{org.Id}/changes");

        Assert.Equal(
            ["organization.created", "membership.founded", "membership.added", "membership.accepted", "membership.role_changed",
             "membership.seat_type_changed", "membership.removed", "organization.plan_changed"],
            changes.Select(c => c.Str("type")));
        Assert.Equal(Enumerable.Range(1, changes.Count).Select(i => (long)i), changes.Select(c => c.Long("sequence")));
        Assert.All(changes, c => Assert.Equal(org.Id.ToString(), c.Str("organizationId")));
        Assert.All(changes, c => Assert.Equal("api", c.Str("via")));

        var added = changes[2];
        Assert.Equal((membership.ToString(), bobId.ToString(), bob.Email, "pending", "member", "owner_add"),
            (added["membership"]!.Str("id"), added["membership"]!.Str("userId"), added["membership"]!.Str("email"),
                added["membership"]!.Str("status"), added["membership"]!.Str("role"), added["membership"]!.Str("source")));
        Assert.Null(added["previous"]);
        Assert.Equal(("user", ownerId.ToString()), (added["actor"]!.Str("kind"), added["actor"]!.Str("userId")));

        var accepted = changes[3];
        Assert.Equal(("active", "pending"), (accepted["membership"]!.Str("status"), accepted["previous"]!.Str("status")));
        Assert.Equal(bobId.ToString(), accepted["actor"]!.Str("userId"));
        var promoted = changes[4];
        Assert.Equal(("admin", "member"), (promoted["membership"]!.Str("role"), promoted["previous"]!.Str("role")));
        var reseated = changes[5];
        Assert.Equal(("community_only", "contributor"), (reseated["membership"]!.Str("seatType"), reseated["previous"]!.Str("seatType")));
        var removed = changes[6];
        Assert.Null(removed["membership"]);
        Assert.Equal((membership.ToString(), bobId.ToString(), "admin", "active", "community_only"),
            (removed.Str("membershipId"), removed.Str("userId"), removed["previous"]!.Str("role"), removed["previous"]!.Str("status"), removed["previous"]!.Str("seatType")));
        Assert.Null(changes[0]["membership"]);
    }

    [Fact]
    public async Task AConsumerThatStoresItsLastSequenceAndPollsNeverMissesOrRepeatsAChange()
    {
        var org = await _s.NewOrg(plan: "company_leader");
        var owner = _s.As(org.Owner);
        var seen = new List<long>();
        long last = 0;
        for (var round = 0; round < 4; round++)
        {
            for (var i = 0; i < 3; i++) await _s.Invite(org.Id, org.Owner, RosterApp.NewUser("p"), seatType: "community_only");
            using var response = await owner.GetAsync($"/api/organizations/{org.Id}/changes?after={last}&limit=2");
            var page = (await response.ShouldBe(HttpStatusCode.OK)).AsArray();
            Assert.True(page.Count is > 0 and <= 2);
            Assert.True(response.Headers.Contains("Link"), "more changes follow, so the page links to the next one");
            seen.AddRange(page.Select(c => c!.Long("sequence")));
            last = seen[^1];
        }
        var rest = await FeedSupport.WalkAsync(owner, $"/api/organizations/{org.Id}/changes?after={last}&limit=3");
        seen.AddRange(rest.Select(c => c.Long("sequence")));

        // Created, founded, plan changed, then twelve invitations.
        Assert.Equal(Enumerable.Range(1, 3 + 12).Select(i => (long)i), seen);
        var empty = (await (await owner.GetAsync($"/api/organizations/{org.Id}/changes?after={seen[^1]}")).ShouldBe(HttpStatusCode.OK)).AsArray();
        Assert.Empty(empty);
    }

    [Fact]
    public async Task TheGlobalFeedGivesEveryCommittedChangeAPositionInOrderAndKeepsEachOrganizationsSequenceOrder()
    {
        var admin = _s.As(RosterApp.NewUser("platform", admin: true));
        await app.SequenceAsync();
        var start = (await FeedSupport.WalkAsync(admin, "/api/admin/changes?limit=500")).Select(c => c.Long("position")).DefaultIfEmpty(0).Max();
        var a = await _s.NewOrg();
        var b = await _s.NewOrg();
        await _s.Invite(a.Id, a.Owner, RosterApp.NewUser("x"));
        await _s.Invite(b.Id, b.Owner, RosterApp.NewUser("y"));
        await _s.Invite(a.Id, a.Owner, RosterApp.NewUser("z"));
        await app.SequenceAsync();

        var changes = await FeedSupport.WalkAsync(admin, $"/api/admin/changes?after={start}&limit=2");

        var positions = changes.Select(c => c.Long("position")).ToList();
        Assert.Equal(Enumerable.Range(0, positions.Count).Select(i => start + 1 + i), positions);
        foreach (var org in new[] { a, b })
        {
            var ofOrg = changes.Where(c => c.Str("organizationId") == org.Id.ToString()).Select(c => c.Long("sequence")).ToList();
            Assert.Equal(Enumerable.Range(1, ofOrg.Count).Select(i => (long)i), ofOrg);
        }
        Assert.Equal(3 + 4, changes.Count(c => c.Str("organizationId") == a.Id.ToString()) + changes.Count(c => c.Str("organizationId") == b.Id.ToString()));

        // The same through a service credential, which holds no platform admin permission.
        var service = await FeedSupport.WalkAsync(FeedSupport.ServiceClient(app), $"/api/admin/changes?after={start}");
        Assert.Equal(positions, service.Select(c => c.Long("position")).Take(positions.Count));
    }

    [Fact]
    public async Task ThePositionIsHandedOutByTheBackgroundSequencerWithoutBeingAsked()
    {
        var org = await _s.NewOrg();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        List<System.Text.Json.Nodes.JsonNode> changes;
        do
        {
            changes = await FeedSupport.WalkAsync(_s.As(org.Owner), $"/api/organizations/{org.Id}/changes");
            if (changes.All(c => c["position"] is not null)) break;
            await Task.Delay(100);
        } while (DateTime.UtcNow < deadline);
        Assert.Equal(2, changes.Count);
        Assert.All(changes, c => Assert.NotNull(c["position"]));
    }

    [Fact]
    public async Task ARefusedChangeAppendsNothingAndAWebhookRefusalIsPublished()
    {
        var org = await _s.NewOrg(plan: "individual_professional");
        var before = await app.WithDbAsync(db => db.Changes.CountAsync(c => c.OrganizationId == org.Id));
        // individual_professional has one contributor seat, and the founder holds it.
        var userId = await _s.UserIdOf(RosterApp.NewUser("late"));
        await (await _s.As(org.Owner).PostJson($"/api/organizations/{org.Id}/members", new { userId })).ShouldBeProblem(HttpStatusCode.Conflict, "seat_limit_reached");
        Assert.Equal(before, await app.WithDbAsync(db => db.Changes.CountAsync(c => c.OrganizationId == org.Id)));

        var workosId = WorkOs.NewId("org");
        await app.WithDbAsync(db => db.Organizations.Where(o => o.Id == org.Id).ExecuteUpdateAsync(s => s.SetProperty(o => o.WorkosOrganizationId, workosId)));
        var refusedUser = WorkOs.NewId("user");
        Assert.Equal("refused", await app.ClientFor(null).DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(WorkOs.NewId("om"), refusedUser, workosId))));

        var changes = await FeedSupport.WalkAsync(_s.As(org.Owner), $"/api/organizations/{org.Id}/changes");
        var refused = changes[^1];
        Assert.Equal(("membership.refused", "webhook", "workos", before + 1), (refused.Str("type"), refused.Str("via"), refused["actor"]!.Str("kind"), refused.Long("sequence")));
        Assert.Null(refused["membership"]);
    }

    [Fact]
    public async Task OnlyOwnersAdminsAndPlatformAdminsReadAnOrganizationsFeedAndOnlyAdminsOrServiceCredentialsTheGlobalOne()
    {
        var staffed = await _s.NewStaffedOrg();
        var url = $"/api/organizations/{staffed.Id}/changes";
        await (await _s.As(staffed.Admin).GetAsync(url)).ShouldBe(HttpStatusCode.OK);
        await (await _s.As(staffed.PlatformAdmin).GetAsync(url)).ShouldBe(HttpStatusCode.OK);
        await (await _s.As(staffed.Member).GetAsync(url)).ShouldBeProblem(HttpStatusCode.Forbidden, "forbidden");
        await (await _s.As(staffed.Outsider).GetAsync(url)).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
        await (await FeedSupport.ServiceClient(app).GetAsync(url)).ShouldBeProblem(HttpStatusCode.Unauthorized, "unauthorized");
        await (await _s.As(staffed.Owner).GetAsync("/api/admin/changes")).ShouldBeProblem(HttpStatusCode.Forbidden, "forbidden");
    }

    [Theory]
    [InlineData("after=-1")]
    [InlineData("after=abc")]
    [InlineData("after=1.5")]
    [InlineData("limit=0")]
    [InlineData("limit=501")]
    public async Task ABadAfterOrLimitIsAValidationProblem(string query)
    {
        var org = await _s.NewOrg();
        await (await _s.As(org.Owner).GetAsync($"/api/organizations/{org.Id}/changes?{query}")).ShouldBeProblem(HttpStatusCode.BadRequest, "validation_failed");
        await (await _s.As(RosterApp.NewUser("platform", admin: true)).GetAsync($"/api/admin/changes?{query}")).ShouldBeProblem(HttpStatusCode.BadRequest, "validation_failed");
    }
}

public sealed class ChangeFeedTestsOnSqlite(SqliteApp app) : ChangeFeedTests(app), IClassFixture<SqliteApp>;

public sealed class ChangeFeedTestsOnPostgres(PostgresApp app) : ChangeFeedTests(app), IClassFixture<PostgresApp>;

/// <summary>Retention: its own database, since dropping old changes is global.</summary>
public abstract class ChangeRetentionTests(RosterApp app)
{
    private readonly Scenario _s = new(app);

    [Fact]
    public async Task ACursorOlderThanTheRetentionIsGoneWithTheOldestPositionStillKept()
    {
        var org = await _s.NewOrg();
        await _s.Invite(org.Id, org.Owner, RosterApp.NewUser("old"));
        await app.SequenceAsync();
        // Everything so far is 91 days old (the default retention is 90).
        await app.WithDbAsync(db => db.Changes.ExecuteUpdateAsync(s => s.SetProperty(c => c.At, DateTime.UtcNow.AddDays(-91))));
        await _s.Invite(org.Id, org.Owner, RosterApp.NewUser("new"));
        await app.SequenceAsync();
        var pruned = await app.Services.GetRequiredService<ChangeSequencer>().PruneAsync(CancellationToken.None);
        Assert.True(pruned >= 3);

        var gone = await (await _s.As(org.Owner).GetAsync($"/api/organizations/{org.Id}/changes?after=0")).ShouldBeProblem(HttpStatusCode.Gone, "cursor_expired");
        Assert.Equal(4, gone["oldestAvailableSequence"]!.GetValue<long>());
        var kept = await FeedSupport.WalkAsync(_s.As(org.Owner), $"/api/organizations/{org.Id}/changes?after=3");
        Assert.Equal([4L], kept.Select(c => c.Long("sequence")));

        var admin = _s.As(RosterApp.NewUser("platform", admin: true));
        var globalGone = await (await admin.GetAsync("/api/admin/changes?after=0")).ShouldBeProblem(HttpStatusCode.Gone, "cursor_expired");
        var oldest = globalGone["oldestAvailablePosition"]!.GetValue<long>();
        var rest = await FeedSupport.WalkAsync(admin, $"/api/admin/changes?after={oldest - 1}");
        Assert.Equal(org.Id.ToString(), rest[^1].Str("organizationId"));
        Assert.Equal(oldest, rest[0].Long("position"));
    }
}

public sealed class ChangeRetentionTestsOnSqlite(SqliteApp app) : ChangeRetentionTests(app), IClassFixture<SqliteApp>;

public sealed class ChangeRetentionTestsOnPostgres(PostgresApp app) : ChangeRetentionTests(app), IClassFixture<PostgresApp>;
