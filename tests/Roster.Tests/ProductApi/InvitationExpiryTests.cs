using System.Net;
using Microsoft.EntityFrameworkCore;
using Roster.Tests.Support;

namespace Roster.Tests.ProductApi;

/// <summary>A pending owner_add expires after Invitations__ExpireAfterDays: it frees its seat at once, and the sweep audits it.</summary>
public abstract class InvitationExpiryTests(ProductApiApp app)
{
    private readonly Scenario _s = new(app);
    private static readonly TimeSpan PastExpiry = TimeSpan.FromDays(14) + TimeSpan.FromMinutes(1);

    private async Task<int> AvailableContributorSeats(Org org) =>
        (await (await _s.As(org.Owner).GetAsync($"/api/organizations/{org.Id}/seats")).ShouldBe(HttpStatusCode.OK))["seatTypes"]!.AsArray()
        .Single(t => t!.Str("seatType") == "contributor")!["available"]!.GetValue<int>();

    [Fact]
    public async Task AnInvitationCarriesItsExpiryAndHoldsASeatUntilThen()
    {
        var org = await _s.NewOrg(plan: "company_standard");
        var invitee = RosterApp.NewUser("invitee");
        var before = app.Clock.UtcNow;
        await _s.UserIdOf(invitee);
        var added = await (await _s.As(org.Owner).PostJson($"/api/organizations/{org.Id}/members", new { userId = await _s.UserIdOf(invitee) }))
            .ShouldBe(HttpStatusCode.Created);

        var expiresAt = DateTime.Parse(added.Str("expiresAt"), null, System.Globalization.DateTimeStyles.RoundtripKind);
        Assert.InRange(expiresAt, before.AddDays(14).AddSeconds(-1), app.Clock.UtcNow.AddDays(14).AddSeconds(1));
        var pending = await (await _s.As(invitee).GetAsync("/api/membership-requests/mine/pending")).ShouldBe(HttpStatusCode.OK);
        Assert.Equal(added.Str("expiresAt"), Assert.Single(pending.AsArray())!.Str("expiresAt"));
        Assert.Equal(3, await AvailableContributorSeats(org));
    }

    [Fact]
    public async Task AnExpiredInvitationFreesItsSeatAtOnceLeavesMinePendingAndCannotBeAccepted()
    {
        var org = await _s.NewOrg(plan: "company_standard"); // 5 contributor seats: the owner and four invitations fill them
        var invitees = Enumerable.Range(0, 4).Select(_ => RosterApp.NewUser("invitee")).ToList();
        var invitations = new List<Guid>();
        foreach (var invitee in invitees) invitations.Add(await _s.Invite(org.Id, org.Owner, invitee));
        var latecomer = await _s.UserIdOf(RosterApp.NewUser("latecomer"));
        await (await _s.As(org.Owner).PostJson($"/api/organizations/{org.Id}/members", new { userId = latecomer }))
            .ShouldBeProblem(HttpStatusCode.Conflict, "seat_limit_reached");

        app.Clock.Advance(PastExpiry);

        // Before any sweep: the seats are free, the invitations are gone from the invitee's list, and accepting is a 404.
        Assert.Equal(4, await AvailableContributorSeats(org));
        Assert.Empty((await (await _s.As(invitees[0]).GetAsync("/api/membership-requests/mine/pending")).ShouldBe(HttpStatusCode.OK)).AsArray());
        await (await _s.As(invitees[0]).PutJson($"/api/membership-requests/{invitations[0]}/accept")).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
        var listed = await (await _s.As(org.Owner).GetAsync($"/api/organizations/{org.Id}/members")).ShouldBe(HttpStatusCode.OK);
        Assert.Single(listed.AsArray());
        await (await _s.As(org.Owner).PostJson($"/api/organizations/{org.Id}/members", new { userId = latecomer })).ShouldBe(HttpStatusCode.Created);
        // The invitee asks to join instead: the expired invitation no longer stands in the way.
        await _s.RequestToJoin(org.Id, invitees[1]);

        var swept = await app.SweepAsync();

        Assert.Equal(3, swept.Invitations); // invitee 1's was ended (and audited) by their join request
        var rows = await app.WithDbAsync(db => db.Memberships.AsNoTracking().Where(m => invitations.Contains(m.Id)).ToListAsync());
        Assert.All(rows, m => Assert.NotNull(m.DeletedAt));
        var audit = await app.WithDbAsync(db => db.AuditEvents.AsNoTracking().Where(a => a.Action == "expired" && invitations.Contains(a.MembershipId!.Value))
            .ToListAsync());
        Assert.Equal(invitations.Order(), audit.Select(a => a.MembershipId!.Value).Order());
        Assert.All(audit, a => Assert.Equal(a.MembershipId == invitations[1] ? "api" : "sync", a.Via));
        Assert.Equal(0, (await app.SweepAsync()).Invitations);
        var history = await (await _s.As(org.Owner).GetAsync($"/api/organizations/{org.Id}/audit?membershipId={invitations[0]}")).ShouldBe(HttpStatusCode.OK);
        Assert.Equal(("expired", "sync"), (history[0]!.Str("action"), history[0]!.Str("via")));
    }

    [Fact]
    public async Task RenewingAnInvitationGivesItANewExpiryAndKeepsItsSeat()
    {
        var org = await _s.NewOrg(plan: "company_standard");
        var invitee = RosterApp.NewUser("invitee");
        var invitation = await _s.Invite(org.Id, org.Owner, invitee);
        app.Clock.Advance(TimeSpan.FromDays(10));

        var renewed = await (await _s.As(org.Owner).PostAsync($"/api/organizations/{org.Id}/members/{invitation}/renew", null)).ShouldBe(HttpStatusCode.OK);

        var expiresAt = DateTime.Parse(renewed.Str("expiresAt"), null, System.Globalization.DateTimeStyles.RoundtripKind);
        Assert.InRange(expiresAt, app.Clock.UtcNow.AddDays(14).AddSeconds(-5), app.Clock.UtcNow.AddDays(14).AddSeconds(5));
        app.Clock.Advance(TimeSpan.FromDays(10)); // past the first expiry, not the renewed one
        Assert.Equal(3, await AvailableContributorSeats(org));
        await _s.Accept(invitee, invitation);
        app.Clock.Advance(PastExpiry);
        await (await _s.As(org.Owner).PostAsync($"/api/organizations/{org.Id}/members/{invitation}/renew", null))
            .ShouldBeProblem(HttpStatusCode.NotFound, "not_found"); // accepted: nothing to renew
        Assert.Equal("renewed", (await (await _s.As(org.Owner).GetAsync($"/api/organizations/{org.Id}/audit?membershipId={invitation}"))
            .ShouldBe(HttpStatusCode.OK)).AsArray().Select(a => a!.Str("action")).Skip(1).First());
    }

    [Fact]
    public async Task AnExpiredInvitationCannotBeRenewed()
    {
        var org = await _s.NewOrg(plan: "company_standard");
        var invitation = await _s.Invite(org.Id, org.Owner, RosterApp.NewUser("invitee"));
        app.Clock.Advance(PastExpiry);

        await (await _s.As(org.Owner).PostAsync($"/api/organizations/{org.Id}/members/{invitation}/renew", null))
            .ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
    }
}

public sealed class InvitationExpiryTestsOnSqlite(ProductApiSqliteApp app) : InvitationExpiryTests(app), IClassFixture<ProductApiSqliteApp>;

public sealed class InvitationExpiryTestsOnPostgres(ProductApiPostgresApp app) : InvitationExpiryTests(app), IClassFixture<ProductApiPostgresApp>;
