using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Http;
using Roster.Infrastructure.Seats;
using Roster.Tests.Support;
using Roster.Infrastructure.Outbox;

namespace Roster.Tests.Reliability;

/// <summary>One signed organization_membership.created for a person Roster has never seen.</summary>
public sealed record StreamEvent(string Id, string Json, string WorkosOrganizationId, string WorkosMembershipId, string WorkosUserId);

/// <summary>What one delivery answered, and when (on the stream's stopwatch) it started and finished.</summary>
public sealed record DeliveryResult(StreamEvent Event, int Status, string? Code, string? Outcome, string? ContentType, TimeSpan Started,
    TimeSpan Finished, string Body)
{
    public bool Ok => Status == 200;
    public bool Unavailable => Status == 503 && Code == ErrorCodes.StorageUnavailable && ContentType == "application/problem+json";
    public TimeSpan Took => Finished - Started;
    public override string ToString() => $"{Event.Id}: {Status} {Code ?? Outcome} after {Took.TotalMilliseconds:F0} ms ({Body})";
}

/// <summary>
/// Two WorkOS organizations fed a stream of un-staged membership adds: a roomy one (unlimited community_only seats,
/// every add applies) and a tight one (the free plan: its few seats fill up, the rest are refused, recorded and
/// notified, and the 80%/100% seat warnings fire). Every applied add is a membership, every refusal a refusal row
/// plus an outbox row — all in the event's one transaction, which is what the fault tests try to tear apart.
/// </summary>
public sealed class WebhookStream
{
    public const string RoomyPlan = "company_leader";
    public const string TightPlan = "free";
    public const string SeatType = "community_only";
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(60);

    private WebhookStream(string roomy, string tight, Guid roomyId, Guid tightId, int tightLimit, IReadOnlyList<StreamEvent> events)
    {
        RoomyOrganization = roomy;
        TightOrganization = tight;
        RoomyOrganizationId = roomyId;
        TightOrganizationId = tightId;
        TightLimit = tightLimit;
        Events = events;
    }

    public string RoomyOrganization { get; }
    public string TightOrganization { get; }
    public Guid RoomyOrganizationId { get; }
    public Guid TightOrganizationId { get; }
    public int TightLimit { get; }
    public IReadOnlyList<StreamEvent> Events { get; }

    /// <summary>Creates both organizations through webhooks (and the roomy one's plan through the API) while storage is healthy.</summary>
    public static async Task<WebhookStream> PrepareAsync(RosterApp host, int roomyEvents, int tightOverflow)
    {
        var plans = host.Services.GetRequiredService<PlanCatalog>();
        Assert.Equal(PlanCatalog.Unlimited, plans.LimitFor(RoomyPlan, SeatType));
        var tightLimit = plans.LimitFor(TightPlan, SeatType);
        Assert.True(tightLimit >= 5, $"the {TightPlan} plan needs a few {SeatType} seats for the warnings to mean something");

        var workos = host.ClientFor(null);
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var roomy = WorkOs.NewId("org");
        var tight = WorkOs.NewId("org");
        Assert.Equal("applied", await workos.DeliverOk(WorkOs.Envelope("organization.created", WorkOs.Organization(roomy, $"Roomy {suffix}"))));
        Assert.Equal("applied", await workos.DeliverOk(WorkOs.Envelope("organization.created", WorkOs.Organization(tight, $"Tight {suffix}"))));
        var platform = host.ClientFor(RosterApp.NewUser("platform", admin: true));
        await (await platform.PutJson($"/api/organizations/{roomy}/plan", new { plan = RoomyPlan })).ShouldBe(HttpStatusCode.OK);
        await (await platform.PutJson($"/api/organizations/{tight}/plan", new { plan = TightPlan })).ShouldBe(HttpStatusCode.OK);
        var ids = await host.WithDbAsync(db => db.Organizations.AsNoTracking()
            .Where(o => o.WorkosOrganizationId == roomy || o.WorkosOrganizationId == tight)
            .ToDictionaryAsync(o => o.WorkosOrganizationId!, o => o.Id));

        var events = Enumerable.Range(0, roomyEvents).Select(_ => NewAdd(roomy))
            .Concat(Enumerable.Range(0, tightLimit + tightOverflow).Select(_ => NewAdd(tight)))
            .OrderBy(_ => Random.Shared.Next())
            .ToList();
        return new WebhookStream(roomy, tight, ids[roomy], ids[tight], tightLimit, events);
    }

    private static StreamEvent NewAdd(string organization)
    {
        var id = WorkOs.NextEventId();
        var om = WorkOs.NewId("om");
        var user = WorkOs.NewId("user");
        return new StreamEvent(id, WorkOs.Envelope("organization_membership.created", WorkOs.Membership(om, user, organization), id),
            organization, om, user);
    }

    /// <summary>
    /// Delivers every event once, <paramref name="workers"/> at a time, the way WorkOS fans deliveries out.
    /// <paramref name="completed"/> hears the running count of answers (the tests pull their fault on it);
    /// <paramref name="beforeSend"/> may hold an event (by index) back until something happened.
    /// </summary>
    public static async Task<IReadOnlyList<DeliveryResult>> DeliverAsync(RosterApp host, IReadOnlyList<StreamEvent> events, int workers,
        Stopwatch clock, Action<int>? completed = null, Func<int, Task>? beforeSend = null)
    {
        var results = new DeliveryResult[events.Count];
        var next = -1;
        var done = 0;
        await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
        {
            using var client = host.ClientFor(null);
            client.Timeout = RequestTimeout;
            for (int i; (i = Interlocked.Increment(ref next)) < events.Count;)
            {
                if (beforeSend is not null) await beforeSend(i);
                results[i] = await DeliverOnceAsync(client, events[i], clock);
                completed?.Invoke(Interlocked.Increment(ref done));
            }
        })));
        return results;
    }

    public static async Task<DeliveryResult> DeliverOnceAsync(HttpClient client, StreamEvent evt, Stopwatch clock)
    {
        var started = clock.Elapsed;
        try
        {
            using var response = await client.Deliver(evt.Json);
            var body = await response.Content.ReadAsStringAsync();
            string? code = null, outcome = null;
            try
            {
                var json = JsonNode.Parse(body);
                code = json?["code"]?.GetValue<string>();
                outcome = json?["outcome"]?.GetValue<string>();
            }
            catch (JsonException)
            {
            }
            return new DeliveryResult(evt, (int)response.StatusCode, code, outcome, response.Content.Headers.ContentType?.MediaType, started,
                clock.Elapsed, body);
        }
        catch (TaskCanceledException)
        {
            // Status 0: the delivery hung past the timeout, which the assertions treat as a failure.
            return new DeliveryResult(evt, 0, null, null, null, started, clock.Elapsed, $"no answer within {RequestTimeout}");
        }
    }

    /// <summary>
    /// WorkOS retrying: every event again (applied ones included, as a retry after a lost answer would), each until it
    /// gets a 200, at most <paramref name="tries"/> times. Returns the final answer of each, and every 503 on the way.
    /// </summary>
    public async Task<(IReadOnlyList<DeliveryResult> Final, IReadOnlyList<DeliveryResult> Refused)> RedeliverAsync(RosterApp host, int workers,
        int tries = 5)
    {
        var clock = Stopwatch.StartNew();
        var final = new DeliveryResult[Events.Count];
        var refused = new System.Collections.Concurrent.ConcurrentQueue<DeliveryResult>();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
        {
            using var client = host.ClientFor(null);
            client.Timeout = RequestTimeout;
            for (int i; (i = Interlocked.Increment(ref next)) < Events.Count;)
            {
                for (var attempt = 1; ; attempt++)
                {
                    var result = await DeliverOnceAsync(client, Events[i], clock);
                    if (result.Ok || attempt == tries || !result.Unavailable)
                    {
                        final[i] = result;
                        break;
                    }
                    refused.Enqueue(result);
                    await Task.Delay(200);
                }
            }
        })));
        return (final, refused.ToArray());
    }

    /// <summary>
    /// WorkOS retrying after the fault (<see cref="RedeliverAsync"/>): every answer on the way is a 200 or a 503, and every
    /// event ends with a 200. Returns the final answers and the 503s on the way.
    /// </summary>
    public async Task<(IReadOnlyList<DeliveryResult> Final, IReadOnlyList<DeliveryResult> Refused)> RedeliverUntilAcceptedAsync(
        RosterApp host, int workers, string phase, Xunit.Abstractions.ITestOutputHelper output)
    {
        var (redelivered, refusedOnTheWay) = await RedeliverAsync(host, workers);
        output.WriteLine($"{phase}: {Summary(redelivered)}; 503 on the way: {refusedOnTheWay.Count}");
        AssertOnly200Or503(redelivered.Concat(refusedOnTheWay), host, phase);
        Assert.All(redelivered, r => Assert.True(r.Ok, $"{phase}: {r}"));
        return (redelivered, refusedOnTheWay);
    }

    /// <summary>One line for the test output: how the answers went.</summary>
    public static string Summary(IEnumerable<DeliveryResult> results) =>
        string.Join(", ", results.GroupBy(r => r.Ok ? r.Outcome : $"{r.Status} {r.Code}").OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"{g.Key}: {g.Count()}"));

    /// <summary>Every answer is a 200 or a 503 storage_unavailable problem (never a 500), and none took long.</summary>
    public static void AssertOnly200Or503(IEnumerable<DeliveryResult> results, RosterApp host, string phase)
    {
        var bad = results.Where(r => !(r.Ok || r.Unavailable) || r.Took > TimeSpan.FromSeconds(30)).ToList();
        Assert.True(bad.Count == 0,
            $"{phase}: expected only 200 or 503 storage_unavailable, promptly; got:\n{string.Join("\n", bad.Take(10))}\n" +
            $"Host errors:\n{(host as ReliabilityHost)?.Errors()}");
        Assert.All(results.Where(r => r.Ok), r => Assert.Contains(r.Outcome, new[] { "applied", "refused", "duplicate" }));
    }

    /// <summary>
    /// After the fault and the re-deliveries: each event recorded exactly once; what was answered 200 before the fault
    /// survived it; memberships, refusals, outbox rows and seat warnings match the recorded outcomes one to one.
    /// </summary>
    public async Task AssertAppliedExactlyOnceAsync(RosterApp host, IReadOnlyList<DeliveryResult> stream, IReadOnlyList<DeliveryResult> redelivered)
    {
        var ids = Events.Select(e => e.Id).ToList();
        var recorded = await host.WithDbAsync(db => db.WebhookEvents.AsNoTracking().Where(e => ids.Contains(e.EventId))
            .Select(e => new { e.EventId, e.Outcome }).ToListAsync());
        Assert.Equal(ids.Count, recorded.Count);
        Assert.Equal(ids.Order(StringComparer.Ordinal), recorded.Select(r => r.EventId).Order(StringComparer.Ordinal));
        var outcomeOf = recorded.ToDictionary(r => r.EventId, r => r.Outcome);

        // Answered 200 during the stream ⇒ committed: the record is there with that outcome, and the retry is a duplicate.
        foreach (var ok in stream.Where(r => r.Ok))
        {
            Assert.Equal(ok.Outcome, outcomeOf[ok.Event.Id]);
            Assert.Equal("duplicate", redelivered.Single(r => r.Event.Id == ok.Event.Id).Outcome);
        }

        var roomy = Events.Where(e => e.WorkosOrganizationId == RoomyOrganization).ToList();
        var tight = Events.Where(e => e.WorkosOrganizationId == TightOrganization).ToList();
        Assert.All(roomy, e => Assert.Equal("applied", outcomeOf[e.Id]));
        var tightApplied = tight.Where(e => outcomeOf[e.Id] == "applied").ToList();
        var tightRefused = tight.Where(e => outcomeOf[e.Id] == "refused").ToList();
        Assert.Equal(TightLimit, tightApplied.Count);
        Assert.Equal(tight.Count - TightLimit, tightRefused.Count);
        var applied = roomy.Concat(tightApplied).ToList();

        await host.WithDbAsync(async db =>
        {
            var orgs = new[] { RoomyOrganizationId, TightOrganizationId };
            var memberships = await db.Memberships.AsNoTracking().Where(m => orgs.Contains(m.OrganizationId)).ToListAsync();
            // One membership per applied event, none for a refused one, none without its event.
            Assert.Equal(applied.Count, memberships.Count);
            Assert.Equal(applied.Select(e => e.WorkosMembershipId).Order(StringComparer.Ordinal),
                memberships.Select(m => m.WorkosMembershipId!).Order(StringComparer.Ordinal));
            foreach (var membership in memberships)
            {
                var evt = applied.Single(e => e.WorkosMembershipId == membership.WorkosMembershipId);
                Assert.Equal(evt.Id, membership.WorkosLastEventId);
                Assert.Equal(evt.WorkosUserId, membership.WorkosUserId);
                Assert.Equal(MembershipStatus.Active, membership.Status);
                Assert.Null(membership.DeletedAt);
                Assert.Equal(SeatType, membership.SeatType);
                Assert.Equal(evt.WorkosOrganizationId == RoomyOrganization ? RoomyOrganizationId : TightOrganizationId, membership.OrganizationId);
            }

            var refusals = await db.MembershipRefusals.AsNoTracking().Where(r => orgs.Contains(r.OrganizationId)).ToListAsync();
            Assert.Equal(tightRefused.Select(e => e.Id).Order(StringComparer.Ordinal), refusals.Select(r => r.EventId).Order(StringComparer.Ordinal));
            Assert.All(refusals, r => Assert.Equal(TightOrganizationId, r.OrganizationId));

            var outbox = (await db.NotificationOutbox.AsNoTracking().ToListAsync())
                .Select(r => (Row: r, Organization: JsonDocument.Parse(r.Payload).RootElement.GetProperty("organizationId").GetGuid()))
                .Where(x => orgs.Contains(x.Organization))
                .Select(x => x.Row)
                .ToList();
            var refusedRows = outbox.Where(r => r.Kind == NotificationKinds.MembershipRefused).ToList();
            Assert.Equal(tightRefused.Select(e => $"{NotificationKinds.MembershipRefused}:{e.Id}").Order(StringComparer.Ordinal),
                refusedRows.Select(r => r.DedupeKey).Order(StringComparer.Ordinal));
            Assert.All(refusedRows, r => Assert.Equal(TightOrganizationId, Outbox.Read<MembershipRefusedNotification>(r).OrganizationId));

            // The tight org crossed 80% and then 100% once each: two warnings, whatever was torn down and retried on the way.
            var warnings = outbox.Where(r => r.Kind == NotificationKinds.SeatWarning).Select(Outbox.Read<SeatWarningNotification>).ToList();
            Assert.Equal(new[] { SeatWarnings.WarnAt, SeatWarnings.FullAt }, warnings.Select(w => w.ThresholdPercent).Order());
            Assert.All(warnings, w => Assert.Equal(TightOrganizationId, w.OrganizationId));
            Assert.Equal(outbox.Count, refusedRows.Count + warnings.Count);
            var state = await db.SeatWarningStates.AsNoTracking().SingleAsync(s => s.OrganizationId == TightOrganizationId && s.SeatType == SeatType);
            Assert.Equal((SeatWarnings.FullAt, 2), (state.Level, state.Crossings));
            Assert.False(await db.SeatWarningStates.AnyAsync(s => s.OrganizationId == RoomyOrganizationId && s.Level > 0));
        });

        // And the service's own view of the tight organization agrees: full, not over.
        var seats = await (await host.ClientFor(RosterApp.NewUser("platform", admin: true)).GetAsync($"/api/organizations/{TightOrganization}/seats"))
            .ShouldBe(HttpStatusCode.OK);
        var community = seats["seatTypes"]!.AsArray().Single(t => t!["seatType"]!.GetValue<string>() == SeatType)!;
        Assert.Equal((TightLimit, 0, 0), (community["active"]!.GetValue<int>(), community["reserved"]!.GetValue<int>(), community["available"]!.GetValue<int>()));
    }
}
