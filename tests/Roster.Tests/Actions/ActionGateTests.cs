using System.Net;
using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;
using Roster.Tests.Support;

namespace Roster.Tests.Actions;

/// <summary>
/// POST /webhooks/workos/actions over HTTP, every row of the allow/deny table of issue 15: sign-ins into an organization
/// go through the same seat gate as the webhook, registrations through an invitation are checked against its staged seat.
/// </summary>
public abstract class ActionGateTests(RosterApp app)
{
    private readonly Scenario _s = new(app);
    private readonly HttpClient _workos = app.ClientFor(null);

    private async Task<(string WorkosId, Guid Id)> MirroredOrg(string? plan = null, string name = "Acme")
    {
        var workosId = WorkOs.NewId("org");
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization.created", WorkOs.Organization(workosId, name))));
        var id = await app.WithDbAsync(db => db.Organizations.Where(o => o.WorkosOrganizationId == workosId).Select(o => o.Id).SingleAsync());
        if (plan is not null) await _s.SetPlan(id, plan);
        return (workosId, id);
    }

    /// <summary>An organization made in Roster that WorkOS also knows (as if linked by its organization.created).</summary>
    private async Task<string> LinkToWorkOs(Guid orgId)
    {
        var workosOrgId = WorkOs.NewId("org");
        await app.WithDbAsync(db => db.Organizations.Where(o => o.Id == orgId).ExecuteUpdateAsync(s => s.SetProperty(o => o.WorkosOrganizationId, workosOrgId)));
        return workosOrgId;
    }

    private static (string Id, string Email) Person()
    {
        var id = WorkOs.NewId("user");
        return (id, $"{id}@example.com");
    }

    private async Task<(int Active, int Reserved)> CommunitySeats(Guid orgId)
    {
        var seats = await (await _s.As(RosterApp.NewUser("platform", admin: true)).GetAsync($"/api/organizations/{orgId}/seats")).ShouldBe(HttpStatusCode.OK);
        var community = seats["seatTypes"]!.AsArray().Single(t => t!.Str("seatType") == "community_only")!;
        return (community["active"]!.GetValue<int>(), community["reserved"]!.GetValue<int>());
    }

    private Task<List<Membership>> Rows(Guid orgId) => app.MembershipsOfAsync(orgId);

    private Task<List<MembershipRefusal>> Refusals(Guid orgId) =>
        app.WithDbAsync(db => db.MembershipRefusals.AsNoTracking().Where(r => r.OrganizationId == orgId).OrderBy(r => r.At).ToListAsync());

    private Task<int> RefusalNotifications(Guid orgId) =>
        app.WithDbAsync(db => db.NotificationOutbox.CountAsync(n => n.Kind == "membership_refused" && n.Payload.Contains(orgId.ToString())));

    [Fact]
    public async Task ASignInIntoNoOrganizationIsAllowed()
    {
        var person = Person();
        var answer = await _workos.Act(WorkOsActions.Authentication(person.Id, person.Email));
        Assert.Equal(("authentication_action_response", "Allow", (string?)null), (answer.Object, answer.Verdict, answer.ErrorMessage));
    }

    [Fact]
    public async Task AnActiveMemberRosterKnowsIsAllowedAndNothingChanges()
    {
        var org = await MirroredOrg(plan: "individual_academic"); // one community seat, about to be taken
        var person = Person();
        var omId = WorkOs.NewId("om");
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(omId, person.Id, org.WorkosId))));
        var before = Assert.Single(await Rows(org.Id));

        var answer = await _workos.Act(WorkOsActions.Authentication(person.Id, person.Email, org.WorkosId, omId));

        Assert.Equal("Allow", answer.Verdict);
        var after = Assert.Single(await Rows(org.Id));
        Assert.Equal((before.Status, before.UpdatedAt, before.WorkosLastEventId), (after.Status, after.UpdatedAt, after.WorkosLastEventId));
        Assert.Empty(await Refusals(org.Id));
    }

    [Fact]
    public async Task SomeoneRosterNeverSawTakesAFreeSeatAtSignInAndTheWebhookThatFollowsTakesNoSecond()
    {
        var org = await MirroredOrg(plan: "individual_academic");
        var person = Person();
        var omId = WorkOs.NewId("om");
        var updatedAt = DateTime.UtcNow.AddSeconds(-30);

        var answer = await _workos.Act(WorkOsActions.Authentication(person.Id, person.Email, org.WorkosId, omId, role: "admin", membershipUpdatedAt: updatedAt));

        Assert.Equal("Allow", answer.Verdict);
        var row = Assert.Single(await Rows(org.Id));
        // Mirrored exactly as the webhook would have: same source, seat type and WorkOS ids.
        Assert.Equal(("active", "webhook", "community_only", "admin", omId, person.Id), (row.Status, row.Source, row.SeatType, row.Role, row.WorkosMembershipId, row.WorkosUserId));
        Assert.Equal((1, 0), await CommunitySeats(org.Id));

        // The organization is now full, yet the membership's own webhook applies on the seat it already holds.
        var outcome = await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(omId, person.Id, org.WorkosId, role: "admin", updatedAt: updatedAt)));
        Assert.Equal("applied", outcome);
        Assert.Equal(row.Id, Assert.Single(await Rows(org.Id)).Id);
        Assert.Equal((1, 0), await CommunitySeats(org.Id));
        Assert.Empty(await Refusals(org.Id));
    }

    [Fact]
    public async Task ASignInIntoAnOrganizationRosterNeverSawMirrorsTheOrganizationAsTheWebhookWould()
    {
        var workosOrgId = WorkOs.NewId("org");
        var person = Person();
        var answer = await _workos.Act(WorkOsActions.Authentication(person.Id, person.Email, workosOrgId, orgName: "Newcomer Ltd"));

        Assert.Equal("Allow", answer.Verdict);
        var org = await app.WithDbAsync(db => db.Organizations.SingleAsync(o => o.WorkosOrganizationId == workosOrgId));
        Assert.Equal("Newcomer Ltd", org.Name);
        Assert.Equal("active", Assert.Single(await Rows(org.Id)).Status);
    }

    [Fact]
    public async Task AMembershipTheWebhookRefusedTakesItsSeatAtSignInOnceThePlanHasRoom()
    {
        var org = await MirroredOrg(plan: "individual_professional"); // no community seats
        var person = Person();
        var omId = WorkOs.NewId("om");
        Assert.Equal("refused", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(omId, person.Id, org.WorkosId))));
        await _s.SetPlan(org.Id, "free");

        var answer = await _workos.Act(WorkOsActions.Authentication(person.Id, person.Email, org.WorkosId, omId));

        Assert.Equal("Allow", answer.Verdict);
        var row = Assert.Single(await Rows(org.Id));
        Assert.Equal(("active", "webhook", omId), (row.Status, row.Source, row.WorkosMembershipId));
    }

    [Fact]
    public async Task AFullOrganizationDeniesTheSignInNamingItRecordsTheDenialAndNotifiesTheAdminsOncePerWindow()
    {
        var org = await MirroredOrg(plan: "individual_professional", name: "Acme Rockets");
        var person = Person();
        var omId = WorkOs.NewId("om");
        var firstAction = WorkOsActions.NewActionId();

        var first = await _workos.Act(WorkOsActions.Authentication(person.Id, person.Email, org.WorkosId, omId, actionId: firstAction));
        var second = await _workos.Act(WorkOsActions.Authentication(person.Id, person.Email, org.WorkosId, omId));

        foreach (var answer in new[] { first, second })
        {
            Assert.Equal("Deny", answer.Verdict);
            Assert.Contains("Acme Rockets", answer.ErrorMessage);
            Assert.Contains("admin", answer.ErrorMessage);
            Assert.Contains("free a seat or buy more seats", answer.ErrorMessage);
        }
        Assert.Empty(await Rows(org.Id));
        var denials = await Refusals(org.Id);
        Assert.Equal(2, denials.Count);
        Assert.All(denials, d => Assert.Equal(("sign_in", person.Id, person.Email, "community_only", 0, 0), (d.Kind, d.WorkosUserId, d.Email, d.SeatType, d.Used, d.SeatLimit)));
        Assert.Equal(firstAction, denials[0].EventId);
        Assert.Equal((true, false), (denials[0].Notified, denials[1].Notified));
        Assert.Equal(1, await RefusalNotifications(org.Id));
        var payload = await app.WithDbAsync(db => db.NotificationOutbox.Where(n => n.DedupeKey == $"membership_refused:{firstAction}").Select(n => n.Payload).SingleAsync());
        Assert.Contains("\"via\":\"sign_in\"", payload);

        // Once the window (Seats__DenialNotifyMinutes, 60 by default) has passed, the next denial tells the admins again.
        await app.WithDbAsync(db => db.MembershipRefusals.Where(r => r.OrganizationId == org.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.At, r => r.At.AddMinutes(-61))));
        Assert.Equal("Deny", (await _workos.Act(WorkOsActions.Authentication(person.Id, person.Email, org.WorkosId, omId))).Verdict);
        Assert.Equal(2, await RefusalNotifications(org.Id));
    }

    [Fact]
    public async Task APendingOwnerAddIsAllowedInSoTheInviteeCanReachTheConsentPageButStaysPending()
    {
        var org = await _s.NewOrg(plan: "company_standard");
        var workosOrgId = await LinkToWorkOs(org.Id);
        var invitee = RosterApp.NewUser("invitee");
        var membershipId = await _s.Invite(org.Id, org.Owner, invitee);

        var answer = await _workos.Act(WorkOsActions.Authentication(invitee.Sub, invitee.Email, workosOrgId));

        Assert.Equal("Allow", answer.Verdict);
        var rows = (await Rows(org.Id)).Where(m => m.WorkosUserId == invitee.Sub || m.Id == membershipId).ToList();
        var row = Assert.Single(rows);
        Assert.Equal((membershipId, "pending", "owner_add"), (row.Id, row.Status, row.Source));
    }

    [Fact]
    public async Task ADeniedPersonWhoseAdminThenFreesASeatIsAllowedOnTheNextSignIn()
    {
        var local = await _s.NewOrg(plan: "individual_academic"); // one community seat; the founder holds a contributor one
        var org = (WorkosId: await LinkToWorkOs(local.Id), Id: local.Id, Owner: local.Owner);
        var holder = Person();
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(WorkOs.NewId("om"), holder.Id, org.WorkosId))));
        var person = Person();
        var omId = WorkOs.NewId("om");
        Assert.Equal("Deny", (await _workos.Act(WorkOsActions.Authentication(person.Id, person.Email, org.WorkosId, omId))).Verdict);

        // An admin frees the seat: the holder is removed through the API.
        var holderRow = Assert.Single(await Rows(org.Id), m => m.WorkosUserId == holder.Id);
        await (await _s.As(org.Owner).DeleteAsync($"/api/organizations/{org.Id}/members/{holderRow.Id}")).ShouldBe(HttpStatusCode.NoContent);

        var answer = await _workos.Act(WorkOsActions.Authentication(person.Id, person.Email, org.WorkosId, omId));

        Assert.Equal("Allow", answer.Verdict);
        Assert.Equal(("active", omId), (await Rows(org.Id)).Where(m => m.DeletedAt == null && m.WorkosUserId == person.Id).Select(m => (m.Status, m.WorkosMembershipId!)).Single());
        Assert.Equal((1, 0), await CommunitySeats(org.Id));
    }

    [Fact]
    public async Task FiftyConcurrentSignInsOfDifferentPeopleIntoFiveFreeSeatsAllowExactlyFive()
    {
        var org = await MirroredOrg(plan: "free"); // 5 community seats, none taken
        var people = Enumerable.Range(0, 50).Select(_ => Person()).ToList();

        var answers = await Task.WhenAll(people.Select(p => _workos.Act(WorkOsActions.Authentication(p.Id, p.Email, org.WorkosId))));

        Assert.Equal(5, answers.Count(a => a.Verdict == "Allow"));
        Assert.Equal(45, answers.Count(a => a.Verdict == "Deny"));
        Assert.Equal((5, 0), await CommunitySeats(org.Id));
        Assert.Equal(5, (await Rows(org.Id)).Count(m => m.Status == "active" && m.DeletedAt == null));
        Assert.Equal(45, (await Refusals(org.Id)).Count);
    }

    [Fact]
    public async Task AnInactiveOrPendingWorkOsMembershipIsLeftToWorkOsAndTakesNoSeat()
    {
        var org = await MirroredOrg(plan: "individual_professional");
        foreach (var status in new[] { "inactive", "pending" })
        {
            var person = Person();
            Assert.Equal("Allow", (await _workos.Act(WorkOsActions.Authentication(person.Id, person.Email, org.WorkosId, status: status))).Verdict);
        }
        Assert.Empty(await Rows(org.Id));
        Assert.Empty(await Refusals(org.Id));
    }

    [Fact]
    public async Task ASignInThroughAMembershipAnAdminRemovedIsDenied()
    {
        var org = await MirroredOrg();
        var person = Person();
        var omId = WorkOs.NewId("om");
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(omId, person.Id, org.WorkosId))));
        await app.WithDbAsync(db => db.Memberships.Where(m => m.WorkosMembershipId == omId).ExecuteUpdateAsync(s => s.SetProperty(m => m.DeletedAt, DateTime.UtcNow)));

        var answer = await _workos.Act(WorkOsActions.Authentication(person.Id, person.Email, org.WorkosId, omId));

        Assert.Equal("Deny", answer.Verdict);
        Assert.Contains("Acme", answer.ErrorMessage);
        Assert.NotNull(Assert.Single(await Rows(org.Id)).DeletedAt);
    }

    [Fact]
    public async Task ARegistrationWithoutAnInvitationIsAllowed()
    {
        var answer = await _workos.Act(WorkOsActions.Registration(Person().Email));
        Assert.Equal(("user_registration_action_response", "Allow"), (answer.Object, answer.Verdict));
    }

    [Fact]
    public async Task ARegistrationThroughAnInvitationIsAllowedOnItsStagedSeatAndDeniedWhenTheOrganizationIsFullWithoutOne()
    {
        var org = await MirroredOrg(plan: "individual_academic", name: "Staged & Co"); // one community seat
        var invitationId = WorkOs.NewId("invitation");
        var invited = Person();
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("invitation.created", WorkOs.Invitation(invitationId, invited.Email, org.WorkosId))));

        // The staged reservation fills the organization: its invitee gets in, someone invited past the cap does not.
        var staged = await _workos.Act(WorkOsActions.Registration(invited.Email, org.WorkosId, invitationId));
        var other = Person();
        var unstaged = await _workos.Act(WorkOsActions.Registration(other.Email, org.WorkosId));

        Assert.Equal("Allow", staged.Verdict);
        Assert.Equal("Deny", unstaged.Verdict);
        Assert.Contains("Staged & Co", unstaged.ErrorMessage);
        Assert.Contains("free a seat or buy more seats", unstaged.ErrorMessage);
        Assert.Equal((0, 1), await CommunitySeats(org.Id));
    }

    [Fact]
    public async Task ARegistrationThroughAnInvitationToAnOrganizationWithRoomIsAllowed()
    {
        var org = await MirroredOrg(plan: "free");
        Assert.Equal("Allow", (await _workos.Act(WorkOsActions.Registration(Person().Email, org.WorkosId))).Verdict);
    }

    [Fact]
    public async Task StaleForgedOrMissingSignaturesAreUnauthorizedAndChangeNothing()
    {
        var org = await MirroredOrg();
        var person = Person();
        var json = WorkOsActions.Authentication(person.Id, person.Email, org.WorkosId);

        await (await _workos.SendAsync(WorkOsActions.Signed(json, DateTimeOffset.UtcNow.AddSeconds(-31)))).ShouldBeProblem(HttpStatusCode.Unauthorized, "invalid_signature");
        await (await _workos.SendAsync(WorkOsActions.Signed(json, secret: "wos_someone_else"))).ShouldBeProblem(HttpStatusCode.Unauthorized, "invalid_signature");
        // The webhook secret is not the actions secret.
        await (await _workos.SendAsync(WorkOsActions.Signed(json, secret: WorkOs.WebhookSecret))).ShouldBeProblem(HttpStatusCode.Unauthorized, "invalid_signature");
        await (await _workos.SendRaw(HttpMethod.Post, WorkOsActions.Path, json)).ShouldBeProblem(HttpStatusCode.Unauthorized, "invalid_signature");
        var tampered = WorkOsActions.Signed(json);
        tampered.Content = new StringContent(json.Replace("\"active\"", "\"inactive\"", StringComparison.Ordinal), System.Text.Encoding.UTF8, "application/json");
        await (await _workos.SendAsync(tampered)).ShouldBeProblem(HttpStatusCode.Unauthorized, "invalid_signature");
        Assert.Empty(await Rows(org.Id));

        // Inside the SDK's 30 seconds it is accepted.
        using var recent = await _workos.SendAsync(WorkOsActions.Signed(json, DateTimeOffset.UtcNow.AddSeconds(-25)));
        Assert.Equal(HttpStatusCode.OK, recent.StatusCode);
        Assert.Equal("Allow", WorkOsActions.Read(await recent.Content.ReadAsStringAsync()).Verdict);
    }

    [Fact]
    public async Task MalformedContextsAreBadRequestsAndChangeNothing()
    {
        foreach (var json in new[]
                 {
                     "{not json", "[]", "{}", """{"id":"action_1","object":"something_else_context"}""",
                     """{"id":"action_1","object":"authentication_action_context"}""",
                     """{"id":"action_1","object":"authentication_action_context","user":{"email":"x@example.com"}}""",
                     """{"id":"action_1","object":"authentication_action_context","user":{"id":"user_1"},"organization":{"name":"No id"}}""",
                     """{"id":"action_1","object":"authentication_action_context","user":{"id":5}}""",
                     """{"object":"user_registration_action_context","user_data":{"email":"x@example.com"}}""",
                     """{"id":"action_1","object":"user_registration_action_context","user_data":{}}""",
                     """{"id":"action_\ud800","object":"user_registration_action_context","user_data":{"email":"x@example.com"}}""",
                 })
        {
            await (await _workos.SendAsync(WorkOsActions.Signed(json))).ShouldBeProblem(HttpStatusCode.BadRequest, "validation_failed");
        }
    }
}

public sealed class ActionGateTestsOnSqlite(SqliteApp app) : ActionGateTests(app), IClassFixture<SqliteApp>;

public sealed class ActionGateTestsOnPostgres(PostgresApp app) : ActionGateTests(app), IClassFixture<PostgresApp>;
