using System.Net;
using System.Net.Http.Headers;
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

/// <summary>Events built from the SDK's fixtures (tests/contracts/workos/event-fixtures.mjs) and what applying them must leave.</summary>
public static class SdkFixtureEvents
{
    public sealed record Fixture(string Type, string File, string SdkType, string[] Overrides, string Json);

    public static async Task<(string Run, IReadOnlyList<Fixture> Events)> BuildAsync()
    {
        var run = Guid.NewGuid().ToString("N")[..10];
        var result = (await NodeContract.RunAsync("workos/event-fixtures.mjs", new Dictionary<string, string> { ["RUN"] = run })).EnsureSuccess();
        var events = JsonNode.Parse(result.Stdout)!.AsArray().Select(n => n!).Select(e => new Fixture(e.Str("type"), e["builtFrom"]!.Str("file"), e["builtFrom"]!.Str("sdkType"),
            [.. e["overrides"]!.AsArray().Select(o => o!.GetValue<string>())], e.Str("json"))).ToList();
        // Every event type Roster handles, each naming the fixture and SDK type it was built from.
        Assert.Equal(EventSync.OrganizationEventTypes.Concat(EventSync.EnvironmentEventTypes).Concat(EventSync.UserEventTypes).Order(StringComparer.Ordinal),
            events.Select(e => e.Type).Distinct().Order(StringComparer.Ordinal));
        Assert.All(events, e => Assert.True(e.File.EndsWith(".json", StringComparison.Ordinal) && e.SdkType.EndsWith("Response", StringComparison.Ordinal)));
        return (run, events);
    }

    /// <summary>The state the scenario leaves, whichever path (webhook or Events API) carried it.</summary>
    public static async Task AssertAppliedAsync(RosterApp app, string run, IEnumerable<Fixture> events)
    {
        var ids = events.Select(e => JsonNode.Parse(e.Json)!.Str("id")).ToList();
        var outcomes = await app.WithDbAsync(db => db.WebhookEvents.Where(e => ids.Contains(e.EventId)).Select(e => e.Outcome).ToListAsync());
        Assert.Equal(ids.Count, outcomes.Count);
        Assert.DoesNotContain(WebhookOutcomes.Refused, outcomes);

        await app.WithDbAsync(async db =>
        {
            var orgA = await db.Organizations.SingleAsync(o => o.WorkosOrganizationId == $"org_{run}A");
            Assert.Equal(($"Test Organization 3 {run}", (DateTime?)null), (orgA.Name, orgA.DeletedAt));
            Assert.NotNull((await db.Organizations.SingleAsync(o => o.WorkosOrganizationId == $"org_{run}B")).DeletedAt);
            var userU = await db.Users.SingleAsync(u => u.WorkosUserId == $"user_{run}U");
            Assert.Equal(("Renamed User", (DateTime?)null), (userU.Name, userU.DeletedAt));
            Assert.NotNull((await db.Users.SingleAsync(u => u.WorkosUserId == $"user_{run}V")).DeletedAt);
            var m = await db.Memberships.SingleAsync(x => x.WorkosMembershipId == $"om_{run}M");
            Assert.Equal((MembershipStatus.Active, "admin", "invitation", (DateTime?)null), (m.Status, m.Role, m.Source, m.DeletedAt));
            Assert.False(await db.Memberships.AnyAsync(x => x.WorkosMembershipId == $"om_{run}N" && x.DeletedAt == null));
            var urns = await db.RoleAssignments.Where(a => a.OrganizationId == orgA.Id && a.WorkosUserId == $"user_{run}U" && a.DeletedAt == null)
                .Select(a => a.RoleUrn).ToListAsync();
            var own = await db.OrganizationRoles.Where(r => r.OrganizationId == orgA.Id).ToListAsync();
            var slugOf = (await db.GlobalRoles.ToListAsync()).ToDictionary(r => RoleUrn.Global(r.Id), r => r.WorkosSlug);
            foreach (var r in own) slugOf[RoleUrn.Organization(r.Id)] = r.WorkosSlug;
            Assert.Equal(["admin", $"org-admin-{run}"], urns.Select(u => slugOf[u]).Order(StringComparer.Ordinal));
            var roleR = await db.GlobalRoles.SingleAsync(r => r.WorkosSlug == $"admin-{run}");
            Assert.Null(roleR.DeletedAt);
            Assert.Contains("audit:read", roleR.Permissions);
            Assert.NotNull((await db.GlobalRoles.SingleAsync(r => r.WorkosSlug == $"gone-{run}")).DeletedAt);
            var orgRole = own.Single(r => r.WorkosSlug == $"org-admin-{run}");
            Assert.Equal(("Org Admin (renamed)", (DateTime?)null), (orgRole.Name, orgRole.DeletedAt));
            Assert.NotNull(own.Single(r => r.WorkosSlug == $"org-gone-{run}").DeletedAt);
            var now = DateTime.UtcNow;
            Assert.False(await db.SeatReservations.AnyAsync(r => r.OrganizationId == orgA.Id && r.ExpiresAt > now && r.Source == SeatReservationSources.Invitation));
        });
    }
}

/// <summary>Webhook signatures both ways, and the SDK-built events delivered as WorkOS would deliver them.</summary>
public abstract class WorkOsWebhookContractTests(RosterApp app)
{
    private readonly HttpClient _client = app.ClientFor(null);

    private static async Task<T> Node<T>(string mode, object items) =>
        JsonSerializer.Deserialize<T>((await NodeContract.RunAsync("workos/signatures.mjs", stdin: JsonSerializer.Serialize(items), args: [mode]))
            .EnsureSuccess().Stdout)!;

    private async Task<HttpStatusCode> DeliverAsync(string body, string header)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/workos") { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("WorkOS-Signature", header);
        return (await _client.SendAsync(request)).StatusCode;
    }

    [Fact]
    public async Task EventsBuiltFromTheSdkFixturesAndSignedByTheSdkAreAcceptedAndApplied()
    {
        var (run, events) = await SdkFixtureEvents.BuildAsync();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var headers = await Node<string[]>("sign", events.Select(e => new { payload = e.Json, secret = WorkOs.WebhookSecret, timestamp = now }));

        foreach (var (e, header) in events.Zip(headers))
            Assert.Equal(HttpStatusCode.OK, await DeliverAsync(e.Json, header));

        await SdkFixtureEvents.AssertAppliedAsync(app, run, events);
    }

    [Fact]
    public async Task SignaturesRostersTestsMakeVerifyWithTheSdk()
    {
        var bodies = Enumerable.Range(0, 3).Select(_ => WorkOs.Envelope("organization.created", WorkOs.Organization(WorkOs.NewId("org"), "Ünïcode & Co"))).ToList();
        var items = bodies.Select(b => new
        {
            payload = b, secret = WorkOs.WebhookSecret,
            sigHeader = WorkOs.SignedRequest(b).Headers.GetValues("WorkOS-Signature").Single(),
        });

        var verdicts = JsonNode.Parse(JsonSerializer.Serialize(await Node<JsonElement>("verify", items)))!.AsArray();

        Assert.All(verdicts.Zip(bodies), v => Assert.True(v.First!["ok"]!.GetValue<bool>(), v.First.ToJsonString()));
        Assert.Equal(bodies.Select(b => JsonNode.Parse(b)!.Str("id")), verdicts.Select(v => v!["event"]!.Str("id")));
    }

    [Fact]
    public async Task RosterAcceptsExactlyTheSignaturesTheSdkAcceptsSaveTheTwoLeniencesReadmeNames()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        string Hmac(string t, string body, string secret = WorkOs.WebhookSecret) =>
            Convert.ToHexStringLower(WorkOsSignature.Compute(secret, t, Encoding.UTF8.GetBytes(body)));
        var cases = new List<(string Name, string Body, string Header)>();
        void Case(string name, Func<string, string> header)
        {
            var body = WorkOs.Envelope("organization.created", WorkOs.Organization(WorkOs.NewId("org"), name));
            cases.Add((name, body, header(body)));
        }
        string T(long ms) => ms.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Case("now", b => $"t={T(now)}, v1={Hmac(T(now), b)}");
        Case("ten minutes ahead", b => $"t={T(now + 600_000)}, v1={Hmac(T(now + 600_000), b)}");
        Case("90 s old", b => $"t={T(now - 90_000)}, v1={Hmac(T(now - 90_000), b)}");
        Case("200 s old", b => $"t={T(now - 200_000)}, v1={Hmac(T(now - 200_000), b)}");
        Case("no space", b => $"t={T(now)},v1={Hmac(T(now), b)}");
        Case("extra part", b => $"t={T(now)}, v1={Hmac(T(now), b)}, v0=abc");
        Case("upper-case hex", b => $"t={T(now)}, v1={Hmac(T(now), b).ToUpperInvariant()}");
        Case("signature first", b => $"v1={Hmac(T(now), b)}, t={T(now)}");
        Case("wrong secret", b => $"t={T(now)}, v1={Hmac(T(now), b, "whsec_other")}");
        Case("other body", b => $"t={T(now)}, v1={Hmac(T(now), b + " ")}");
        Case("only t", b => $"t={T(now)}");
        Case("empty signature", b => $"t={T(now)}, v1=");
        Case("non-numeric timestamp", b => $"t=later, v1={Hmac("later", b)}");
        Case("other names", b => $"x={T(now)}, y={Hmac(T(now), b)}");

        var sdk = JsonNode.Parse(JsonSerializer.Serialize(await Node<JsonElement>("verify",
            cases.Select(c => new { payload = c.Body, sigHeader = c.Header, secret = WorkOs.WebhookSecret }))))!.AsArray();
        var differences = new List<string>();
        foreach (var (c, verdict) in cases.Zip(sdk))
        {
            var sdkAccepts = verdict!["ok"]!.GetValue<bool>();
            var rosterAccepts = await DeliverAsync(c.Body, c.Header) == HttpStatusCode.OK;
            if (sdkAccepts != rosterAccepts) differences.Add($"{c.Name}: sdk {sdkAccepts}, roster {rosterAccepts}");
        }

        // README ("Signature rule"): where the SDK's parsing lets a header through that no WorkOS delivery has, Roster refuses it.
        Assert.Equal(["non-numeric timestamp: sdk True, roster False", "other names: sdk True, roster False"], differences);
        Assert.True(sdk[0]!["ok"]!.GetValue<bool>() && sdk[1]!["ok"]!.GetValue<bool>() && !sdk[3]!["ok"]!.GetValue<bool>());
    }
}

public sealed class WorkOsWebhookContractTestsOnSqlite(SqliteApp app) : WorkOsWebhookContractTests(app), IClassFixture<SqliteApp>;

public sealed class WorkOsWebhookContractTestsOnPostgres(PostgresApp app) : WorkOsWebhookContractTests(app), IClassFixture<PostgresApp>;

/// <summary>The same SDK-built events served by the strict fake's Events API and caught up by a sync instead of webhooks.</summary>
public abstract class WorkOsEventsApiContractTests(WorkOsSyncApp app)
{
    [Fact]
    public async Task EventsBuiltFromTheSdkFixturesAreAppliedThroughTheEventsApi()
    {
        var (run, events) = await SdkFixtureEvents.BuildAsync();
        foreach (var e in events) app.Fake.AppendRawEvent(e.Json);

        using (var scope = app.Services.CreateScope())
        {
            var sync = scope.ServiceProvider.GetRequiredService<EventSync>();
            foreach (var key in new[] { EventSync.EnvironmentKey, EventSync.UsersKey, $"org_{run}A", $"org_{run}B" })
                Assert.Null((await sync.SyncOrganizationAsync(key, null, CancellationToken.None)).Error);
        }

        await SdkFixtureEvents.AssertAppliedAsync(app, run, events);
    }
}

public sealed class WorkOsEventsApiContractTestsOnSqlite(WorkOsSyncSqliteApp app) : WorkOsEventsApiContractTests(app), IClassFixture<WorkOsSyncSqliteApp>;

public sealed class WorkOsEventsApiContractTestsOnPostgres(WorkOsSyncPostgresApp app) : WorkOsEventsApiContractTests(app), IClassFixture<WorkOsSyncPostgresApp>;
