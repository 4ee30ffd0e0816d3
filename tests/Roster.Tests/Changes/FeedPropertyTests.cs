using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using Roster.Infrastructure.Data;
using Roster.Tests.Reliability;
using Roster.Tests.Support;
using Xunit.Abstractions;

namespace Roster.Tests.Changes;

/// <summary>Retries at once (the property is about order, not about waiting), with room for several tries.</summary>
public abstract class FeedPropertyApp(StorageProvider provider) : WebhookApp(provider)
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
    {
        ["Webhooks:BackoffBaseSeconds"] = "0",
        ["Webhooks:MaxAttempts"] = "20",
    };
}

public sealed class FeedPropertySqliteApp() : FeedPropertyApp(StorageProvider.Sqlite);

public sealed class FeedPropertyPostgresApp() : FeedPropertyApp(StorageProvider.Postgres);

/// <summary>One generated case: organizations, and operations on them run concurrently.</summary>
public sealed record FeedCase(int Organizations, (int Org, int Kind, int Pick)[] Operations, int Concurrency)
{
    public override string ToString() =>
        $"{Organizations} organizations, concurrency {Concurrency}: " + string.Join(" ", Operations.Select(o => $"{o.Org}:{"IRPSB"[o.Kind]}{o.Pick}"));
}

/// <summary>
/// The feed's property: membership changes made concurrently in many organizations leave every organization's sequence
/// gapless (1..n, one change per committed operation), each change starting where the one before it left its membership,
/// and a subscriber receives each organization's changes in exactly that order and exactly as committed (the body is the
/// feed's change, signed) — each at least once (a receiver that fails first tries gets retries; a replay sends them all
/// again), and deduplicating by webhook-id leaves exactly the feed.
/// </summary>
public abstract class FeedPropertyTests(FeedPropertyApp app, ITestOutputHelper output) : IAsyncLifetime
{
    private readonly Scenario _s = new(app);
    private WebhookReceiver _receiver = null!;
    private readonly ConcurrentDictionary<string, int> _tries = new();
    private readonly HttpClient _admin = app.ClientFor(RosterApp.NewUser("platform", admin: true));
    private string _subscription = "", _secret = "";

    public async Task InitializeAsync()
    {
        _receiver = await WebhookReceiver.StartAsync();
        // A third of the changes fail their first try: the line must wait for the retry, not skip ahead.
        _receiver.Answer = r => _tries.AddOrUpdate(r.Id!, 1, (_, n) => n + 1) == 1 && (r.Id!.GetHashCode(StringComparison.Ordinal) & 3) == 0
            ? (500, null, null) : (200, null, null);
        await app.SequenceAsync();
        var subscription = await (await _admin.PostJson("/api/admin/webhook-subscriptions", new { url = _receiver.Url() })).ShouldBe(HttpStatusCode.Created);
        (_subscription, _secret) = (subscription.Str("id"), subscription.Str("secret"));
    }

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    [Fact]
    public async Task ConcurrentChangesInManyOrganizationsKeepGaplessSequencesAndArriveInSequenceOrder()
    {
        var cases = from organizations in Gen.Choose(2, 5)
                    from n in Gen.Choose(8, 30)
                    from operations in Gen.ArrayOf(
                        from org in Gen.Choose(0, organizations - 1)
                        from kind in Gen.Choose(0, 4)
                        from pick in Gen.Choose(0, 1000)
                        select (org, kind, pick), n)
                    from concurrency in Gen.Choose(1, 8)
                    select new FeedCase(organizations, operations, concurrency);
        await PropertyRun.CheckAsync(nameof(ConcurrentChangesInManyOrganizationsKeepGaplessSequencesAndArriveInSequenceOrder),
            PropertyRun.Seed(20261201), maxTest: 6, Prop.ForAll(Arb.From(cases), RunAsync), output);
    }

    private async Task RunAsync(FeedCase c)
    {
        var orgs = new List<Org>();
        for (var i = 0; i < c.Organizations; i++) orgs.Add(await _s.NewOrg(plan: "company_leader"));
        var invited = orgs.Select(_ => new ConcurrentBag<Guid>()).ToArray();
        var committed = new int[c.Organizations]; // an upper bound of the changes each organization's operations made
        await Parallel.ForEachAsync(c.Operations, new ParallelOptions { MaxDegreeOfParallelism = c.Concurrency }, async (op, _) =>
        {
            var org = orgs[op.Org];
            var owner = _s.As(org.Owner);
            var existing = invited[op.Org].ToArray();
            HttpResponseMessage response;
            switch (op.Kind)
            {
                case 1 when existing.Length > 0: // a role change
                    response = await owner.PatchJson($"/api/organizations/{org.Id}/members/{existing[op.Pick % existing.Length]}", new { role = op.Pick % 2 == 0 ? "admin" : "billing" });
                    break;
                case 2 when existing.Length > 0: // a removal (a second one of the same row is a 404 and changes nothing)
                    response = await owner.DeleteAsync($"/api/organizations/{org.Id}/members/{existing[op.Pick % existing.Length]}");
                    break;
                case 3 when existing.Length > 0: // a seat-type change
                    response = await owner.PatchJson($"/api/organizations/{org.Id}/members/{existing[op.Pick % existing.Length]}", new { seatType = op.Pick % 2 == 0 ? "contributor" : "community_only" });
                    break;
                case 4 when existing.Length > 0: // both at once: two changes, the role's first
                    response = await owner.PatchJson($"/api/organizations/{org.Id}/members/{existing[op.Pick % existing.Length]}",
                        new { role = op.Pick % 3 == 0 ? "admin" : "billing", seatType = op.Pick % 2 == 0 ? "contributor" : "community_only" });
                    if (response.IsSuccessStatusCode) Interlocked.Increment(ref committed[op.Org]);
                    break;
                default:
                    var userId = await _s.UserIdOf(RosterApp.NewUser("p"));
                    response = await owner.PostJson($"/api/organizations/{org.Id}/members", new { userId, seatType = "community_only" });
                    if (response.StatusCode == HttpStatusCode.Created)
                        invited[op.Org].Add(Guid.Parse((await response.ShouldBe(HttpStatusCode.Created)).Str("id")));
                    break;
            }
            // A PATCH that changes nothing (same role) commits no change; every other 2xx commits one or two.
            if (!response.IsSuccessStatusCode && response.StatusCode is not (HttpStatusCode.NotFound or HttpStatusCode.Conflict))
                throw new Xunit.Sdk.XunitException($"{op}: unexpected {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            if (response.IsSuccessStatusCode) Interlocked.Increment(ref committed[op.Org]);
        });

        var feeds = new List<List<JsonNode>>();
        foreach (var (org, i) in orgs.Select((o, i) => (o, i)))
        {
            var feed = await FeedSupport.WalkAsync(_s.As(org.Owner), $"/api/organizations/{org.Id}/changes?limit=7");
            feeds.Add(feed);
            var sequences = feed.Select(f => f.Long("sequence")).ToList();
            Assert.Equal(Enumerable.Range(1, feed.Count).Select(x => (long)x), sequences);
            // Committed concurrently, each change still starts from the state the change before it left.
            foreach (var line in feed.Where(f => f["membershipId"] is not null).GroupBy(f => f.Str("membershipId")))
                foreach (var (before, after) in line.Zip(line.Skip(1)))
                    Assert.Equal(State(before["membership"]), State(after["previous"]));
            // Created, founded and plan changed; then at most one change per successful operation (a PATCH of role and
            // seat type at once is two, and counted twice; a PATCH that changes nothing commits none).
            Assert.InRange(feed.Count - 3, 0, committed[i]);
            var audited = await app.WithDbAsync(db => Task.FromResult(db.AuditEvents.Count(a => a.OrganizationId == org.Id)));
            Assert.Equal(feed.Count - 2, audited); // every change but organization.created and plan_changed is audited

            var ids = feed.Select(f => f.Str("id")).ToList();
            await _receiver.WaitUntilAsync(r => ids.All(id => r.Any(x => x.Id == id && x.Answered == 200)), seconds: 60,
                what: $"all {ids.Count} changes of organization {i}");
            var accepted = _receiver.Accepted.Where(r => r.Json.Str("organizationId") == org.Id.ToString()).ToList();
            Assert.Equal(ids, accepted.Select(r => r.Id!).Distinct());
            // Exactly as committed: the body is the feed's change, and it is Roster's (signed with the subscription's secret).
            // (Read again: delivered, every change has been placed; the first read may have caught one before its position.)
            feed = await FeedSupport.WalkAsync(_s.As(org.Owner), $"/api/organizations/{org.Id}/changes?limit=7");
            feeds[i] = feed;
            var byId = feed.ToDictionary(f => f.Str("id"));
            Assert.All(accepted, r => Assert.True(JsonNode.DeepEquals(byId[r.Id!], r.Json), $"{r.Id}: delivered {r.Body}, the feed has {byId[r.Id!].ToJsonString()}"));
            Assert.All(accepted, r => Assert.True(WebhookReceiver.Verifies(r, _secret), $"{r.Id} verifies"));
        }

        // At least once: a replay from the case's first change sends every one again, in order, with its webhook-id, so
        // a receiver deduplicating by webhook-id still sees each organization's feed exactly once, in order.
        var from = feeds.SelectMany(f => f).Min(f => f.Long("position"));
        var mark = _receiver.Received.Count;
        var replay = await (await _admin.PostJson($"/api/admin/webhook-subscriptions/{_subscription}/replay", new { fromPosition = from })).ShouldBe(HttpStatusCode.Accepted);
        Assert.True(replay["queued"]!.GetValue<int>() >= feeds.Sum(f => f.Count));
        foreach (var (org, feed) in orgs.Zip(feeds))
        {
            var ids = feed.Select(f => f.Str("id")).ToList();
            await _receiver.WaitUntilAsync(r => ids.All(id => r.Skip(mark).Any(x => x.Id == id && x.Answered == 200)), seconds: 60, what: "the replay");
            var replayed = _receiver.Received.Skip(mark).Where(r => r.Answered == 200 && r.Json.Str("organizationId") == org.Id.ToString()).ToList();
            Assert.Equal(ids, replayed.Select(r => r.Id!).Distinct());
            var all = _receiver.Accepted.Where(r => r.Json.Str("organizationId") == org.Id.ToString()).ToList();
            var seen = new HashSet<string>();
            Assert.Equal(ids, all.Where(r => seen.Add(r.Id!)).Select(r => r.Id!));
            Assert.All(all.GroupBy(r => r.Id!), g => Assert.Single(g.Select(r => r.Body).Distinct()));
        }
    }

    private static (string?, string?, string?) State(JsonNode? node) =>
        node is null ? default : (node["role"]?.GetValue<string>(), node["status"]?.GetValue<string>(), node["seatType"]?.GetValue<string>());
}

public sealed class FeedPropertyTestsOnSqlite(FeedPropertySqliteApp app, ITestOutputHelper output) : FeedPropertyTests(app, output), IClassFixture<FeedPropertySqliteApp>;

public sealed class FeedPropertyTestsOnPostgres(FeedPropertyPostgresApp app, ITestOutputHelper output) : FeedPropertyTests(app, output), IClassFixture<FeedPropertyPostgresApp>;
