using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Memberships;
using Roster.Infrastructure.Seats;
using Roster.Migrations;
using Roster.Tests.Notifications;
using Roster.Tests.Support;
using Xunit.Abstractions;
using Roster.Infrastructure.Outbox;

namespace Roster.Tests.Reliability;

/// <summary>
/// Two Roster hosts on one database and one fake Slack, started together (both apply the migrations at once: they are
/// lock-protected and idempotent). The fixture owns the database; neither host drops it. Dispatchers are driven by
/// the test, on both hosts at once.
/// </summary>
public abstract class TwinHosts(StorageProvider provider) : IAsyncLifetime
{
    private StorageOptions _storage = null!;

    public FakeSlack Slack { get; private set; } = null!;
    public ReliabilityHost A { get; private set; } = null!;
    public ReliabilityHost B { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _storage = TestDatabases.Create(provider);
        // Each instance's pool sized as the README says for several instances on one server.
        var shared = provider == StorageProvider.Postgres ? PoolSizing.ForInstances(_storage, instances: 2) : _storage;
        Slack = SlackApp.StartSlack();
        var settings = new Dictionary<string, string?>
        {
            ["Slack:BotToken"] = FakeSlack.Token,
            ["Slack:BaseUrl"] = Slack.BaseUrl,
            ["Slack:SystemErrorsChannel"] = SlackApp.SystemErrorsChannel,
            ["Slack:InCallRetries"] = "2",
            ["Slack:InCallRetryDelay"] = "00:00:00.005",
            ["Links:UpgradeUrl"] = SlackApp.UpgradeUrl,
            ["Links:ManageTeamUrl"] = SlackApp.ManageTeamUrl,
            ["Notifications:DispatcherEnabled"] = "false",
            ["Notifications:BatchSize"] = "1",
        };
        A = new ReliabilityHost(shared, settings);
        B = new ReliabilityHost(shared, settings);
        await Task.WhenAll(Task.Run(A.StartAsync), Task.Run(B.StartAsync));
    }

    public async Task DisposeAsync()
    {
        A?.Dispose();
        B?.Dispose();
        if (Slack is not null) await Slack.DisposeAsync();
        if (_storage is not null) TestDatabases.Drop(_storage);
    }
}

public sealed class PostgresTwinHosts() : TwinHosts(StorageProvider.Postgres);

public sealed class SqliteTwinHosts() : TwinHosts(StorageProvider.Sqlite);

/// <summary>
/// Two instances: the same concurrent traffic — adds (some over the seat cap), accepts (and owners trying to accept for
/// the invitee), declines, join requests approved from both hosts at once, removals, role changes, owners demoting
/// each other and leaving, and every WorkOS webhook delivered to both hosts at once (un-staged adds over the cap
/// among them) — then the invariants, read from the database: no active owner_add without the invitee's accept;
/// seats used ≤ limit per organization and seat type; an organization keeps an active owner; no two live rows for
/// one (organization, user); every accepted webhook recorded once and applied once. Then both hosts' dispatchers
/// drain the outbox at once, and every notification reaches Slack exactly once.
/// PostgreSQL is where several instances run in production. SQLite is single-instance by design, but two processes
/// on one file do happen (a CLI <c>migrate</c> or <c>workos sync</c> next to the service) and SQLite's file locks must
/// keep the same invariants, so the same test runs there too.
/// </summary>
public abstract class TwoInstanceTests(TwinHosts twins, ITestOutputHelper output)
{
    private const int Organizations = 3;
    private const int InviteesPerOrg = 7;
    private const int CommunityInviteesPerOrg = 2;
    private const int JoinersPerOrg = 4;
    private const int WebhookAddsPerOrg = 12;
    private const int DispatchLoopsPerHost = 6;
    private const int MaxScenariosAtOnce = 24;

    private readonly ConcurrentQueue<string> _unexpected = new();
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..8];

    private sealed class TwinOrg(int index, string suffix)
    {
        public string WorkosId { get; } = WorkOs.NewId("org");
        public string Name { get; } = $"Twin {index} {suffix}";
        public bool OnSlack { get; } = index != Organizations - 1;
        public TestUser Owner1 { get; } = RosterApp.NewUser("owner1");
        public TestUser Owner2 { get; } = RosterApp.NewUser("owner2");
        public Guid Id { get; set; }
        public Guid Owner1Membership { get; set; }
        public Guid Owner2Membership { get; set; }

        /// <summary>Owner-added memberships whose invitee's own accept answered 200.</summary>
        public ConcurrentBag<Guid> AcceptedByInvitee { get; } = [];

        /// <summary>Adds and approvals the seat cap refused (409 seat_limit_reached).</summary>
        public int SeatLimitRefusals;

        /// <summary>Every webhook event sent, with what each host answered.</summary>
        public ConcurrentBag<(StreamEvent Event, string? OnA, string? OnB)> Webhooks { get; } = [];

        public TestUser Owner(int pick) => pick % 2 == 0 ? Owner1 : Owner2;
    }

    [Fact]
    public async Task TwoHostsOnOneDatabaseKeepEveryInvariantAndSendEachNotificationOnce()
    {
        var clock = Stopwatch.StartNew();
        // Both hosts migrated the one database at once; each version is recorded once and both are ready.
        var migrations = await twins.A.Services.GetRequiredService<MigrationRunner>().StatusAsync();
        Assert.All(migrations, m => Assert.NotNull(m.AppliedAt));
        foreach (var host in new[] { twins.A, twins.B })
        {
            await (await host.ClientFor(null).GetAsync("/health/ready")).ShouldBe(HttpStatusCode.OK);
            // Nothing to send yet: this only warms the dispatchers (and their connections) up, so that later all their
            // first claims reach the database together.
            var dispatcher = host.Services.GetRequiredService<OutboxDispatcher>();
            var idle = await Task.WhenAll(Enumerable.Range(0, DispatchLoopsPerHost).Select(_ => dispatcher.DispatchDueAsync(CancellationToken.None)));
            Assert.All(idle, n => Assert.Equal(0, n));
        }

        var orgs = Enumerable.Range(0, Organizations).Select(i => new TwinOrg(i, _suffix)).ToList();
        await Task.WhenAll(orgs.Select(SetUpAsync));
        AssertNothingUnexpected("setting up");
        output.WriteLine($"set up: {clock.ElapsedMilliseconds} ms");

        // The busy part: the scenarios of all organizations shuffled together and run side by side, each call to either
        // host, the contested ones to both. (At most MaxScenariosAtOnce at a time: plenty of contention per organization,
        // without every request of the test queueing on a few row locks and draining the connection pools.)
        var scenarios = orgs.SelectMany(org => Enumerable.Range(0, InviteesPerOrg).Select(i => (Func<Task>)(() => InviteeAsync(org, i, seatType: null)))
                .Concat(Enumerable.Range(0, CommunityInviteesPerOrg).Select(i => (Func<Task>)(() => InviteeAsync(org, i + InviteesPerOrg, WebhookStream.SeatType))))
                .Concat(Enumerable.Range(0, JoinersPerOrg).Select(i => (Func<Task>)(() => JoinerAsync(org, i))))
                .Concat(Enumerable.Range(0, WebhookAddsPerOrg).Select(_ => (Func<Task>)(() => WebhookAddAsync(org)))))
            .OrderBy(_ => Random.Shared.Next())
            .ToList();
        using (var slots = new SemaphoreSlim(MaxScenariosAtOnce))
        {
            await Task.WhenAll(scenarios.Select(async scenario =>
            {
                await slots.WaitAsync();
                try
                {
                    await scenario();
                }
                finally
                {
                    slots.Release();
                }
            }));
        }
        AssertNothingUnexpected("the concurrent traffic");
        output.WriteLine($"traffic: {clock.ElapsedMilliseconds} ms");

        // The owners turn on each other from both hosts while WorkOS re-delivers everything to both.
        await Task.WhenAll(orgs.Select(OwnerFightAsync).Concat(orgs.Select(RedeliverAllAsync)));
        AssertNothingUnexpected("the owners' fight and the re-deliveries");
        output.WriteLine($"fight: {clock.ElapsedMilliseconds} ms");

        foreach (var org in orgs) await AssertInvariantsAsync(org);
        await AssertSeatAuditCleanAsync(orgs);

        var rows = await twins.A.WithDbAsync(db => db.NotificationOutbox.AsNoTracking().ToListAsync());
        Assert.Contains(rows, r => r.Kind == NotificationKinds.MembershipRefused);
        Assert.All(rows, r => Assert.Contains(r.Kind, new[] { NotificationKinds.MembershipRefused, NotificationKinds.SeatWarning }));
        var claimed = await DrainOutboxWithBothHostsAsync();
        output.WriteLine($"outbox: {rows.Count} rows, claimed by A: {claimed.A}, by B: {claimed.B}; {clock.ElapsedMilliseconds} ms");
        await AssertEachNotificationPostedOnceAsync(rows, claimed);
    }

    // --- traffic ----------------------------------------------------------------------------------------------------

    private ReliabilityHost Pick() => Random.Shared.Next(2) == 0 ? twins.A : twins.B;

    private static Task<HttpResponseMessage> Get(ReliabilityHost host, TestUser user, string url) => host.ClientFor(user).GetAsync(url);

    private async Task<HttpResponseMessage> Expect(Task<HttpResponseMessage> call, string what, params HttpStatusCode[] allowed)
    {
        var response = await call;
        if (!allowed.Contains(response.StatusCode))
            _unexpected.Enqueue($"{what}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return response;
    }

    /// <summary>
    /// A starting line for calls that must collide. Awaited, not waited on: blocking thread-pool threads on a 2-core
    /// machine would start the calls one after the other.
    /// </summary>
    private static TaskCompletionSource Gate() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The same call on both hosts at the same moment.</summary>
    private static async Task<(HttpResponseMessage A, HttpResponseMessage B)> OnBoth(TwinHosts twins, Func<ReliabilityHost, Task<HttpResponseMessage>> call)
    {
        var start = Gate();
        var a = Task.Run(async () => { await start.Task; return await call(twins.A); });
        var b = Task.Run(async () => { await start.Task; return await call(twins.B); });
        start.SetResult();
        return (await a, await b);
    }

    private void AssertNothingUnexpected(string phase) =>
        Assert.True(_unexpected.IsEmpty, $"Unexpected answers during {phase}:\n{string.Join("\n", _unexpected.Take(10))}\n" +
                                         $"Host A errors:\n{twins.A.Errors()}\nHost B errors:\n{twins.B.Errors()}");

    private async Task SignInAsync(TestUser user) =>
        await Expect(Get(Pick(), user, "/api/membership-requests/mine"), $"sign-in of {user.Sub}", HttpStatusCode.OK);

    private static async Task<string?> OutcomeAsync(HttpResponseMessage response) =>
        response.StatusCode == HttpStatusCode.OK ? (await response.Content.ReadFromJsonAsync<WebhookAnswerView>())?.Outcome : null;

    private static async Task CountSeatLimitAsync(TwinOrg org, params HttpResponseMessage[] responses)
    {
        foreach (var response in responses)
            if (response.StatusCode == HttpStatusCode.Conflict && (await response.Content.ReadAsStringAsync()).Contains("\"seat_limit_reached\"", StringComparison.Ordinal))
                Interlocked.Increment(ref org.SeatLimitRefusals);
    }

    private sealed record WebhookAnswerView(string Outcome);

    /// <summary>A WorkOS event delivered to both hosts at once: both answer 200, exactly one applies it.</summary>
    private async Task<(string? OnA, string? OnB)> DeliverToBothAsync(StreamEvent evt, string what)
    {
        var (a, b) = await OnBoth(twins, host => host.ClientFor(null).Deliver(evt.Json));
        await Expect(Task.FromResult(a), $"{what} on A", HttpStatusCode.OK);
        await Expect(Task.FromResult(b), $"{what} on B", HttpStatusCode.OK);
        var (onA, onB) = (await OutcomeAsync(a), await OutcomeAsync(b));
        if ((onA == "duplicate") == (onB == "duplicate"))
            _unexpected.Enqueue($"{what} {evt.Id}: expected exactly one host to apply it, got {onA} on A and {onB} on B");
        return (onA, onB);
    }

    private static StreamEvent MembershipEvent(TwinOrg org, string workosUserId, string role)
    {
        var id = WorkOs.NextEventId();
        var om = WorkOs.NewId("om");
        return new StreamEvent(id, WorkOs.Envelope("organization_membership.created",
            WorkOs.Membership(om, workosUserId, org.WorkosId, role: role, orgName: org.Name), id), org.WorkosId, om, workosUserId);
    }

    /// <summary>
    /// The organization and its first owner come from WorkOS — the membership and organization.created racing each
    /// other on both hosts — and the first owner adds a second one, who accepts.
    /// </summary>
    private async Task SetUpAsync(TwinOrg org)
    {
        await SignInAsync(org.Owner1);
        await SignInAsync(org.Owner2);
        if (org.OnSlack)
        {
            twins.Slack.Map(org.Owner1.Email);
            twins.Slack.Map(org.Owner2.Email);
        }
        var ownerEvent = MembershipEvent(org, org.Owner1.Sub, Roles.Owner);
        var orgId = WorkOs.NextEventId();
        var orgEvent = new StreamEvent(orgId, WorkOs.Envelope("organization.created", WorkOs.Organization(org.WorkosId, org.Name), orgId),
            org.WorkosId, "", "");
        var delivered = await Task.WhenAll(DeliverToBothAsync(ownerEvent, "the first owner's membership"), DeliverToBothAsync(orgEvent, "organization.created"));
        org.Webhooks.Add((ownerEvent, delivered[0].OnA, delivered[0].OnB));
        AssertNothingUnexpected($"the set-up of {org.Name}");

        (org.Id, org.Owner1Membership) = await twins.A.WithDbAsync(async db =>
        {
            var organization = await db.Organizations.AsNoTracking().SingleAsync(o => o.WorkosOrganizationId == org.WorkosId);
            var owner = await db.Memberships.AsNoTracking().SingleAsync(m => m.OrganizationId == organization.Id && m.WorkosUserId == org.Owner1.Sub);
            return (organization.Id, owner.Id);
        });
        Assert.Equal(org.Name, (await twins.B.WithDbAsync(db => db.Organizations.AsNoTracking().SingleAsync(o => o.Id == org.Id))).Name);

        var owner2Id = await twins.B.WithDbAsync(db => db.Users.Where(u => u.WorkosUserId == org.Owner2.Sub).Select(u => u.Id).SingleAsync());
        var added = await (await Pick().ClientFor(org.Owner1).PostJson($"/api/organizations/{org.WorkosId}/members", new { userId = owner2Id, role = Roles.Owner }))
            .ShouldBe(HttpStatusCode.Created);
        org.Owner2Membership = Guid.Parse(added.Str("id"));
        await (await Pick().ClientFor(org.Owner2).PutJson($"/api/membership-requests/{org.Owner2Membership}/accept")).ShouldBe(HttpStatusCode.OK);
        org.AcceptedByInvitee.Add(org.Owner2Membership);
    }

    /// <summary>
    /// An owner adds someone from both hosts at once (one add at most; the cap may refuse both); while the invitee
    /// answers, an owner tries to accept for them. Most accept, some decline; one accepted member is then removed from
    /// both hosts at once, another has their role changed from both hosts at once.
    /// </summary>
    private async Task InviteeAsync(TwinOrg org, int index, string? seatType)
    {
        var invitee = RosterApp.NewUser($"invitee{index}");
        await SignInAsync(invitee);
        var userId = await twins.A.WithDbAsync(db => db.Users.Where(u => u.WorkosUserId == invitee.Sub).Select(u => u.Id).SingleAsync());

        var owner = org.Owner(index);
        var (a, b) = await OnBoth(twins, host => host.ClientFor(owner).PostJson($"/api/organizations/{org.Id}/members", new { userId, seatType }));
        await Expect(Task.FromResult(a), "add on A", HttpStatusCode.Created, HttpStatusCode.Conflict);
        await Expect(Task.FromResult(b), "add on B", HttpStatusCode.Created, HttpStatusCode.Conflict);
        await CountSeatLimitAsync(org, a, b);
        var created = new[] { a, b }.Where(r => r.StatusCode == HttpStatusCode.Created).ToList();
        if (created.Count > 1) _unexpected.Enqueue($"add of {invitee.Sub}: both hosts created a membership");
        if (created.Count != 1) return;
        var membershipId = Guid.Parse((await created[0].ShouldBe(HttpStatusCode.Created)).Str("id"));

        var declines = index % 4 == 3;
        var answer = declines
            ? Expect(Pick().ClientFor(invitee).DeleteAsync($"/api/membership-requests/{membershipId}"), "decline", HttpStatusCode.NoContent)
            : Expect(Pick().ClientFor(invitee).PutJson($"/api/membership-requests/{membershipId}/accept"), "accept", HttpStatusCode.OK);
        // Consent: nobody but the invitee can accept, whichever host they ask.
        var impostor = Expect(Pick().ClientFor(owner).PutJson($"/api/membership-requests/{membershipId}/accept"), "an owner accepting for the invitee",
            HttpStatusCode.NotFound);
        var answered = await answer;
        await impostor;
        if (declines || answered.StatusCode != HttpStatusCode.OK) return;
        org.AcceptedByInvitee.Add(membershipId);

        if (index == 0)
        {
            var (removedA, removedB) = await OnBoth(twins, host => host.ClientFor(org.Owner(index + 1)).DeleteAsync($"/api/organizations/{org.Id}/members/{membershipId}"));
            await Expect(Task.FromResult(removedA), "remove on A", HttpStatusCode.NoContent, HttpStatusCode.NotFound);
            await Expect(Task.FromResult(removedB), "remove on B", HttpStatusCode.NoContent, HttpStatusCode.NotFound);
            if (removedA.StatusCode == removedB.StatusCode) _unexpected.Enqueue($"remove of {membershipId}: {removedA.StatusCode} on both hosts");
        }
        else if (index == 1)
        {
            var (promoted, demoted) = await OnBoth(twins, host => host.ClientFor(host == twins.A ? org.Owner1 : org.Owner2)
                .PatchJson($"/api/organizations/{org.Id}/members/{membershipId}", new { role = host == twins.A ? Roles.Admin : Roles.Member }));
            await Expect(Task.FromResult(promoted), "role change on A", HttpStatusCode.OK);
            await Expect(Task.FromResult(demoted), "role change on B", HttpStatusCode.OK);
        }
    }

    /// <summary>Someone asks to join; both owners approve at once, on different hosts: one approval at most.</summary>
    private async Task JoinerAsync(TwinOrg org, int index)
    {
        var joiner = RosterApp.NewUser($"joiner{index}");
        var requested = await Expect(Pick().ClientFor(joiner).PostAsync($"/api/organizations/{org.Id}/requests", null), "join request", HttpStatusCode.Created);
        if (requested.StatusCode != HttpStatusCode.Created) return;
        var requestId = Guid.Parse((await requested.ShouldBe(HttpStatusCode.Created)).Str("id"));

        var (a, b) = await OnBoth(twins, host => host.ClientFor(host == twins.A ? org.Owner1 : org.Owner2)
            .PutJson($"/api/organizations/{org.Id}/requests/{requestId}/approve"));
        await Expect(Task.FromResult(a), "approve on A", HttpStatusCode.OK, HttpStatusCode.NotFound, HttpStatusCode.Conflict);
        await Expect(Task.FromResult(b), "approve on B", HttpStatusCode.OK, HttpStatusCode.NotFound, HttpStatusCode.Conflict);
        await CountSeatLimitAsync(org, a, b);
        if (a.StatusCode == HttpStatusCode.OK && b.StatusCode == HttpStatusCode.OK)
            _unexpected.Enqueue($"join request {requestId} approved on both hosts");
    }

    /// <summary>An un-staged add made in WorkOS (with a role slug Roster has never seen), delivered to both hosts at once.</summary>
    private async Task WebhookAddAsync(TwinOrg org)
    {
        var evt = MembershipEvent(org, WorkOs.NewId("user"), $"contractor-{_suffix}");
        var (onA, onB) = await DeliverToBothAsync(evt, "un-staged add");
        org.Webhooks.Add((evt, onA, onB));
    }

    /// <summary>Both owners demote each other and try to leave, each on another host, all at once.</summary>
    private async Task OwnerFightAsync(TwinOrg org)
    {
        HttpStatusCode[] allowed = [HttpStatusCode.OK, HttpStatusCode.NoContent, HttpStatusCode.Forbidden, HttpStatusCode.NotFound, HttpStatusCode.Conflict];
        var start = Gate();
        Task<HttpResponseMessage> At(ReliabilityHost host, Func<HttpClient, Task<HttpResponseMessage>> call, TestUser user, string what) =>
            Task.Run(async () =>
            {
                await start.Task;
                return await Expect(call(host.ClientFor(user)), what, allowed);
            });
        var fight = new[]
        {
            At(twins.A, c => c.PatchJson($"/api/organizations/{org.Id}/members/{org.Owner2Membership}", new { role = Roles.Member }), org.Owner1, "owner 1 demotes owner 2"),
            At(twins.B, c => c.PatchJson($"/api/organizations/{org.Id}/members/{org.Owner1Membership}", new { role = Roles.Member }), org.Owner2, "owner 2 demotes owner 1"),
            At(twins.B, c => c.PostAsync($"/api/organizations/{org.Id}/leave", null), org.Owner1, "owner 1 leaves"),
            At(twins.A, c => c.PostAsync($"/api/organizations/{org.Id}/leave", null), org.Owner2, "owner 2 leaves"),
        };
        start.SetResult();
        await Task.WhenAll(fight);
    }

    /// <summary>WorkOS re-delivers every event of the organization to both hosts: nothing applies twice.</summary>
    private async Task RedeliverAllAsync(TwinOrg org) =>
        await Task.WhenAll(org.Webhooks.Select(async w =>
        {
            var (a, b) = await OnBoth(twins, host => host.ClientFor(null).Deliver(w.Event.Json));
            foreach (var (response, name) in new[] { (a, "A"), (b, "B") })
            {
                await Expect(Task.FromResult(response), $"re-delivery on {name}", HttpStatusCode.OK);
                if (await OutcomeAsync(response) is { } outcome && outcome != "duplicate")
                    _unexpected.Enqueue($"re-delivery of {w.Event.Id} on {name}: {outcome}");
            }
        }));

    // --- invariants -------------------------------------------------------------------------------------------------

    private async Task AssertInvariantsAsync(TwinOrg org)
    {
        var plans = twins.A.Services.GetRequiredService<PlanCatalog>();
        await twins.A.WithDbAsync(async db =>
        {
            var organization = await db.Organizations.AsNoTracking().SingleAsync(o => o.Id == org.Id);
            var rows = await db.Memberships.AsNoTracking().Where(m => m.OrganizationId == org.Id).ToListAsync();
            var live = rows.Where(m => m.DeletedAt == null).ToList();

            // Consent: an owner_add is active only if its invitee accepted it — and every accepted one was.
            var activeOwnerAdds = rows.Where(m => m.Source == MembershipSource.OwnerAdd && m.Status == MembershipStatus.Active).ToList();
            Assert.Equal(org.AcceptedByInvitee.Order(), activeOwnerAdds.Select(m => m.Id).Order());
            foreach (var membership in activeOwnerAdds)
                Assert.True(await db.AuditEvents.AnyAsync(e => e.MembershipId == membership.Id && e.Action == AuditActions.Accepted
                                                                && e.ActorUserId == membership.UserId && e.SubjectUserId == membership.UserId),
                    $"membership {membership.Id} is active without its invitee's accept in the audit");

            // Seats: active + pending owner_add + unexpired reservations ≤ limit, per seat type.
            var now = DateTime.UtcNow;
            var reservations = await db.SeatReservations.AsNoTracking()
                .Where(r => r.OrganizationId == org.Id && r.ExpiresAt > now && r.Source != SeatReservationSources.Outbound).ToListAsync();
            foreach (var seatType in plans.SeatTypes)
            {
                var used = live.Count(m => m.SeatType == seatType
                                           && (m.Status == MembershipStatus.Active || (m.Status == MembershipStatus.Pending && m.Source == MembershipSource.OwnerAdd)))
                           + reservations.Count(r => r.SeatType == seatType);
                var limit = plans.LimitFor(organization.Plan, seatType);
                Assert.True(limit == PlanCatalog.Unlimited || used <= limit, $"{org.Name}: {used} {seatType} seats used of {limit}");
            }
            // The caps were reached on the way (the API refused adds, WorkOS adds were refused), so the check above was under pressure.
            Assert.True(org.SeatLimitRefusals > 0, $"{org.Name}: no add or approval ever hit the seat limit");

            // An organization that had an active owner keeps one.
            Assert.True(live.Count(m => m.Status == MembershipStatus.Active && m.Role == Roles.Owner) >= 1, $"{org.Name} has no active owner left");

            // One live row per person.
            Assert.All(live.Where(m => m.UserId != null).GroupBy(m => m.UserId), g => Assert.Single(g));
            Assert.All(live.Where(m => m.WorkosUserId != null).GroupBy(m => m.WorkosUserId), g => Assert.Single(g));

            // Every accepted webhook recorded once, with the outcome the applying host answered, and applied once.
            var refusals = await db.MembershipRefusals.AsNoTracking().Where(r => r.OrganizationId == org.Id).ToListAsync();
            var outbox = await db.NotificationOutbox.AsNoTracking().Where(r => r.Kind == NotificationKinds.MembershipRefused).ToListAsync();
            foreach (var (evt, onA, onB) in org.Webhooks)
            {
                var outcome = onA == "duplicate" ? onB : onA;
                var recorded = await db.WebhookEvents.AsNoTracking().Where(e => e.EventId == evt.Id).ToListAsync();
                Assert.Equal(outcome, Assert.Single(recorded).Outcome);
                var mirrored = rows.Where(m => m.WorkosMembershipId == evt.WorkosMembershipId).ToList();
                var refused = refusals.Where(r => r.EventId == evt.Id).ToList();
                var notified = outbox.Where(r => r.DedupeKey == $"{NotificationKinds.MembershipRefused}:{evt.Id}").ToList();
                switch (outcome)
                {
                    case "applied":
                        Assert.Equal(MembershipStatus.Active, Assert.Single(mirrored).Status);
                        Assert.Empty(refused);
                        Assert.Empty(notified);
                        break;
                    case "refused":
                        Assert.Empty(mirrored);
                        Assert.Single(refused);
                        Assert.Single(notified);
                        break;
                    default:
                        Assert.Fail($"{evt.Id}: unexpected outcome {outcome}");
                        break;
                }
            }
            Assert.Equal(org.Webhooks.Count(w => (w.OnA == "duplicate" ? w.OnB : w.OnA) == "refused"), refusals.Count);
            Assert.Contains(org.Webhooks, w => (w.OnA == "duplicate" ? w.OnB : w.OnA) == "refused");
        });
    }

    private async Task AssertSeatAuditCleanAsync(IReadOnlyList<TwinOrg> orgs)
    {
        var audit = await (await twins.B.ClientFor(RosterApp.NewUser("platform", admin: true)).GetAsync("/api/admin/seat-audit")).ShouldBe(HttpStatusCode.OK);
        foreach (var org in orgs) Assert.DoesNotContain(org.Id.ToString(), audit.ToJsonString(), StringComparison.OrdinalIgnoreCase);
    }

    // --- notifications ----------------------------------------------------------------------------------------------

    /// <summary>
    /// Both hosts' dispatchers claim and send at once until nothing is left to send: a few loops per host (as if each
    /// host's background loop overlapped a manual run), all starting together so that their first claims collide.
    /// </summary>
    private async Task<(int A, int B)> DrainOutboxWithBothHostsAsync()
    {
        twins.Slack.Latency = TimeSpan.FromMilliseconds(1);
        try
        {
            var start = Gate();
            var deadline = Stopwatch.StartNew();
            Task<int> Loop(ReliabilityHost host) => Task.Run(async () =>
            {
                await start.Task;
                var dispatcher = host.Services.GetRequiredService<OutboxDispatcher>();
                var total = 0;
                while (deadline.Elapsed < TimeSpan.FromSeconds(60))
                {
                    var claimed = await dispatcher.DispatchDueAsync(CancellationToken.None);
                    total += claimed;
                    if (claimed > 0) continue;
                    // Nothing due for this one: done when the other has nothing in hand either.
                    if (!await host.WithDbAsync(db => db.NotificationOutbox.AnyAsync(r => r.SentAt == null && r.FailedAt == null))) break;
                    await Task.Delay(20);
                }
                return total;
            });
            var a = Enumerable.Range(0, DispatchLoopsPerHost).Select(_ => Loop(twins.A)).ToList();
            var b = Enumerable.Range(0, DispatchLoopsPerHost).Select(_ => Loop(twins.B)).ToList();
            start.SetResult();
            return ((await Task.WhenAll(a)).Sum(), (await Task.WhenAll(b)).Sum());
        }
        finally
        {
            twins.Slack.Latency = TimeSpan.Zero;
        }
    }

    private async Task AssertEachNotificationPostedOnceAsync(IReadOnlyList<NotificationOutboxRow> rows, (int A, int B) claimed)
    {
        Assert.True(claimed.A > 0 && claimed.B > 0, $"both dispatchers should have had work (A {claimed.A}, B {claimed.B})");
        Assert.Equal(rows.Count, claimed.A + claimed.B); // no row was claimed twice
        var after = await twins.A.WithDbAsync(db => db.NotificationOutbox.AsNoTracking().ToListAsync());
        Assert.Equal(rows.Select(r => r.Id).Order(), after.Select(r => r.Id).Order());
        Assert.All(after, r =>
        {
            Assert.True(r.SentAt is not null && r.FailedAt is null, $"row {r.Id} ({r.Kind}): sent {r.SentAt}, failed {r.FailedAt}: {r.LastError}");
            Assert.Equal(1, r.Attempts);
        });

        // Each row's message names what only it is about; rows alike (a warning re-armed and crossed again) count together.
        var posts = twins.Slack.Posted.Select(p => p.Arg("text") ?? "").ToList();
        Assert.Equal(rows.Count, posts.Count);
        foreach (var group in rows.GroupBy(Signature))
        {
            var sent = posts.Count(text => text.Contains(group.Key, StringComparison.Ordinal));
            Assert.True(sent == group.Count(), $"'{group.Key}': {group.Count()} notification row(s), {sent} Slack message(s)");
        }
        Assert.DoesNotContain(twins.Slack.CallsTo("chat.postMessage"), c => !c.Succeeded);
    }

    private static string Signature(NotificationOutboxRow row)
    {
        if (row.Kind == NotificationKinds.MembershipRefused) return Outbox.Read<MembershipRefusedNotification>(row).WorkosUserId;
        var warning = Outbox.Read<SeatWarningNotification>(row);
        return warning.Limit >= 0 && warning.Used >= warning.Limit
            ? $"{warning.OrganizationName} has no {warning.SeatType} seats left"
            : $"{warning.OrganizationName} has used {warning.ThresholdPercent}% of its {warning.SeatType} seats";
    }
}

public sealed class TwoInstanceTestsOnPostgres(PostgresTwinHosts twins, ITestOutputHelper output)
    : TwoInstanceTests(twins, output), IClassFixture<PostgresTwinHosts>;

public sealed class TwoInstanceTestsOnSqlite(SqliteTwinHosts twins, ITestOutputHelper output)
    : TwoInstanceTests(twins, output), IClassFixture<SqliteTwinHosts>;
