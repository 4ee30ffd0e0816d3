using System.Net;
using System.Net.Http.Headers;
using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;
using Roster.Tests.Support;

namespace Roster.Tests.Webhooks;

/// <summary>
/// The reports of issue 10, each reproduced as it was found: WorkOS events for one person or object delivered at the
/// same moment or out of order must end where WorkOS's order ends. (The convergence property in the reliability suite
/// covers every order; these pin down each report.)
/// </summary>
public abstract class ConvergenceRegressionTests(RosterApp app)
{
    private const int Pairs = 40;
    private readonly Scenario _s = new(app);
    private readonly HttpClient _workos = app.ClientFor(null);
    private static readonly DateTime T0 = DateTime.UtcNow.AddMinutes(-20);

    private async Task<(string WorkosId, Guid Id)> MirroredOrg(string? plan = null)
    {
        var workosId = WorkOs.NewId("org");
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization.created", WorkOs.Organization(workosId, "Acme", T0), createdAt: T0)));
        var id = await app.WithDbAsync(db => db.Organizations.Where(o => o.WorkosOrganizationId == workosId).Select(o => o.Id).SingleAsync());
        if (plan is not null) await _s.SetPlan(id, plan);
        return (workosId, id);
    }

    /// <summary>Both deliveries leave at the same moment (awaited, not blocked on: a blocked pool thread would serialize them).</summary>
    private async Task<string[]> AtOnce(params string[] events)
    {
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = events.Select(json => Task.Run(async () => { await start.Task; return await app.ClientFor(null).DeliverOk(json); })).ToList();
        start.SetResult();
        return await Task.WhenAll(calls);
    }

    private async Task<(int Active, int Reserved)> CommunitySeats(Guid orgId)
    {
        var seats = await (await _s.As(RosterApp.NewUser("platform", admin: true)).GetAsync($"/api/organizations/{orgId}/seats")).ShouldBe(HttpStatusCode.OK);
        var community = seats["seatTypes"]!.AsArray().Single(t => t!.Str("seatType") == "community_only")!;
        return (community["active"]!.GetValue<int>(), community["reserved"]!.GetValue<int>());
    }

    // --- 1. user.created and organization_membership.created at the same moment --------------------------------------

    [Fact]
    public async Task AUserAndTheirMembershipArrivingAtTheSameMomentAlwaysEndLinked()
    {
        var org = await MirroredOrg(plan: "company_leader");
        var people = Enumerable.Range(0, Pairs).Select(i => (Sub: WorkOs.NewId("user"), Om: WorkOs.NewId("om"))).ToList();
        await Task.WhenAll(people.Select(async p =>
        {
            var outcomes = await AtOnce(
                WorkOs.Envelope("user.created", WorkOs.User(p.Sub, $"{p.Sub}@example.com")),
                WorkOs.Envelope("organization_membership.created", WorkOs.Membership(p.Om, p.Sub, org.WorkosId)));
            Assert.All(outcomes, o => Assert.Equal("applied", o));
        }));

        var rows = await app.MembershipsOfAsync(org.Id);
        var unlinked = rows.Where(r => r.UserId is null).Select(r => r.WorkosUserId).ToList();
        Assert.True(unlinked.Count == 0, $"{unlinked.Count} of {Pairs} memberships were left without their user: {string.Join(", ", unlinked)}");
        // The person sees their organization, and cannot be added to it a second time.
        var one = people[0];
        var person = new TestUser(one.Sub, $"{one.Sub}@example.com", "Bob Stone");
        await (await _s.As(person).GetAsync($"/api/organizations/{org.Id}/members")).ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task AUserCreatedAndTheirFirstSignInIntoTheOrganizationAtTheSameMomentAlwaysEndLinked()
    {
        // The sign-in gate (WorkOS Actions) mirrors the membership it seats, as the webhook does: it must take the
        // person's lock too, or a user.created committing meanwhile links nothing and the seated row stays without its user.
        var org = await MirroredOrg(plan: "company_leader");
        var people = Enumerable.Range(0, Pairs).Select(i => (Sub: WorkOs.NewId("user"), Om: WorkOs.NewId("om"))).ToList();
        await Task.WhenAll(people.Select(async p =>
        {
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var created = Task.Run(async () => { await start.Task; return await app.ClientFor(null).DeliverOk(WorkOs.Envelope("user.created", WorkOs.User(p.Sub, $"{p.Sub}@example.com"))); });
            var signIn = Task.Run(async () => { await start.Task; return await app.ClientFor(null).Act(WorkOsActions.Authentication(p.Sub, $"{p.Sub}@example.com", org.WorkosId, p.Om)); });
            start.SetResult();
            Assert.Equal("applied", await created);
            Assert.Equal("Allow", (await signIn).Verdict);
        }));

        var rows = await app.MembershipsOfAsync(org.Id);
        Assert.Equal(Pairs, rows.Count(r => r.DeletedAt is null));
        var unlinked = rows.Where(r => r.UserId is null).Select(r => r.WorkosUserId).ToList();
        Assert.True(unlinked.Count == 0, $"{unlinked.Count} of {Pairs} seated memberships were left without their user: {string.Join(", ", unlinked)}");
    }

    [Fact]
    public async Task SigningInLinksAMembershipThatWasLeftUnlinked()
    {
        var org = await MirroredOrg();
        var person = RosterApp.NewUser("unlinked");
        var userId = await _s.UserIdOf(person);
        // The state the race above left behind on a database written before the fix: a membership naming the person's
        // WorkOS id, with no local user, although the user row exists.
        await app.WithDbAsync(async db =>
        {
            db.Memberships.Add(new Membership
            {
                Id = Guid.CreateVersion7(), OrganizationId = org.Id, WorkosUserId = person.Sub, WorkosMembershipId = WorkOs.NewId("om"),
                Role = Roles.Member, Status = MembershipStatus.Active, Source = MembershipSource.Webhook, SeatType = "community_only",
                WorkosUpdatedAt = T0, WorkosLastEventId = WorkOs.NextEventId(), CreatedAt = T0, UpdatedAt = T0,
            });
            await db.SaveChangesAsync();
        });

        await (await _s.As(person).GetAsync("/api/membership-requests/mine")).ShouldBe(HttpStatusCode.OK);

        Assert.Equal(userId, Assert.Single(await app.MembershipsOfAsync(org.Id)).UserId);
        await (await _s.As(person).GetAsync($"/api/organizations/{org.Id}/members")).ShouldBe(HttpStatusCode.OK);
    }

    // --- 2. an older update racing a newer one -------------------------------------------------------------------------

    [Fact]
    public async Task AnOlderUserUpdateRacingANewerOneNeverWins()
    {
        var subs = Enumerable.Range(0, Pairs).Select(_ => WorkOs.NewId("user")).ToList();
        foreach (var sub in subs)
            await _workos.DeliverOk(WorkOs.Envelope("user.created", WorkOs.User(sub, $"{sub}@example.com", "First", updatedAt: T0)));
        await Task.WhenAll(subs.Select(async sub =>
        {
            var older = WorkOs.Envelope("user.updated", WorkOs.User(sub, $"{sub}@example.com", "Older", updatedAt: T0.AddSeconds(1)));
            var newer = WorkOs.Envelope("user.updated", WorkOs.User(sub, $"{sub}@example.com", "Newer", updatedAt: T0.AddSeconds(2)));
            await AtOnce(newer, older);
        }));

        var names = await app.WithDbAsync(db => db.Users.AsNoTracking().Where(u => subs.Contains(u.WorkosUserId!)).Select(u => u.Name).ToListAsync());
        Assert.Equal(Pairs, names.Count);
        Assert.All(names, n => Assert.Equal("Newer Stone", n));
    }

    [Fact]
    public async Task AnOlderOrganizationUpdateRacingANewerOneNeverWins()
    {
        var orgs = new List<string>();
        for (var i = 0; i < Pairs; i++) orgs.Add((await MirroredOrg()).WorkosId);
        await Task.WhenAll(orgs.Select(async id =>
        {
            var older = WorkOs.Envelope("organization.updated", WorkOs.Organization(id, "Older", T0.AddSeconds(1)));
            var newer = WorkOs.Envelope("organization.updated", WorkOs.Organization(id, "Newer", T0.AddSeconds(2)));
            await AtOnce(newer, older);
        }));

        var names = await app.WithDbAsync(db => db.Organizations.AsNoTracking().Where(o => orgs.Contains(o.WorkosOrganizationId!)).Select(o => o.Name).ToListAsync());
        Assert.Equal(Pairs, names.Count);
        Assert.All(names, n => Assert.Equal("Newer", n));
    }

    // --- 3. a deleted user's older membership --------------------------------------------------------------------------

    [Fact]
    public async Task AnOlderMembershipOfADeletedUserDoesNotBringThemBackAsAGhost()
    {
        var org = await MirroredOrg();
        var sub = WorkOs.NewId("user");
        await _workos.DeliverOk(WorkOs.Envelope("user.created", WorkOs.User(sub, $"{sub}@example.com", updatedAt: T0.AddSeconds(1))));
        await _workos.DeliverOk(WorkOs.Envelope("user.deleted", WorkOs.User(sub, $"{sub}@example.com", updatedAt: T0.AddSeconds(5))));

        var outcome = await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created",
            WorkOs.Membership(WorkOs.NewId("om"), sub, org.WorkosId, updatedAt: T0.AddSeconds(2))));

        Assert.Equal("stale", outcome);
        Assert.DoesNotContain(await app.MembershipsOfAsync(org.Id), m => m.DeletedAt is null);
        Assert.Equal((0, 0), await CommunitySeats(org.Id));
    }

    [Fact]
    public async Task ADeletedUsersMembershipsMirroredBeforeTheUserWasKnownGoWithThem()
    {
        var org = await MirroredOrg();
        var sub = WorkOs.NewId("user");
        await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(WorkOs.NewId("om"), sub, org.WorkosId, updatedAt: T0.AddSeconds(2))));
        await _workos.DeliverOk(WorkOs.Envelope("user.deleted", WorkOs.User(sub, $"{sub}@example.com", updatedAt: T0.AddSeconds(5))));

        Assert.DoesNotContain(await app.MembershipsOfAsync(org.Id), m => m.DeletedAt is null);
        Assert.Equal((0, 0), await CommunitySeats(org.Id));
    }

    // --- 4. the membership before its invitation ----------------------------------------------------------------------

    [Fact]
    public async Task AnInvitationRevokedWhileItsResentEventIsInFlightStaysReleased()
    {
        // Found by the convergence property (seed 7441458037934874305, PostgreSQL): the release read and wrote the staged
        // seat without the locks the staging takes, so a resent (or created) event in flight extended it after the revoke.
        var org = await MirroredOrg(plan: "company_leader");
        await Task.WhenAll(Enumerable.Range(0, Pairs).Select(async _ =>
        {
            var invitation = WorkOs.NewId("invitation");
            var email = $"{WorkOs.NewId("user")}@example.com";
            Assert.Equal("applied", await _workos.DeliverOk(
                WorkOs.Envelope("invitation.created", WorkOs.Invitation(invitation, email, org.WorkosId, createdAt: T0.AddSeconds(1)))));
            var outcomes = await AtOnce(
                WorkOs.Envelope("invitation.resent", WorkOs.Invitation(invitation, email, org.WorkosId, createdAt: T0.AddSeconds(1))),
                WorkOs.Envelope("invitation.revoked", WorkOs.Invitation(invitation, email, org.WorkosId, "revoked", createdAt: T0.AddSeconds(1))));
            Assert.All(outcomes, o => Assert.Contains(o, new[] { "applied", "stale" }));
        }));

        Assert.Equal((0, 0), await CommunitySeats(org.Id));
    }

    [Fact]
    public async Task AMembershipArrivingBeforeItsInvitationEventsHoldsOneSeatNotTwo()
    {
        var org = await MirroredOrg();
        var sub = WorkOs.NewId("user");
        var email = $"{sub}@example.com";
        var invitation = WorkOs.NewId("invitation");
        // WorkOS's order: invited (T0+1), signed up (T0+2), accepted (T0+3), membership made (T0+4). Delivered: the membership first.
        var created = WorkOs.Envelope("invitation.created", WorkOs.Invitation(invitation, email, org.WorkosId, createdAt: T0.AddSeconds(1)));
        var user = WorkOs.Envelope("user.created", WorkOs.User(sub, email, updatedAt: T0.AddSeconds(2)));
        var accepted = WorkOs.Envelope("invitation.accepted",
            WorkOs.Invitation(invitation, email, org.WorkosId, "accepted", acceptedUserId: sub, createdAt: T0.AddSeconds(1)));
        var membership = WorkOs.Envelope("organization_membership.created", WorkOs.Membership(WorkOs.NewId("om"), sub, org.WorkosId, updatedAt: T0.AddSeconds(4)));

        foreach (var json in new[] { membership, created, user, accepted }) await _workos.DeliverOk(json);

        Assert.Equal((1, 0), await CommunitySeats(org.Id));
        Assert.Equal(MembershipStatus.Active, Assert.Single(await app.MembershipsOfAsync(org.Id), m => m.DeletedAt is null).Status);
    }

    [Fact]
    public async Task AReInvitationAfterARemovalKeepsItsSeatWhicheverOrderTheyArriveIn()
    {
        var org = await MirroredOrg();
        var sub = WorkOs.NewId("user");
        var email = $"{sub}@example.com";
        var om = WorkOs.NewId("om");
        await _workos.DeliverOk(WorkOs.Envelope("user.created", WorkOs.User(sub, email, updatedAt: T0)));
        // WorkOS's order: a member (T0+1), removed (T0+2), invited again (T0+3, still pending). Delivered: the removal last.
        await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(om, sub, org.WorkosId, updatedAt: T0.AddSeconds(1))));
        await _workos.DeliverOk(WorkOs.Envelope("invitation.created", WorkOs.Invitation(WorkOs.NewId("invitation"), email, org.WorkosId, createdAt: T0.AddSeconds(3))));
        await _workos.DeliverOk(WorkOs.Envelope("organization_membership.deleted",
            WorkOs.Membership(om, sub, org.WorkosId, updatedAt: T0.AddSeconds(2), createdAt: T0.AddSeconds(1))));

        Assert.Equal((0, 1), await CommunitySeats(org.Id));
    }

    // --- 5. freshness: ties, stale deletions --------------------------------------------------------------------------

    [Fact]
    public async Task ANewerMembershipOfThePersonWithTheSameTimeButALaterEventIdReplacesTheOlderOne()
    {
        var org = await MirroredOrg();
        var sub = WorkOs.NewId("user");
        await _workos.DeliverOk(WorkOs.Envelope("user.created", WorkOs.User(sub, $"{sub}@example.com", updatedAt: T0)));
        var (oldOm, newOm) = (WorkOs.NewId("om"), WorkOs.NewId("om"));
        var firstId = WorkOs.NextEventId();
        var secondId = WorkOs.NextEventId(); // same WorkOS time, later event: WorkOS's order puts it second
        var at = T0.AddSeconds(3);

        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(oldOm, sub, org.WorkosId, updatedAt: at), firstId)));
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created",
            WorkOs.Membership(newOm, sub, org.WorkosId, role: "admin", updatedAt: at), secondId)));

        var live = Assert.Single(await app.MembershipsOfAsync(org.Id), m => m.DeletedAt is null);
        Assert.Equal((newOm, "admin"), (live.WorkosMembershipId, live.Role));
    }

    [Fact]
    public async Task AnOlderDeletionOfALiveMembershipIsStaleAndChangesNothing()
    {
        var org = await MirroredOrg();
        var sub = WorkOs.NewId("user");
        var om = WorkOs.NewId("om");
        await _workos.DeliverOk(WorkOs.Envelope("user.created", WorkOs.User(sub, $"{sub}@example.com", updatedAt: T0)));
        await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(om, sub, org.WorkosId, updatedAt: T0.AddSeconds(1))));
        await _workos.DeliverOk(WorkOs.Envelope("organization_membership.updated", WorkOs.Membership(om, sub, org.WorkosId, role: "admin", updatedAt: T0.AddSeconds(3))));

        var outcome = await _workos.DeliverOk(WorkOs.Envelope("organization_membership.deleted", WorkOs.Membership(om, sub, org.WorkosId, updatedAt: T0.AddSeconds(2))));

        Assert.Equal("stale", outcome);
        var live = Assert.Single(await app.MembershipsOfAsync(org.Id), m => m.DeletedAt is null);
        Assert.Equal((MembershipStatus.Active, "admin"), (live.Status, live.Role));
    }

    // --- 6. bodies that are not UTF-8 ---------------------------------------------------------------------------------

    [Fact]
    public async Task ABodyThatIsNotUtf8IsRefusedEvenWhenTheBadBytesSitInAFieldTheEndpointIgnores()
    {
        var org = await _s.NewOrg();
        var joiner = RosterApp.NewUser("joiner");
        var request = await _s.RequestToJoin(org.Id, joiner);
        var body = new ByteArrayContent([.. "{\"a\":\""u8, 0xFF, 0xFE, .. "\"}"u8]);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        var response = await _s.As(org.Owner).PutAsync($"/api/organizations/{org.Id}/requests/{request}/approve", body);

        await response.ShouldBeProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal(MembershipStatus.Pending, (await app.MembershipsOfAsync(org.Id)).Single(m => m.Id == request).Status);
    }

    [Fact]
    public async Task ASignedWebhookThatIsNotUtf8IsRefusedAndNotRecorded()
    {
        var org = await MirroredOrg();
        var eventId = WorkOs.NextEventId();
        var json = WorkOs.Envelope("organization.updated", WorkOs.Organization(org.WorkosId, "Renamed", T0.AddSeconds(9)), eventId);
        byte[] bytes = [.. System.Text.Encoding.UTF8.GetBytes(json[..^1]), .. ",\"x\":\""u8, 0xC3, 0x28, .. "\"}"u8];
        var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/workos") { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("WorkOS-Signature",
            Roster.Infrastructure.WorkOs.WorkOsSignature.Header(WorkOs.WebhookSecret, DateTimeOffset.UtcNow, bytes));

        await (await _workos.SendAsync(request)).ShouldBeProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.False(await app.WithDbAsync(db => db.WebhookEvents.AnyAsync(e => e.EventId == eventId)));
        Assert.Equal("Acme", await app.WithDbAsync(db => db.Organizations.Where(o => o.Id == org.Id).Select(o => o.Name).SingleAsync()));
    }
}

public sealed class ConvergenceRegressionTestsOnSqlite(SqliteApp app) : ConvergenceRegressionTests(app), IClassFixture<SqliteApp>;

public sealed class ConvergenceRegressionTestsOnPostgres(PostgresApp app) : ConvergenceRegressionTests(app), IClassFixture<PostgresApp>;
