using System.Net;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;
using Roster.Tests.Support;

namespace Roster.Tests.Webhooks;

public abstract class WebhookIngestTests(RosterApp app)
{
    private readonly Scenario _s = new(app);
    private readonly HttpClient _workos = app.ClientFor(null);

    /// <summary>A WorkOS organization Roster knows through organization.created, optionally on a plan.</summary>
    private async Task<(string WorkosId, Guid Id)> MirroredOrg(string? plan = null)
    {
        var workosId = WorkOs.NewId("org");
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization.created", WorkOs.Organization(workosId, "Acme"))));
        var id = await app.WithDbAsync(db => db.Organizations.Where(o => o.WorkosOrganizationId == workosId).Select(o => o.Id).SingleAsync());
        if (plan is not null) await _s.SetPlan(id, plan);
        return (workosId, id);
    }

    private Task<List<Membership>> Rows(Guid orgId) => app.MembershipsOfAsync(orgId);

    [Fact]
    public async Task AnUnstagedActiveMembershipIsMirroredOnACommunitySeat()
    {
        var org = await MirroredOrg();
        var userId = WorkOs.NewId("user");
        var email = $"{userId}@example.com";
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("user.created", WorkOs.User(userId, email))));
        var omId = WorkOs.NewId("om");

        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(omId, userId, org.WorkosId, role: "admin"))));

        var row = Assert.Single(await Rows(org.Id));
        Assert.Equal(("active", "webhook", "community_only", "admin", omId), (row.Status, row.Source, row.SeatType, row.Role, row.WorkosMembershipId));
        Assert.NotNull(row.UserId);
        var listed = (await (await _s.As(RosterApp.NewUser("platform", admin: true)).GetAsync($"/api/organizations/{org.WorkosId}/members"))
            .ShouldBe(HttpStatusCode.OK)).AsArray();
        Assert.Equal(email, Assert.Single(listed)!.Str("email"));
    }

    [Fact]
    public async Task MembershipsOfTwoPeopleRosterHasNotSeenStayTwoLiveRows()
    {
        // Neither has a local user: the second must not be taken for a newer membership of the first person.
        var org = await MirroredOrg();
        foreach (var _ in new[] { 1, 2 })
            Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created",
                WorkOs.Membership(WorkOs.NewId("om"), WorkOs.NewId("user"), org.WorkosId))));

        var rows = await Rows(org.Id);
        Assert.Equal(2, rows.Count(r => r.DeletedAt == null && r.Status == "active"));
    }

    [Fact]
    public async Task ARepeatedDeliveryAnswersDuplicateAndChangesNothing()
    {
        var org = await MirroredOrg();
        var json = WorkOs.Envelope("organization_membership.created", WorkOs.Membership(WorkOs.NewId("om"), WorkOs.NewId("user"), org.WorkosId));

        Assert.Equal("applied", await _workos.DeliverOk(json));
        Assert.Equal("duplicate", await _workos.DeliverOk(json));
        var concurrent = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => _workos.DeliverOk(json)));

        Assert.All(concurrent, outcome => Assert.Equal("duplicate", outcome));
        Assert.Single(await Rows(org.Id));
    }

    [Fact]
    public async Task ConcurrentFirstDeliveriesOfOneEventApplyItOnce()
    {
        var org = await MirroredOrg();
        var json = WorkOs.Envelope("organization_membership.created", WorkOs.Membership(WorkOs.NewId("om"), WorkOs.NewId("user"), org.WorkosId));

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => _workos.DeliverOk(json)));

        Assert.Single(outcomes, o => o == "applied");
        Assert.All(outcomes.Where(o => o != "applied"), o => Assert.Equal("duplicate", o));
        Assert.Single(await Rows(org.Id));
    }

    [Fact]
    public async Task BadSignaturesAreUnauthorizedAndRecordNothing()
    {
        var org = await MirroredOrg();
        var eventId = WorkOs.NextEventId();
        var json = WorkOs.Envelope("organization_membership.created", WorkOs.Membership(WorkOs.NewId("om"), WorkOs.NewId("user"), org.WorkosId), eventId);

        await (await _workos.Deliver(json, secret: "whsec_someone_else")).ShouldBeProblem(HttpStatusCode.Unauthorized, "invalid_signature");
        await (await _workos.Deliver(json, signedAt: DateTimeOffset.UtcNow.AddSeconds(-181))).ShouldBeProblem(HttpStatusCode.Unauthorized, "invalid_signature");
        await (await _workos.SendRaw(HttpMethod.Post, "/webhooks/workos", json)).ShouldBeProblem(HttpStatusCode.Unauthorized, "invalid_signature");
        var tampered = WorkOs.SignedRequest(json);
        tampered.Content = new StringContent(json.Replace("\"active\"", "\"inactive\""), Encoding.UTF8, "application/json");
        await (await _workos.SendAsync(tampered)).ShouldBeProblem(HttpStatusCode.Unauthorized, "invalid_signature");
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var good = WorkOs.SignedRequest(json).Headers.GetValues("WorkOS-Signature").Single();
        var hex = good[(good.IndexOf("v1=", StringComparison.Ordinal) + 3)..];
        foreach (var header in new[] { "t=abc, v1=00", "v1=" + new string('a', 64), "garbage", $"t={now}, v1=zz",
                     // The SDK compares lower-case hex and reads the timestamp first, the signature second.
                     good.Replace(hex, hex.ToUpperInvariant()), $"v1={hex}, {good.Split(',')[0]}" })
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/workos") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
            request.Headers.TryAddWithoutValidation("WorkOS-Signature", header);
            var problem = await (await _workos.SendAsync(request)).ShouldBeProblem(HttpStatusCode.Unauthorized, "invalid_signature");
            Assert.Null(problem["detail"]);
        }

        Assert.False(await app.WithDbAsync(db => db.WebhookEvents.AnyAsync(e => e.EventId == eventId)));
        Assert.Empty(await Rows(org.Id));
    }

    [Fact]
    public async Task ASignatureStampedAheadOfOurClockIsAcceptedAsWorkOsSdkAcceptsIt()
    {
        // @workos-inc/node refuses only timestamps older than the tolerance; a sender whose clock runs ahead is not refused.
        var org = await MirroredOrg();
        var json = WorkOs.Envelope("organization_membership.created", WorkOs.Membership(WorkOs.NewId("om"), WorkOs.NewId("user"), org.WorkosId));

        Assert.Equal("applied", (await (await _workos.Deliver(json, signedAt: DateTimeOffset.UtcNow.AddMinutes(10))).ShouldBe(HttpStatusCode.OK)).Str("outcome"));
        Assert.Single(await Rows(org.Id));
    }

    [Fact]
    public async Task MalformedEventsAreBadRequestsAndUnknownTypesAreIgnoredButRecorded()
    {
        foreach (var json in new[] { "{not json", "[]", "{}", """{"id":"event_1","event":"user.created"}""", """{"id":"","event":"x","data":{}}""",
                     """{"id":"event_2","event":"user.created","data":"nope"}""", """{"id":5,"event":"user.created","data":{}}""" })
            await (await _workos.Deliver(json)).ShouldBeProblem(HttpStatusCode.BadRequest, "validation_failed");
        // A handled type whose data lacks what the handler needs is malformed too, and is not recorded.
        var missingUser = WorkOs.NextEventId();
        await (await _workos.Deliver(WorkOs.Envelope("organization_membership.created", new { id = "om_1", organization_id = "org_1", status = "active" }, missingUser)))
            .ShouldBeProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.False(await app.WithDbAsync(db => db.WebhookEvents.AnyAsync(e => e.EventId == missingUser)));

        var unknown = WorkOs.NextEventId();
        Assert.Equal("ignored", await _workos.DeliverOk(WorkOs.Envelope("dsync.user.created", new { id = "directory_user_1" }, unknown)));
        var recorded = await app.WithDbAsync(db => db.WebhookEvents.SingleAsync(e => e.EventId == unknown));
        Assert.Equal(("dsync.user.created", "ignored"), (recorded.Type, recorded.Outcome));
    }

    [Fact]
    public async Task AStringThatIsNotValidUtf16IsMalformedNotAServerError()
    {
        // "\ud800" is well-formed JSON text but no string (a lone surrogate); found by the fuzz tests (Reliability/FuzzTests).
        var inEnvelope = """{"id":"event_\ud800","event":"user.created","data":{"id":"user_x","email":"x@example.com"}}""";
        var inType = $$$"""{"id":"{{{WorkOs.NextEventId()}}}","event":"user.\udfff","data":{}}""";
        var inDataId = WorkOs.NextEventId();
        var inData = $$$"""{"id":"{{{inDataId}}}","event":"user.created","data":{"id":"user_\ud800","email":"lone@example.com"}}""";
        foreach (var json in new[] { inEnvelope, inType, inData })
            await (await _workos.Deliver(json)).ShouldBeProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.False(await app.WithDbAsync(db => db.WebhookEvents.AnyAsync(e => e.EventId == inDataId)));
    }

    [Fact]
    public async Task ABodyOverOneMebibyteIsTooLarge()
    {
        var json = WorkOs.Envelope("user.created", new { id = "user_big", email = "big@example.com", padding = new string('x', 1024 * 1024) });
        await (await _workos.Deliver(json)).ShouldBeProblem(HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
    }

    [Fact]
    public async Task AnUnstagedAddOverTheSeatLimitIsRefusedRecordedAndReportedButNotMirrored()
    {
        var org = await MirroredOrg(plan: "individual_professional"); // no community_only seats
        var userId = WorkOs.NewId("user");
        var eventId = WorkOs.NextEventId();

        Assert.Equal("refused", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(WorkOs.NewId("om"), userId, org.WorkosId), eventId)));

        Assert.Empty(await Rows(org.Id));
        var refusal = await app.WithDbAsync(db => db.MembershipRefusals.SingleAsync(r => r.OrganizationId == org.Id));
        Assert.Equal((userId, "community_only", "seat_limit_reached", eventId), (refusal.WorkosUserId, refusal.SeatType, refusal.Reason, refusal.EventId));
        var outbox = await app.WithDbAsync(db => db.NotificationOutbox.SingleAsync(n => n.DedupeKey == $"membership_refused:{eventId}"));
        Assert.Equal("membership_refused", outbox.Kind);
        Assert.Contains(userId, outbox.Payload);
        Assert.Equal("refused", await app.WithDbAsync(db => db.WebhookEvents.Where(e => e.EventId == eventId).Select(e => e.Outcome).SingleAsync()));
    }

    [Fact]
    public async Task AStagedInvitationLetsItsMembershipInWithoutASecondCheck()
    {
        var org = await MirroredOrg(plan: "individual_academic"); // exactly one community_only seat
        var invited = WorkOs.NewId("user");
        var email = $"{invited}@example.com";
        var invitationId = WorkOs.NewId("invitation");
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("invitation.created", WorkOs.Invitation(invitationId, email, org.WorkosId))));

        // The one seat is reserved: a stranger's un-staged add is refused...
        Assert.Equal("refused", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(WorkOs.NewId("om"), WorkOs.NewId("user"), org.WorkosId))));
        // ...while the invitee, matched by the accepted invitation's user id, takes the staged seat.
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("invitation.accepted", WorkOs.Invitation(invitationId, email, org.WorkosId, "accepted", acceptedUserId: invited))));
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(WorkOs.NewId("om"), invited, org.WorkosId))));

        var row = Assert.Single(await Rows(org.Id));
        Assert.Equal(("active", "invitation", "community_only"), (row.Status, row.Source, row.SeatType));
        var seats = await (await _s.As(RosterApp.NewUser("platform", admin: true)).GetAsync($"/api/organizations/{org.Id}/seats")).ShouldBe(HttpStatusCode.OK);
        var community = seats["seatTypes"]!.AsArray().Single(t => t!.Str("seatType") == "community_only")!;
        Assert.Equal((1, 0), (community["active"]!.GetValue<int>(), community["reserved"]!.GetValue<int>()));
    }

    [Fact]
    public async Task AReservationMatchesByTheEmailOfTheLocalUser()
    {
        var org = await MirroredOrg(plan: "individual_academic");
        var userId = WorkOs.NewId("user");
        var email = $"{userId}@example.com";
        await _workos.DeliverOk(WorkOs.Envelope("user.created", WorkOs.User(userId, email.ToUpperInvariant())));
        await _workos.DeliverOk(WorkOs.Envelope("invitation.created", WorkOs.Invitation(WorkOs.NewId("invitation"), email, org.WorkosId)));

        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(WorkOs.NewId("om"), userId, org.WorkosId))));
        Assert.Equal("invitation", Assert.Single(await Rows(org.Id)).Source);
    }

    [Fact]
    public async Task ARevokedInvitationReleasesItsSeatAndAReplayedCreateDoesNotStageItAgain()
    {
        var org = await MirroredOrg(plan: "individual_academic");
        var invitationId = WorkOs.NewId("invitation");
        var email = $"{invitationId}@example.com";
        var created = WorkOs.Envelope("invitation.created", WorkOs.Invitation(invitationId, email, org.WorkosId));
        await _workos.DeliverOk(created);

        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("invitation.revoked", WorkOs.Invitation(invitationId, email, org.WorkosId, "revoked"))));
        Assert.Equal("stale", await _workos.DeliverOk(WorkOs.Envelope("invitation.created", WorkOs.Invitation(invitationId, email, org.WorkosId))));

        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(WorkOs.NewId("om"), WorkOs.NewId("user"), org.WorkosId))));
    }

    [Fact]
    public async Task AResentInvitationExtendsItsReservationAndItsSeatIsFreedWhenItExpires()
    {
        var org = await MirroredOrg(plan: "individual_academic");
        var invitationId = WorkOs.NewId("invitation");
        var email = $"{invitationId}@example.com";
        await _workos.DeliverOk(WorkOs.Envelope("invitation.created", WorkOs.Invitation(invitationId, email, org.WorkosId, expiresAt: DateTime.UtcNow.AddDays(1))));
        var later = DateTime.UtcNow.AddDays(7);

        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("invitation.resent", WorkOs.Invitation(invitationId, email, org.WorkosId, expiresAt: later))));
        var expires = await app.WithDbAsync(db => db.SeatReservations.Where(r => r.WorkosInvitationId == invitationId).Select(r => r.ExpiresAt).SingleAsync());
        Assert.True(expires > DateTime.UtcNow.AddDays(6));

        // WorkOS has no invitation.expired event: such a delivery is not one of ours; the reservation ends at its expires_at.
        Assert.Equal("ignored", await _workos.DeliverOk(WorkOs.Envelope("invitation.expired", WorkOs.Invitation(invitationId, email, org.WorkosId, "expired"))));
        Assert.Equal("refused", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(WorkOs.NewId("om"), WorkOs.NewId("user"), org.WorkosId))));
        await app.WithDbAsync(db => db.SeatReservations.Where(r => r.WorkosInvitationId == invitationId)
            .ExecuteUpdateAsync(u => u.SetProperty(r => r.ExpiresAt, DateTime.UtcNow.AddSeconds(-1))));
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(WorkOs.NewId("om"), WorkOs.NewId("user"), org.WorkosId))));
    }

    [Fact]
    public async Task AnOlderOrReplayedEventNeverOverwritesNewerState()
    {
        var org = await MirroredOrg();
        var omId = WorkOs.NewId("om");
        var userId = WorkOs.NewId("user");
        var t0 = DateTime.UtcNow.AddMinutes(-10);
        var firstId = WorkOs.NextEventId();
        var laterId = WorkOs.NextEventId();
        await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(omId, userId, org.WorkosId, role: "member", updatedAt: t0), firstId));
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.updated", WorkOs.Membership(omId, userId, org.WorkosId, role: "admin", updatedAt: t0.AddMinutes(2)), laterId)));

        Assert.Equal("stale", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.updated", WorkOs.Membership(omId, userId, org.WorkosId, role: "owner", updatedAt: t0.AddMinutes(1)))));
        // Same updated_at, an id that sorts before the applied one: also stale.
        var earlierId = $"event_{DateTime.UtcNow.AddDays(-1).Ticks:D19}0000000";
        Assert.Equal("stale", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.updated", WorkOs.Membership(omId, userId, org.WorkosId, role: "owner", updatedAt: t0.AddMinutes(2)), earlierId)));

        var row = Assert.Single(await Rows(org.Id));
        Assert.Equal(("admin", laterId), (row.Role, row.WorkosLastEventId));
    }

    [Fact]
    public async Task ADeletedMembershipIsTombstonedAndAReplayedCreateCannotResurrectIt()
    {
        var org = await MirroredOrg();
        var omId = WorkOs.NewId("om");
        var userId = WorkOs.NewId("user");
        var created = WorkOs.Envelope("organization_membership.created", WorkOs.Membership(omId, userId, org.WorkosId, updatedAt: DateTime.UtcNow.AddMinutes(-5)));
        await _workos.DeliverOk(created);

        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.deleted", WorkOs.Membership(omId, userId, org.WorkosId))));
        Assert.Equal("stale", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(omId, userId, org.WorkosId, updatedAt: DateTime.UtcNow.AddMinutes(-5)))));

        var row = Assert.Single(await Rows(org.Id));
        Assert.NotNull(row.DeletedAt);
    }

    [Fact]
    public async Task ADeleteArrivingBeforeItsCreateLeavesATombstoneTheCreateCannotPass()
    {
        var org = await MirroredOrg();
        var omId = WorkOs.NewId("om");
        var userId = WorkOs.NewId("user");

        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.deleted", WorkOs.Membership(omId, userId, org.WorkosId))));
        Assert.Equal("stale", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(omId, userId, org.WorkosId, updatedAt: DateTime.UtcNow.AddMinutes(-1)))));

        Assert.All(await Rows(org.Id), r => Assert.NotNull(r.DeletedAt));
    }

    [Fact]
    public async Task AMembershipForAnUnknownUserIsLinkedWhenTheUserAppears()
    {
        var org = await MirroredOrg();
        var viaEvent = WorkOs.NewId("user");
        var viaLogin = RosterApp.NewUser("login");
        await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(WorkOs.NewId("om"), viaEvent, org.WorkosId)));
        await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(WorkOs.NewId("om"), viaLogin.Sub, org.WorkosId)));
        Assert.All(await Rows(org.Id), r => Assert.Null(r.UserId));

        await _workos.DeliverOk(WorkOs.Envelope("user.created", WorkOs.User(viaEvent, $"{viaEvent}@example.com")));
        var loginUserId = await _s.UserIdOf(viaLogin);

        var rows = await Rows(org.Id);
        Assert.NotNull(rows.Single(r => r.WorkosUserId == viaEvent).UserId);
        Assert.Equal(loginUserId, rows.Single(r => r.WorkosUserId == viaLogin.Sub).UserId);
        // The person who signed in now sees the organization they were added to in WorkOS.
        await (await _s.As(viaLogin).GetAsync($"/api/organizations/{org.Id}/members")).ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task AWebhookNeverActivatesAPendingOwnerAdd()
    {
        var org = await _s.NewOrg();
        var workosOrgId = WorkOs.NewId("org");
        await app.WithDbAsync(db => db.Organizations.Where(o => o.Id == org.Id).ExecuteUpdateAsync(s => s.SetProperty(o => o.WorkosOrganizationId, workosOrgId)));
        var invitee = RosterApp.NewUser("invitee");
        var membershipId = await _s.Invite(org.Id, org.Owner, invitee);

        Assert.Equal("ignored", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(WorkOs.NewId("om"), invitee.Sub, workosOrgId))));

        Assert.Equal("pending", (await Rows(org.Id)).Single(m => m.Id == membershipId).Status);
        await _s.Accept(invitee, membershipId);
    }

    [Fact]
    public async Task ANonActiveStatusRemovesTheActiveRowAndFreesTheSeat()
    {
        var org = await MirroredOrg();
        var omId = WorkOs.NewId("om");
        var userId = WorkOs.NewId("user");
        await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(omId, userId, org.WorkosId, updatedAt: DateTime.UtcNow.AddMinutes(-1))));

        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.updated", WorkOs.Membership(omId, userId, org.WorkosId, status: "inactive"))));

        Assert.Equal("inactive", Assert.Single(await Rows(org.Id)).Status);
        var listed = (await (await _s.As(RosterApp.NewUser("platform", admin: true)).GetAsync($"/api/organizations/{org.Id}/members")).ShouldBe(HttpStatusCode.OK)).AsArray();
        Assert.Empty(listed);
    }

    [Fact]
    public async Task UsersAndOrganizationsFollowTheirNewestEvent()
    {
        var org = await MirroredOrg();
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization.updated", WorkOs.Organization(org.WorkosId, "Acme Renamed", DateTime.UtcNow.AddMinutes(1)))));
        Assert.Equal("stale", await _workos.DeliverOk(WorkOs.Envelope("organization.updated", WorkOs.Organization(org.WorkosId, "Acme Old", DateTime.UtcNow.AddMinutes(-30)))));
        Assert.Equal("Acme Renamed", await app.WithDbAsync(db => db.Organizations.Where(o => o.Id == org.Id).Select(o => o.Name).SingleAsync()));

        var userId = WorkOs.NewId("user");
        await _workos.DeliverOk(WorkOs.Envelope("user.created", WorkOs.User(userId, $"{userId}@example.com", "Bob", "Stone", updatedAt: DateTime.UtcNow.AddMinutes(-5))));
        await _workos.DeliverOk(WorkOs.Envelope("user.updated", WorkOs.User(userId, $"new.{userId}@example.com", "Robert", "Stone")));
        Assert.Equal("stale", await _workos.DeliverOk(WorkOs.Envelope("user.updated", WorkOs.User(userId, $"{userId}@example.com", "Bob", "Stone", updatedAt: DateTime.UtcNow.AddMinutes(-4)))));
        var user = await app.WithDbAsync(db => db.Users.SingleAsync(u => u.WorkosUserId == userId));
        Assert.Equal(($"new.{userId}@example.com".ToLowerInvariant(), "Robert Stone"), (user.Email, user.Name));

        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("user.deleted", WorkOs.User(userId, $"new.{userId}@example.com"))));
        Assert.Equal("stale", await _workos.DeliverOk(WorkOs.Envelope("user.created", WorkOs.User(userId, $"{userId}@example.com"))));
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization.deleted", WorkOs.Organization(org.WorkosId, "Acme Renamed"))));
        Assert.Equal("stale", await _workos.DeliverOk(WorkOs.Envelope("organization.created", WorkOs.Organization(org.WorkosId, "Acme"))));
        await (await _s.As(RosterApp.NewUser("platform", admin: true)).GetAsync($"/api/organizations/{org.WorkosId}/members")).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task AHundredConcurrentUnstagedAddsIntoFiveFreeSeatsMirrorFiveAndReportTheRest()
    {
        var org = await MirroredOrg(); // free: 5 community_only seats
        var events = Enumerable.Range(0, 100)
            .Select(_ => WorkOs.Envelope("organization_membership.created", WorkOs.Membership(WorkOs.NewId("om"), WorkOs.NewId("user"), org.WorkosId)))
            .ToList();

        var outcomes = await Task.WhenAll(events.Select(json => _workos.DeliverOk(json)));

        Assert.Equal(5, outcomes.Count(o => o == "applied"));
        Assert.Equal(95, outcomes.Count(o => o == "refused"));
        Assert.Equal(5, (await Rows(org.Id)).Count(r => r.Status == "active"));
        Assert.Equal(95, await app.WithDbAsync(db => db.MembershipRefusals.CountAsync(r => r.OrganizationId == org.Id)));
        var kinds = await app.WithDbAsync(db => db.NotificationOutbox.Where(n => n.Payload.Contains(org.Id.ToString())).Select(n => n.Kind).ToListAsync());
        Assert.Equal(95, kinds.Count(k => k == "membership_refused"));
        // Crossing 80% (4 of 5) and 100% each warned once.
        Assert.Equal(2, kinds.Count(k => k == "seat_warning"));
    }

    [Fact]
    public async Task AUserDeletedInWorkOsGivesTheirSeatsBackAndReArmsTheWarningsAsAMembershipDeletionDoes()
    {
        var org = await MirroredOrg(); // free: 5 community_only seats
        var users = new List<string>();
        async Task Add()
        {
            var user = WorkOs.NewId("user");
            users.Add(user);
            Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(WorkOs.NewId("om"), user, org.WorkosId))));
        }
        Task<List<string>> Warnings() => app.WithDbAsync(db => db.NotificationOutbox
            .Where(n => n.Kind == "seat_warning" && n.Payload.Contains(org.Id.ToString())).OrderBy(n => n.CreatedAt).Select(n => n.Payload).ToListAsync());
        for (var i = 0; i < 5; i++) await Add();          // 100%: warned at 80% and at 100%
        Assert.Equal(2, (await Warnings()).Count);
        var deleted = users.Take(3).ToList();
        foreach (var user in deleted)                     // 40%: the warnings re-arm
            Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("user.deleted", WorkOs.User(user, $"{user}@example.com"))));
        var assignments = await app.WithDbAsync(db => db.RoleAssignments.Where(a => deleted.Contains(a.WorkosUserId!) && a.DeletedAt == null).CountAsync());
        Assert.Equal(0, assignments);

        await Add(); await Add();                         // 80% again: a new crossing
        var warnings = await Warnings();
        Assert.Equal(3, warnings.Count);
        Assert.Contains("\"thresholdPercent\":80", warnings[2]);
    }

    [Fact]
    public async Task SeatWarningsFireOncePerRisingCrossingAndRearmBelowSixtyPercent()
    {
        var org = await MirroredOrg(); // free: 5 community_only seats
        var members = new List<(string Om, string User)>();
        async Task Add()
        {
            var m = (WorkOs.NewId("om"), WorkOs.NewId("user"));
            members.Add(m);
            Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(m.Item1, m.Item2, org.WorkosId))));
        }
        async Task Remove()
        {
            var m = members[^1];
            members.RemoveAt(members.Count - 1);
            Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.deleted", WorkOs.Membership(m.Om, m.User, org.WorkosId))));
        }
        Task<List<string>> Warnings() => app.WithDbAsync(db => db.NotificationOutbox
            .Where(n => n.Kind == "seat_warning" && n.Payload.Contains(org.Id.ToString())).OrderBy(n => n.CreatedAt).Select(n => n.Payload).ToListAsync());

        for (var i = 0; i < 3; i++) await Add();        // 60%
        Assert.Empty(await Warnings());
        await Add();                                      // 80%
        await Remove();                                   // 60%: not re-armed
        await Add();                                      // 80% again
        Assert.Single(await Warnings());
        await Add();                                      // 100%
        Assert.Equal(2, (await Warnings()).Count);
        await Remove(); await Remove(); await Remove();   // 40%: re-armed
        await Add(); await Add();                         // 80%
        var warnings = await Warnings();
        Assert.Equal(3, warnings.Count);
        Assert.Contains("\"thresholdPercent\":80", warnings[2]);
    }
}

public sealed class WebhookIngestTestsOnSqlite(SqliteApp app) : WebhookIngestTests(app), IClassFixture<SqliteApp>;

public sealed class WebhookIngestTestsOnPostgres(PostgresApp app) : WebhookIngestTests(app), IClassFixture<PostgresApp>;
