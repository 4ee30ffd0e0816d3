using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Roster.Tests.Contracts;
using Roster.Tests.Support;

namespace Roster.Tests.Changes;

/// <summary>
/// The contract suite's judgement of Roster's outgoing signatures: real deliveries Roster sent to a receiver, verified by
/// the `standardwebhooks` npm package and by `svix`'s verifier (pinned by tests/contracts/package-lock.json), during a
/// secret rotation's overlap too.
/// </summary>
public abstract class WebhookSignatureContractTests(WebhookApp app) : IAsyncLifetime
{
    private readonly Scenario _s = new(app);
    private readonly HttpClient _admin = app.ClientFor(RosterApp.NewUser("platform", admin: true));
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await WebhookReceiver.StartAsync();

    public async Task DisposeAsync()
    {
        await app.WithDbAsync(db => db.WebhookSubscriptions.ExecuteUpdateAsync(s => s.SetProperty(x => x.DeletedAt, DateTime.UtcNow)));
        await _receiver.DisposeAsync();
    }

    private static async Task<JsonArray> VerifyAsync(string secret, IEnumerable<ReceivedWebhook> deliveries)
    {
        var input = JsonSerializer.Serialize(new
        {
            secret,
            deliveries = deliveries.Select(d => new { id = d.Id, timestamp = d.Timestamp, signature = d.Signature, body = d.Body }),
        });
        var result = (await NodeContract.RunAsync("webhooks/verify-roster-signatures.mjs", stdin: input)).EnsureSuccess();
        return JsonNode.Parse(result.Stdout)!.AsArray();
    }

    [Fact]
    public async Task RostersDeliveriesVerifyWithTheStandardWebhooksAndSvixLibrariesAndTamperingIsRejected()
    {
        await app.SequenceAsync();
        var org = await _s.NewOrg(plan: "company_leader");
        await app.SequenceAsync();
        var created = await (await _admin.PostJson("/api/admin/webhook-subscriptions", new { url = _receiver.Url(), organizationId = org.Id.ToString() }))
            .ShouldBe(HttpStatusCode.Created);
        var (id, oldSecret) = (created.Str("id"), created.Str("secret"));
        var bob = RosterApp.NewUser("bób ünïcode");
        await _s.Accept(bob, await _s.Invite(org.Id, org.Owner, bob, seatType: "community_only"));
        await _receiver.WaitUntilAsync(r => r.Count(x => x.Answered == 200) >= 2, what: "two deliveries");

        var verdicts = await VerifyAsync(oldSecret, _receiver.Accepted);
        Assert.Equal(2, verdicts.Count);
        foreach (var v in verdicts)
        {
            Assert.True(v!["standardwebhooks"]!.GetValueKind() == JsonValueKind.True, $"standardwebhooks: {v["standardwebhooks"]}");
            Assert.True(v["svix"]!.GetValueKind() == JsonValueKind.True, $"svix: {v["svix"]}");
            Assert.True(v["tamperedRejected"]!.GetValue<bool>());
            Assert.True(v["otherIdRejected"]!.GetValue<bool>());
        }

        // During a rotation's overlap a delivery carries two signatures; the libraries accept it with either secret.
        var newSecret = (await (await _admin.PatchJson($"/api/admin/webhook-subscriptions/{id}", new { rotateSecret = true })).ShouldBe(HttpStatusCode.OK)).Str("secret");
        await (await _s.As(org.Owner).PatchJson($"/api/organizations/{org.Id}/members/{_receiver.Accepted[0].Json.Str("membershipId")}", new { role = "admin" }))
            .ShouldBe(HttpStatusCode.OK);
        await _receiver.WaitUntilAsync(r => r.Count(x => x.Answered == 200) >= 3, what: "the delivery after the rotation");
        var last = _receiver.Accepted[^1];
        foreach (var secret in new[] { oldSecret, newSecret })
        {
            var v = (await VerifyAsync(secret, [last])).Single()!;
            Assert.True(v["standardwebhooks"]!.GetValueKind() == JsonValueKind.True, $"standardwebhooks: {v["standardwebhooks"]}");
            Assert.True(v["svix"]!.GetValueKind() == JsonValueKind.True, $"svix: {v["svix"]}");
        }
        // A secret that never signed it is refused by both.
        var stranger = (await VerifyAsync("whsec_" + Convert.ToBase64String(new byte[32]), [last])).Single()!;
        Assert.NotEqual(JsonValueKind.True, stranger["standardwebhooks"]!.GetValueKind());
        Assert.NotEqual(JsonValueKind.True, stranger["svix"]!.GetValueKind());
    }
}

public sealed class WebhookSignatureContractTestsOnSqlite(WebhookSqliteApp app) : WebhookSignatureContractTests(app), IClassFixture<WebhookSqliteApp>;

public sealed class WebhookSignatureContractTestsOnPostgres(WebhookPostgresApp app) : WebhookSignatureContractTests(app), IClassFixture<WebhookPostgresApp>;
