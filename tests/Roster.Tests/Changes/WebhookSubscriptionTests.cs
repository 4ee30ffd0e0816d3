using System.Net;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Roster.Features.WebhookSubscriptions;
using Roster.Tests.Support;

namespace Roster.Tests.Changes;

/// <summary>Subscriptions over HTTP, and signed deliveries to a receiver on 127.0.0.1: in order, retried, replayed.</summary>
public abstract class WebhookSubscriptionTests(WebhookApp app) : IAsyncLifetime
{
    private readonly Scenario _s = new(app);
    private readonly HttpClient _admin = app.ClientFor(RosterApp.NewUser("platform", admin: true));
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await WebhookReceiver.StartAsync();

    public async Task DisposeAsync()
    {
        // Each test has its own receiver: the next test's changes are not sent to this one's subscriptions.
        await app.WithDbAsync(db => db.WebhookSubscriptions.ExecuteUpdateAsync(s => s.SetProperty(x => x.DeletedAt, DateTime.UtcNow)));
        await _receiver.DisposeAsync();
    }

    private async Task<(string Id, string Secret)> SubscribeAsync(Guid? organizationId, string[]? types = null, string path = "/hooks")
    {
        // What was committed before this subscription is not its business: placed (and fanned out) before it exists.
        await app.SequenceAsync();
        var body = await (await _admin.PostJson("/api/admin/webhook-subscriptions",
            new { url = _receiver.Url(path), types, organizationId = organizationId?.ToString() })).ShouldBe(HttpStatusCode.Created);
        return (body.Str("id"), body.Str("secret"));
    }

    private Task<List<JsonNode>> ChangesOf(Org org) => FeedSupport.WalkAsync(_s.As(org.Owner), $"/api/organizations/{org.Id}/changes");

    private Task<JsonArray> DeliveriesOf(string subscription) =>
        _admin.GetAsync($"/api/admin/webhook-subscriptions/{subscription}/deliveries?limit=500").ContinueWith(t => t.Result.ShouldBe(HttpStatusCode.OK)).Unwrap()
            .ContinueWith(t => t.Result.AsArray());

    [Fact]
    public async Task ASubscriptionIsMadeReadChangedRotatedAndDeletedAndItsSecretIsShownOnlyWhenMadeOrRotated()
    {
        var org = await _s.NewOrg();
        var created = await (await _admin.PostJson("/api/admin/webhook-subscriptions",
            new { url = _receiver.Url(), types = new[] { "membership.added" }, organizationId = org.Id.ToString(), description = "CRM" })).ShouldBe(HttpStatusCode.Created);
        var id = created.Str("id");
        Assert.StartsWith("whsec_", created.Str("secret"));
        Assert.Equal(32, Convert.FromBase64String(created.Str("secret")["whsec_".Length..]).Length);
        Assert.Equal(("active", org.Id.ToString(), "CRM"), (created.Str("status"), created.Str("organizationId"), created.Str("description")));

        var read = await (await _admin.GetAsync($"/api/admin/webhook-subscriptions/{id}")).ShouldBe(HttpStatusCode.OK);
        Assert.Null(read["secret"]);
        Assert.Equal(["membership.added"], read["types"]!.AsArray().Select(t => t!.GetValue<string>()));
        var listed = (await (await _admin.GetAsync("/api/admin/webhook-subscriptions")).ShouldBe(HttpStatusCode.OK)).AsArray();
        Assert.Contains(listed, s => s!.Str("id") == id && s!["secret"] is null);

        var changed = await (await _admin.PatchJson($"/api/admin/webhook-subscriptions/{id}", new { types = Array.Empty<string>(), description = "" })).ShouldBe(HttpStatusCode.OK);
        Assert.Empty(changed["types"]!.AsArray());
        Assert.Null(changed["description"]);
        Assert.Null(changed["secret"]);

        var rotated = await (await _admin.PatchJson($"/api/admin/webhook-subscriptions/{id}", new { rotateSecret = true, secretOverlapMinutes = 30 })).ShouldBe(HttpStatusCode.OK);
        Assert.StartsWith("whsec_", rotated.Str("secret"));
        Assert.NotEqual(created.Str("secret"), rotated.Str("secret"));
        Assert.True(rotated["previousSecretExpiresAt"]!.GetValue<DateTime>() > DateTime.UtcNow.AddMinutes(25));

        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync($"/api/admin/webhook-subscriptions/{id}")).StatusCode);
        await (await _admin.GetAsync($"/api/admin/webhook-subscriptions/{id}")).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.DeleteAsync($"/api/admin/webhook-subscriptions/{id}")).StatusCode);
    }

    [Fact]
    public async Task InDevelopmentHttpIsAcceptedOnlyToALoopbackHost()
    {
        await (await _admin.PostJson("/api/admin/webhook-subscriptions", new { url = "http://example.com/hooks" })).ShouldBeProblem(HttpStatusCode.BadRequest, "validation_failed");
        await (await _admin.PostJson("/api/admin/webhook-subscriptions", new { url = "http://localhost:9/hooks" })).ShouldBe(HttpStatusCode.Created);
        await (await _admin.PostJson("/api/admin/webhook-subscriptions", new { url = "https://example.com/hooks" })).ShouldBe(HttpStatusCode.Created);
    }

    [Fact]
    public async Task EveryChangeOfTheOrganizationArrivesSignedInSequenceOrderWithTheChangeIdAsWebhookId()
    {
        var org = await _s.NewOrg(plan: "company_leader");
        var (subscription, secret) = await SubscribeAsync(org.Id);
        var bob = RosterApp.NewUser("bob");
        var membership = await _s.Invite(org.Id, org.Owner, bob);
        await _s.Accept(bob, membership);
        await (await _s.As(org.Owner).PatchJson($"/api/organizations/{org.Id}/members/{membership}", new { role = "admin" })).ShouldBe(HttpStatusCode.OK);
        var other = await _s.NewOrg(); // not subscribed: never delivered

        var changes = await ChangesOf(org);
        var expected = changes.Where(c => c.Long("sequence") > 3).Select(c => c.Str("id")).ToList(); // those after the subscription
        await _receiver.WaitUntilAsync(r => r.Count(x => x.Answered == 200) >= expected.Count, what: $"{expected.Count} deliveries");

        var got = _receiver.Accepted;
        Assert.Equal(expected, got.Select(r => r.Id));
        Assert.All(got, r => Assert.True(WebhookReceiver.Verifies(r, secret), $"the signature of {r.Id} verifies with the subscription's secret"));
        Assert.All(got, r => Assert.Equal(r.Id, r.Json.Str("id")));
        Assert.All(got, r => Assert.InRange(long.Parse(r.Timestamp!), DateTimeOffset.UtcNow.AddMinutes(-2).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1));
        Assert.Equal(["membership.added", "membership.accepted", "membership.role_changed"], got.Select(r => r.Json.Str("type")));
        Assert.DoesNotContain(got, r => r.Json.Str("organizationId") == other.Id.ToString());
        // The receiver answered before the dispatcher recorded the answer: wait for the log to say so.
        var log = await DeliveriesOf(subscription);
        for (var i = 0; i < 100 && log.Any(d => d!.Str("status") != "sent"); i++)
        {
            await Task.Delay(50);
            log = await DeliveriesOf(subscription);
        }
        Assert.All(log, d => Assert.Equal(("sent", 200, 1), (d!.Str("status"), d!["responseCode"]!.GetValue<int>(), d!["attempts"]!.GetValue<int>())));
        Assert.All(log, d => Assert.NotNull(d!["latencyMs"]));
    }

    [Fact]
    public async Task ATypesFilterSendsOnlyThoseTypes()
    {
        var org = await _s.NewOrg(plan: "company_leader");
        var (subscription, _) = await SubscribeAsync(org.Id, ["membership.accepted"]);
        var bob = RosterApp.NewUser("bob");
        await _s.Accept(bob, await _s.Invite(org.Id, org.Owner, bob));
        await _receiver.WaitUntilAsync(r => r.Count > 0, what: "the acceptance");
        await app.SequenceAsync();
        await Task.Delay(300);
        Assert.Equal(["membership.accepted"], _receiver.Received.Select(r => r.Json.Str("type")));
        Assert.Single(await DeliveriesOf(subscription));
    }

    [Fact]
    public async Task AFailedDeliveryIsRetriedHonouringRetryAfterAndTheNextWaitsForIt()
    {
        var org = await _s.NewOrg(plan: "company_leader");
        var (subscription, _) = await SubscribeAsync(org.Id);
        var refusals = 0;
        _receiver.Answer = _ => Interlocked.Increment(ref refusals) <= 2 ? (503, "1", null) : (200, null, null);
        // A receiver slow to refuse: the second it asks for counts from its answer, not from when the request was sent.
        _receiver.Slowness = _ => Volatile.Read(ref refusals) <= 2 ? TimeSpan.FromMilliseconds(300) : TimeSpan.Zero;
        await _s.Invite(org.Id, org.Owner, RosterApp.NewUser("a"), seatType: "community_only");
        await _s.Invite(org.Id, org.Owner, RosterApp.NewUser("b"), seatType: "community_only");

        await _receiver.WaitUntilAsync(r => r.Count(x => x.Answered == 200) >= 2, what: "both changes");
        var calls = _receiver.Received;
        Assert.Equal([503, 503, 200, 200], calls.Select(c => c.Answered));
        Assert.Equal(calls[0].Id, calls[2].Id); // the first change until it succeeded, only then the second
        Assert.NotEqual(calls[2].Id, calls[3].Id);
        // Retry-After: 1 honoured, counted from the answer (less a microsecond: the dispatcher keeps times to the microsecond).
        for (var i = 1; i <= 2; i++)
            Assert.True(calls[i].At - calls[i - 1].AnsweredAt >= TimeSpan.FromSeconds(1) - TimeSpan.FromTicks(10),
                $"try {i + 1} came {(calls[i].At - calls[i - 1].AnsweredAt).TotalMilliseconds:F0} ms after the answer Retry-After: 1");
        var first = (await DeliveriesOf(subscription)).Single(d => d!.Str("changeId") == calls[0].Id)!;
        Assert.Equal(("sent", 3, 200), (first.Str("status"), first["attempts"]!.GetValue<int>(), first["responseCode"]!.GetValue<int>()));
    }

    [Fact]
    public async Task AReceiverDownForAWhileGetsEverythingInOrderWhenItIsBack()
    {
        var a = await _s.NewOrg(plan: "company_leader");
        var b = await _s.NewOrg(plan: "company_leader");
        await SubscribeAsync(null);
        var down = true;
        _receiver.Answer = _ => down ? (500, null, null) : (200, null, null);
        for (var i = 0; i < 3; i++)
        {
            await _s.Invite(a.Id, a.Owner, RosterApp.NewUser("a"), seatType: "community_only");
            await _s.Invite(b.Id, b.Owner, RosterApp.NewUser("b"), seatType: "community_only");
        }
        await _receiver.WaitUntilAsync(r => r.Count >= 2, what: "failed tries while down");
        await Task.Delay(1500);
        down = false;

        foreach (var org in new[] { a, b })
        {
            var expected = (await ChangesOf(org)).Where(c => c.Str("type") == "membership.added").Select(c => c.Str("id")).ToList();
            await _receiver.WaitUntilAsync(r => expected.All(id => r.Any(x => x.Id == id && x.Answered == 200)), what: "every change of the organization");
            // First successful delivery of each change, in arrival order: exactly the organization's sequence order.
            var arrived = _receiver.Accepted.Where(r => r.Json.Str("organizationId") == org.Id.ToString()).Select(r => r.Id!).Distinct().ToList();
            Assert.Equal(expected, arrived.Where(expected.Contains));
        }
    }

    [Fact]
    public async Task ADeliveryThatKeepsFailingIsGivenUpAfterTheBudgetAndTheLineMovesOn()
    {
        var org = await _s.NewOrg(plan: "company_leader");
        var (subscription, _) = await SubscribeAsync(org.Id);
        string? poisoned = null;
        _receiver.Answer = r => (poisoned ??= r.Id) == r.Id ? (500, null, null) : (200, null, null);
        await _s.Invite(org.Id, org.Owner, RosterApp.NewUser("a"), seatType: "community_only");
        await _s.Invite(org.Id, org.Owner, RosterApp.NewUser("b"), seatType: "community_only");

        await _receiver.WaitUntilAsync(r => r.Any(x => x.Answered == 200), seconds: 60, what: "the second change after the first was given up");
        var calls = _receiver.Received;
        Assert.Equal(WebhookApp.MaxAttempts, calls.Count(c => c.Id == poisoned));
        Assert.True(calls.Select((c, i) => (c, i)).Where(x => x.c.Id == poisoned).Max(x => x.i) < calls.ToList().FindIndex(c => c.Answered == 200));
        var given = (await DeliveriesOf(subscription)).Single(d => d!.Str("changeId") == poisoned)!;
        Assert.Equal(("failed", WebhookApp.MaxAttempts, 500), (given.Str("status"), given["attempts"]!.GetValue<int>(), given["responseCode"]!.GetValue<int>()));
        Assert.Contains("answered 500", given.Str("lastError"));
    }

    [Fact]
    public async Task ASubscriptionFailingForDisableAfterHoursIsDisabledWithAnOperatorNotificationAndResumesInOrderWhenReEnabled()
    {
        var org = await _s.NewOrg(plan: "company_leader");
        var (subscription, _) = await SubscribeAsync(org.Id);
        var down = true;
        _receiver.Answer = _ => down ? (500, null, null) : (200, null, null);
        await app.WithDbAsync(db => db.WebhookSubscriptions.Where(s => s.Id == Guid.Parse(subscription))
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.FailingSince, DateTime.UtcNow.AddHours(-73))));
        await _s.Invite(org.Id, org.Owner, RosterApp.NewUser("a"), seatType: "community_only");

        await _receiver.WaitUntilAsync(r => r.Count >= 1, what: "a failing try");
        var deadline = DateTime.UtcNow.AddSeconds(20);
        JsonNode read;
        do read = await (await _admin.GetAsync($"/api/admin/webhook-subscriptions/{subscription}")).ShouldBe(HttpStatusCode.OK);
        while (read.Str("status") != "disabled" && DateTime.UtcNow < deadline && await Task.Delay(50).ContinueWith(_ => true));
        Assert.Equal("disabled", read.Str("status"));
        Assert.Contains("72 hours", read.Str("disabledReason"));
        Assert.True(await app.WithDbAsync(db => db.NotificationOutbox.AnyAsync(r => r.Kind == WebhookDispatcher.DisabledNotificationKind && r.Payload.Contains(subscription))));

        await _s.Invite(org.Id, org.Owner, RosterApp.NewUser("b"), seatType: "community_only");
        await Task.Delay(500);
        var triedWhileDisabled = _receiver.Received.Count;
        await Task.Delay(500);
        Assert.Equal(triedWhileDisabled, _receiver.Received.Count); // nothing is sent while disabled

        down = false;
        await (await _admin.PatchJson($"/api/admin/webhook-subscriptions/{subscription}", new { enabled = true })).ShouldBe(HttpStatusCode.OK);
        var expected = (await ChangesOf(org)).Where(c => c.Str("type") == "membership.added").Select(c => c.Str("id")).ToList();
        await _receiver.WaitUntilAsync(r => expected.All(id => r.Any(x => x.Id == id && x.Answered == 200)), what: "both changes after re-enabling");
        Assert.Equal(expected, _receiver.Accepted.Select(r => r.Id).Distinct());
    }

    [Fact]
    public async Task AReplayResendsEveryRetainedChangeFromAPositionInOrderWithTheOriginalWebhookIds()
    {
        var org = await _s.NewOrg(plan: "company_leader");
        var (subscription, secret) = await SubscribeAsync(org.Id);
        for (var i = 0; i < 3; i++) await _s.Invite(org.Id, org.Owner, RosterApp.NewUser("r"), seatType: "community_only");
        await _receiver.WaitUntilAsync(r => r.Count(x => x.Answered == 200) >= 3, what: "the first deliveries");
        var firstRound = _receiver.Accepted.Select(r => r.Id).ToList();
        var positions = (await ChangesOf(org)).Where(c => firstRound.Contains(c.Str("id"))).Select(c => c.Long("position")).ToList();

        var replay = await (await _admin.PostJson($"/api/admin/webhook-subscriptions/{subscription}/replay", new { fromPosition = positions[1] })).ShouldBe(HttpStatusCode.Accepted);
        Assert.Equal(2, replay["queued"]!.GetValue<int>());
        await _receiver.WaitUntilAsync(r => r.Count(x => x.Answered == 200) >= 5, what: "the replayed deliveries");

        var replayed = _receiver.Accepted.Skip(3).ToList();
        Assert.Equal(firstRound.Skip(1), replayed.Select(r => r.Id));
        Assert.All(replayed, r => Assert.True(WebhookReceiver.Verifies(r, secret)));
        Assert.Equal(_receiver.Accepted[1].Body, replayed[0].Body);
        Assert.Equal(2, (await DeliveriesOf(subscription)).Count(d => d!["replay"]!.GetValue<bool>()));
    }

    [Fact]
    public async Task DuringARotationsOverlapBothTheOldAndTheNewSecretSign()
    {
        var org = await _s.NewOrg(plan: "company_leader");
        var (subscription, oldSecret) = await SubscribeAsync(org.Id);
        var rotated = await (await _admin.PatchJson($"/api/admin/webhook-subscriptions/{subscription}", new { rotateSecret = true })).ShouldBe(HttpStatusCode.OK);
        var newSecret = rotated.Str("secret");
        await _s.Invite(org.Id, org.Owner, RosterApp.NewUser("x"), seatType: "community_only");
        await _receiver.WaitUntilAsync(r => r.Count >= 1, what: "a delivery");
        var call = _receiver.Received[0];
        Assert.Equal(2, call.Signature!.Split(' ').Length);
        Assert.True(WebhookReceiver.Verifies(call, oldSecret));
        Assert.True(WebhookReceiver.Verifies(call, newSecret));

        await (await _admin.PatchJson($"/api/admin/webhook-subscriptions/{subscription}", new { rotateSecret = true, secretOverlapMinutes = 0 })).ShouldBe(HttpStatusCode.OK);
        var newest = (await (await _admin.GetAsync($"/api/admin/webhook-subscriptions/{subscription}")).ShouldBe(HttpStatusCode.OK));
        Assert.Null(newest["previousSecretExpiresAt"]);
    }

    [Fact]
    public async Task ARedirectIsNotFollowed()
    {
        var org = await _s.NewOrg(plan: "company_leader");
        var (subscription, _) = await SubscribeAsync(org.Id, path: "/moved");
        _receiver.Answer = r => r.Path == "/moved" ? (307, null, _receiver.Url("/elsewhere")) : (200, null, null);
        await _s.Invite(org.Id, org.Owner, RosterApp.NewUser("x"), seatType: "community_only");
        await _receiver.WaitUntilAsync(r => r.Count >= 1, what: "the delivery");
        await Task.Delay(300);
        Assert.DoesNotContain(_receiver.Received, r => r.Path == "/elsewhere");
        var log = await DeliveriesOf(subscription);
        Assert.Equal(307, log[0]!["responseCode"]!.GetValue<int>());
    }
}

public sealed class WebhookSubscriptionTestsOnSqlite(WebhookSqliteApp app) : WebhookSubscriptionTests(app), IClassFixture<WebhookSqliteApp>;

public sealed class WebhookSubscriptionTestsOnPostgres(WebhookPostgresApp app) : WebhookSubscriptionTests(app), IClassFixture<WebhookPostgresApp>;
