using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Roster.Tests.Support;

namespace Roster.Tests.Actions;

/// <summary>GET /api/organizations/{orgId}/refusals: webhook refusals and sign-in denials side by side, newest first, paged.</summary>
public abstract partial class RefusalsListTests(RosterApp app)
{
    private readonly Scenario _s = new(app);
    private readonly HttpClient _workos = app.ClientFor(null);

    /// <summary>An organization made in Roster (so it has an owner), known to WorkOS, with no community seats.</summary>
    private async Task<(Org Org, string WorkosId)> FullOrg()
    {
        var org = await _s.NewOrg(plan: "individual_professional");
        var workosId = WorkOs.NewId("org");
        await app.WithDbAsync(db => db.Organizations.Where(o => o.Id == org.Id).ExecuteUpdateAsync(s => s.SetProperty(o => o.WorkosOrganizationId, workosId)));
        return (org, workosId);
    }

    [Fact]
    public async Task WebhookRefusalsAndSignInDenialsAreListedTogetherNewestFirstWithTheirKind()
    {
        var (org, workosId) = await FullOrg();
        var refusedUser = WorkOs.NewId("user");
        var refusedEvent = WorkOs.NextEventId();
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("user.created", WorkOs.User(refusedUser, $"{refusedUser}@example.com", "Rita", "Fused"))));
        Assert.Equal("refused", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(WorkOs.NewId("om"), refusedUser, workosId), refusedEvent)));
        var deniedUser = WorkOs.NewId("user");
        var action = WorkOsActions.NewActionId();
        Assert.Equal("Deny", (await _workos.Act(WorkOsActions.Authentication(deniedUser, $"{deniedUser}@example.com", workosId, actionId: action))).Verdict);

        var list = (await (await _s.As(org.Owner).GetAsync($"/api/organizations/{org.Id}/refusals")).ShouldBe(HttpStatusCode.OK)).AsArray();

        Assert.Equal(2, list.Count);
        var denial = list[0]!;
        var refusal = list[1]!;
        Assert.Equal(("sign_in", deniedUser, $"{deniedUser}@example.com", "Jane Doe", "community_only", 0, 0, action),
            (denial.Str("kind"), denial.Str("workosUserId"), denial.Str("email"), denial.Str("name"), denial.Str("seatType"),
                denial["used"]!.GetValue<int>(), denial["limit"]!.GetValue<int>(), denial.Str("eventId")));
        Assert.Equal(("webhook", refusedUser, $"{refusedUser}@example.com", "Rita Fused", refusedEvent),
            (refusal.Str("kind"), refusal.Str("workosUserId"), refusal.Str("email"), refusal.Str("name"), refusal.Str("eventId")));
        Assert.True(denial["at"]!.GetValue<DateTime>() >= refusal["at"]!.GetValue<DateTime>());
        Assert.NotNull(denial["id"]);
    }

    [Fact]
    public async Task TheListIsPagedByLimitAndAnOpaqueCursorInTheLinkHeaderWithNoRowLostOrRepeated()
    {
        var (org, workosId) = await FullOrg();
        var actions = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            var user = WorkOs.NewId("user");
            var action = WorkOsActions.NewActionId();
            actions.Add(action);
            Assert.Equal("Deny", (await _workos.Act(WorkOsActions.Authentication(user, $"{user}@example.com", workosId, actionId: action))).Verdict);
        }
        // Three denials at the very same instant (the oldest, so they fill page 3 and spill onto page 4): the id breaks
        // the tie, so none is lost or repeated at the page boundary inside the tie.
        var at = DateTime.UtcNow.AddMinutes(-1);
        var tied = new[] { actions[2], actions[3], actions[4] };
        await app.WithDbAsync(db => db.MembershipRefusals.Where(r => tied.Contains(r.EventId))
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.At, at)));

        var seen = new List<string>();
        var url = $"/api/organizations/{org.Id}/refusals?limit=2";
        var pages = 0;
        while (url is not null && pages++ < 10)
        {
            using var response = await _s.As(org.Owner).GetAsync(url);
            var page = (await response.ShouldBe(HttpStatusCode.OK)).AsArray();
            Assert.True(page.Count <= 2);
            seen.AddRange(page.Select(r => r!.Str("eventId")));
            url = response.Headers.TryGetValues("Link", out var links) ? NextLink().Match(links.Single()).Groups[1].Value : null;
        }

        Assert.Equal(4, pages);
        Assert.Equal(7, seen.Count);
        Assert.Equal(actions.ToHashSet(), seen.ToHashSet());
        var all = (await (await _s.As(org.Owner).GetAsync($"/api/organizations/{org.Id}/refusals")).ShouldBe(HttpStatusCode.OK)).AsArray();
        Assert.Equal(all.Select(r => r!.Str("eventId")), seen);
        var times = all.Select(r => r!["at"]!.GetValue<DateTime>()).ToList();
        Assert.Equal(times.OrderByDescending(t => t), times);
    }

    [Fact]
    public async Task ABadLimitOrCursorIsAValidationProblem()
    {
        var (org, _) = await FullOrg();
        foreach (var query in new[] { "limit=0", "limit=501", "limit=-1", "limit=abc", "limit=1.5", "after=", "after=not-a-cursor", "after=%00", "after=MTIzOjQ1Ng" })
            await (await _s.As(org.Owner).GetAsync($"/api/organizations/{org.Id}/refusals?{query}")).ShouldBeProblem(HttpStatusCode.BadRequest, "validation_failed");
        await (await _s.As(org.Owner).GetAsync($"/api/organizations/{org.Id}/refusals?limit=500")).ShouldBe(HttpStatusCode.OK);
    }

    [GeneratedRegex("^<([^>]+)>; rel=\"next\"$")]
    private static partial Regex NextLink();
}

public sealed class RefusalsListTestsOnSqlite(SqliteApp app) : RefusalsListTests(app), IClassFixture<SqliteApp>;

public sealed class RefusalsListTestsOnPostgres(PostgresApp app) : RefusalsListTests(app), IClassFixture<PostgresApp>;
