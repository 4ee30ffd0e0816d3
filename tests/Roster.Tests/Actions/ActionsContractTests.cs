using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Roster.Tests.Contracts;
using Roster.Tests.Support;

namespace Roster.Tests.Actions;

/// <summary>
/// The official WorkOS Node SDK (tests/contracts/actions) judges the actions endpoint: contexts built from the SDK's own
/// fixtures and signed with its signing code are accepted; every answer is byte for byte what <c>actions.signResponse</c>
/// makes of the same verdict, message, timestamp and secret, and the SDK's verifier accepts its signature; a stale or
/// forged signature is a 401 problem.
/// </summary>
public abstract class ActionsContractTests(RosterApp app)
{
    private readonly Scenario _s = new(app);
    private readonly HttpClient _workos = app.ClientFor(null);

    // Quotes, a backslash, HTML characters, non-ASCII, an emoji, controls and U+2028: JSON.stringify writes each its own way.
    private const string AwkwardName = "Zürich \"Labs\" <R&D> \\ 'Ω' 😀\t\u0007\u2028 ☃";

    private sealed record Spec(string Name, string Fixture, JsonObject Overrides, int AgeMs = 0);

    [Fact]
    public async Task ContextsTheSdkSignsAreAcceptedAndEveryAnswerIsExactlyWhatSignResponseMakes()
    {
        var workosOrgId = WorkOs.NewId("org");
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization.created", WorkOs.Organization(workosOrgId, AwkwardName))));
        var orgId = await app.WithDbAsync(db => db.Organizations.Where(o => o.WorkosOrganizationId == workosOrgId).Select(o => o.Id).SingleAsync());
        await _s.SetPlan(orgId, "individual_academic"); // one community seat
        var member = WorkOs.NewId("user");
        var memberOm = WorkOs.NewId("om");
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(memberOm, member, workosOrgId))));
        var full = WorkOs.NewId("user");

        Spec[] specs =
        [
            new("member", "authentication", SignIn(member, workosOrgId, memberOm)),
            new("no seat left", "authentication", SignIn(full, workosOrgId, WorkOs.NewId("om"))),
            new("no organization", "authentication", new JsonObject { ["id"] = WorkOsActions.NewActionId(), ["organization"] = null, ["organization_membership"] = null }),
            new("sign-up, no invitation", "user_registration", new JsonObject { ["id"] = WorkOsActions.NewActionId(), ["invitation"] = null }),
            new("sign-up into the full organization", "user_registration", new JsonObject
            {
                ["id"] = WorkOsActions.NewActionId(),
                ["user_data"] = new JsonObject { ["email"] = $"{WorkOs.NewId("user")}@example.com" },
                ["invitation"] = new JsonObject { ["id"] = WorkOs.NewId("invitation"), ["organization_id"] = workosOrgId },
            }),
            new("stale", "authentication", SignIn(WorkOs.NewId("user"), workosOrgId, WorkOs.NewId("om")), AgeMs: 31_000),
        ];
        var signed = await SignWithSdkAsync(specs);

        var answers = new List<(Spec Spec, string Body)>();
        for (var i = 0; i < specs.Length; i++)
        {
            var (body, header, constructed) = signed[i];
            using var response = await _workos.SendAsync(WorkOsActions.Signed(body, header: header));
            if (specs[i].AgeMs > 30_000)
            {
                // The SDK's own constructAction refuses it too (tolerance 30 s), and so does Roster.
                Assert.Null(constructed);
                await response.ShouldBeProblem(HttpStatusCode.Unauthorized, "invalid_signature");
                continue;
            }
            Assert.NotNull(constructed);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{specs[i].Name}: {(int)response.StatusCode} {text}");
            answers.Add((specs[i], text));

            // Forged: the same context under a signature made with another secret, and one with its hash altered.
            using var forged = await _workos.SendAsync(WorkOsActions.Signed(body, secret: "wos_forger"));
            await forged.ShouldBeProblem(HttpStatusCode.Unauthorized, "invalid_signature");
            using var altered = await _workos.SendAsync(WorkOsActions.Signed(body, header: header[..^1] + (header[^1] == '0' ? '1' : '0')));
            await altered.ShouldBeProblem(HttpStatusCode.Unauthorized, "invalid_signature");
        }

        var verdicts = answers.ToDictionary(a => a.Spec.Name, a => WorkOsActions.Read(a.Body));
        Assert.Equal("Allow", verdicts["member"].Verdict);
        Assert.Equal("Deny", verdicts["no seat left"].Verdict);
        Assert.Contains(AwkwardName, verdicts["no seat left"].ErrorMessage);
        Assert.Equal("Allow", verdicts["no organization"].Verdict);
        Assert.Equal("Allow", verdicts["sign-up, no invitation"].Verdict);
        Assert.Equal("Deny", verdicts["sign-up into the full organization"].Verdict);

        // The SDK judges every answer: identical bytes to signResponse's, and a signature its verifier accepts.
        var check = new JsonObject
        {
            ["secret"] = WorkOsActions.Secret,
            ["responses"] = new JsonArray(answers.Select(a => (JsonNode)new JsonObject { ["type"] = a.Spec.Fixture, ["body"] = a.Body }).ToArray()),
        };
        var judged = await NodeContract.RunAsync("actions/check-responses.mjs", stdin: check.ToJsonString());
        var results = JsonNode.Parse(judged.Stdout)?.AsArray() ?? throw new Xunit.Sdk.XunitException($"no output\n{judged.Stderr}");
        for (var i = 0; i < answers.Count; i++)
        {
            var result = results[i]!;
            Assert.True(result["identical"]!.GetValue<bool>(),
                $"{answers[i].Spec.Name}: Roster answered\n{answers[i].Body}\nsignResponse makes\n{result["expected"]}");
            Assert.True(result["verified"]!.GetValue<bool>(), $"{answers[i].Spec.Name}: the SDK's verifier refused Roster's signature");
        }
        judged.EnsureSuccess();
    }

    [Fact]
    public async Task TheJudgeCatchesAnAnswerThatIsNotSignResponsesBytes()
    {
        // The check must be able to fail: an answer signed correctly but serialized another way (System.Text.Json's escaping).
        var payload = "{\"timestamp\":1700000000000,\"verdict\":\"Deny\",\"error_message\":\"\\u003CR\\u0026D\\u003E is full\"}";
        var signature = Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(
            Encoding.UTF8.GetBytes(WorkOsActions.Secret), Encoding.UTF8.GetBytes($"1700000000000.{payload}")));
        var body = $"{{\"object\":\"authentication_action_response\",\"payload\":{payload},\"signature\":\"{signature}\"}}";
        var check = new JsonObject
        {
            ["secret"] = WorkOsActions.Secret,
            ["responses"] = new JsonArray(new JsonObject { ["type"] = "authentication", ["body"] = body }),
        };

        var judged = await NodeContract.RunAsync("actions/check-responses.mjs", stdin: check.ToJsonString());

        Assert.NotEqual(0, judged.ExitCode);
        Assert.False(JsonNode.Parse(judged.Stdout)![0]!["identical"]!.GetValue<bool>());
    }

    private static JsonObject SignIn(string userId, string workosOrgId, string omId) => new()
    {
        ["id"] = WorkOsActions.NewActionId(),
        ["user"] = new JsonObject { ["id"] = userId, ["email"] = $"{userId}@example.com" },
        ["organization"] = new JsonObject { ["id"] = workosOrgId, ["name"] = AwkwardName },
        ["organization_membership"] = new JsonObject
        {
            ["id"] = omId, ["user_id"] = userId, ["organization_id"] = workosOrgId,
            ["created_at"] = WorkOs.Iso(DateTime.UtcNow.AddMinutes(-2)), ["updated_at"] = WorkOs.Iso(DateTime.UtcNow.AddMinutes(-1)),
        },
    };

    private static async Task<List<(string Body, string Header, JsonNode? Constructed)>> SignWithSdkAsync(IEnumerable<Spec> specs)
    {
        var input = new JsonObject
        {
            ["secret"] = WorkOsActions.Secret,
            ["contexts"] = new JsonArray(specs.Select(s => (JsonNode)new JsonObject
            {
                ["fixture"] = s.Fixture, ["overrides"] = s.Overrides.DeepClone(), ["ageMs"] = s.AgeMs,
            }).ToArray()),
        };
        var result = (await NodeContract.RunAsync("actions/sign-contexts.mjs", stdin: input.ToJsonString())).EnsureSuccess();
        return JsonNode.Parse(result.Stdout)!.AsArray()
            .Select(n => (n!["body"]!.GetValue<string>(), n["header"]!.GetValue<string>(), n["constructed"]))
            .ToList();
    }
}

public sealed class ActionsContractTestsOnSqlite(SqliteApp app) : ActionsContractTests(app), IClassFixture<SqliteApp>;

public sealed class ActionsContractTestsOnPostgres(PostgresApp app) : ActionsContractTests(app), IClassFixture<PostgresApp>;
