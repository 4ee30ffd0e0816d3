using System.Net;
using Microsoft.EntityFrameworkCore;
using Roster.Features.WorkOsSync;
using Roster.Cli;
using Roster.Infrastructure.Data;
using Microsoft.Extensions.DependencyInjection;
using Roster.Tests.Support;

namespace Roster.Tests.WorkOsSync;

public abstract class EventSyncTests(WorkOsSyncApp app)
{
    private readonly HttpClient _webhooks = app.ClientFor(null);
    private FakeWorkOs Fake => app.Fake;

    /// <summary>What Roster holds for one WorkOS organization, in the fake's terms: active om ids with their users and role slugs.</summary>
    private async Task<Dictionary<string, (string User, string[] Roles)>> RosterView(string workosOrgId) =>
        await app.WithDbAsync(async db =>
        {
            var orgId = await db.Organizations.Where(o => o.WorkosOrganizationId == workosOrgId).Select(o => o.Id).SingleAsync();
            var members = await db.Memberships.Where(m => m.OrganizationId == orgId && m.DeletedAt == null && m.Status == MembershipStatus.Active)
                .Select(m => new { m.WorkosMembershipId, m.WorkosUserId }).ToListAsync();
            var assignments = await db.RoleAssignments.Where(a => a.OrganizationId == orgId && a.DeletedAt == null).ToListAsync();
            var globals = await db.GlobalRoles.ToDictionaryAsync(r => RoleUrn.Global(r.Id), r => r.WorkosSlug);
            var own = await db.OrganizationRoles.Where(r => r.OrganizationId == orgId).ToDictionaryAsync(r => RoleUrn.Organization(r.Id), r => r.WorkosSlug);
            return members.ToDictionary(m => m.WorkosMembershipId!, m => (m.WorkosUserId!, assignments
                .Where(a => a.WorkosUserId == m.WorkosUserId)
                .Select(a => globals.TryGetValue(a.RoleUrn, out var g) ? g : own[a.RoleUrn])
                .Order(StringComparer.Ordinal).ToArray()));
        });

    private Dictionary<string, (string User, string[] Roles)> FakeView(string workosOrgId) =>
        Fake.Memberships.Where(m => m.OrganizationId == workosOrgId && m.Status == "active")
            .ToDictionary(m => m.Id, m => (m.UserId, m.RoleSlugs.Order(StringComparer.Ordinal).ToArray()));

    private static void AssertSame(Dictionary<string, (string User, string[] Roles)> expected, Dictionary<string, (string User, string[] Roles)> actual)
    {
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (id, (user, roles)) in expected)
        {
            Assert.Equal(user, actual[id].User);
            Assert.Equal(roles, actual[id].Roles);
        }
    }

    [Fact]
    public async Task WebhooksOutOfOrderDuplicatedAndLostThenASyncLeaveRosterEqualToWorkOs()
    {
        var editor = $"editor-{Guid.NewGuid():N}"[..15];
        var events = new List<string>
        {
            Fake.CreateRole(editor, "Editor", ["posts:write"]),
        };
        var (org, orgCreated) = Fake.CreateOrganization("Acme");
        events.Add(orgCreated);
        events.Add(Fake.CreateOrganizationRole(org, "org-billing", "Billing", ["billing:manage"]));
        var users = Enumerable.Range(0, 5).Select(i => Fake.CreateUser($"person{i}.{Guid.NewGuid():N}@example.com")).ToList();
        events.AddRange(users.Select(u => u.EventJson));
        var memberships = new List<string>();
        foreach (var (user, i) in users.Select((u, i) => (u.Id, i)))
        {
            var (om, json) = Fake.AddMembership(user, org, i == 0 ? ["admin"] : ["member"]);
            memberships.Add(om);
            events.Add(json);
        }
        events.Add(Fake.UpdateMembership(memberships[1], roleSlugs: ["member", "org-billing"]));
        events.Add(Fake.UpdateMembership(memberships[2], roleSlugs: [editor]));
        events.Add(Fake.UpdateMembership(memberships[3], status: "inactive"));
        events.Add(Fake.RemoveMembership(memberships[4]));
        events.Add(Fake.UpdateMembership(memberships[1], roleSlugs: ["admin", "org-billing"]));
        events.Add(Fake.UpdateOrganization(org, "Acme Industries"));

        // Deliver in a scrambled order, some twice, and lose every third one.
        var random = new Random(20261122);
        var delivered = events.Where((_, i) => i % 3 != 1).OrderBy(_ => random.Next()).ToList();
        delivered.AddRange(delivered.Take(4));
        foreach (var json in delivered) (await _webhooks.Deliver(json)).EnsureSuccessStatusCode();

        var environment = await app.SyncAsync(EventSync.EnvironmentKey);
        var organization = await app.SyncAsync(org);

        Assert.Null(environment.Error);
        Assert.Null(organization.Error);
        AssertSame(FakeView(org), await RosterView(org));
        Assert.Equal("Acme Industries", await app.WithDbAsync(db => db.Organizations.Where(o => o.WorkosOrganizationId == org).Select(o => o.Name).SingleAsync()));
        Assert.Contains(editor, await app.WithDbAsync(db => db.GlobalRoles.Where(r => r.DeletedAt == null).Select(r => r.WorkosSlug).ToListAsync()));
        Assert.Equal(["org-billing"], await app.WithDbAsync(db => db.OrganizationRoles
            .Where(r => r.DeletedAt == null && db.Organizations.Any(o => o.Id == r.OrganizationId && o.WorkosOrganizationId == org))
            .Select(r => r.WorkosSlug).ToListAsync()));
        // Every event was applied once, whichever path brought it.
        var recorded = await app.WithDbAsync(db => db.WebhookEvents.Select(e => e.EventId).ToListAsync());
        Assert.Equal(recorded.Count, recorded.Distinct().Count());
        Assert.Equal(Fake.Events.Where(e => e.Type.StartsWith("organization", StringComparison.Ordinal) && e.Json.Contains(org)).Select(e => e.Id).Max(StringComparer.Ordinal),
            await app.CursorAsync(org));
    }

    [Fact]
    public async Task TheEventsApiIsAskedOnlyForEventNamesWorkOsKnowsSoASyncAppliesInsteadOfFailing()
    {
        // WorkOS answers 400 invalid_events_request to a list naming one unknown event (there is no invitation.expired).
        var (org, _) = Fake.CreateOrganization("Real Names Inc");
        var (user, _) = Fake.CreateUser($"n.{Guid.NewGuid():N}@example.com");
        var (om, _) = Fake.AddMembership(user, org, ["member"]);
        var (invitation, _) = Fake.CreateInvitation($"i.{Guid.NewGuid():N}@example.com", org);
        var before = Fake.Requests.Count;

        var result = await app.SyncAsync(org);

        Assert.Null(result.Error);
        Assert.True(result.Applied >= 3);
        Assert.Contains(om, (await RosterView(org)).Keys);
        Assert.True(await app.WithDbAsync(db => db.SeatReservations.AnyAsync(r => r.WorkosInvitationId == invitation)));
        var asked = Fake.Requests.Skip(before).Where(r => r.Path == "/events").ToList();
        Assert.NotEmpty(asked);
        foreach (var request in asked)
        {
            var names = System.Web.HttpUtility.ParseQueryString(request.PathAndQuery.Split('?', 2)[1]).GetValues("events")!
                .SelectMany(v => v.Split(',')).ToList();
            Assert.Contains("invitation.created", names);
            Assert.All(names, name => Assert.Contains(name, FakeWorkOs.EventNames));
        }
    }

    [Fact]
    public async Task UserEventsWhoseWebhooksWereLostAreCaughtUpFromTheEventsApiWithTheirOwnCursor()
    {
        var (kept, _) = Fake.CreateUser($"kept.{Guid.NewGuid():N}@example.com", "Kay", "Old");
        Fake.UpdateUser(kept, firstName: "Kim");
        var (gone, _) = Fake.CreateUser($"gone.{Guid.NewGuid():N}@example.com", "Gus", "Away");
        Fake.DeleteUser(gone);

        var result = await app.SyncAsync(EventSync.UsersKey);

        Assert.Null(result.Error);
        Assert.Equal("Kim Old", await app.WithDbAsync(db => db.Users.Where(u => u.WorkosUserId == kept).Select(u => u.Name).SingleAsync()));
        Assert.False(await app.WithDbAsync(db => db.Users.AnyAsync(u => u.WorkosUserId == gone && u.DeletedAt == null)));
        Assert.Equal(Fake.Events.Where(e => e.Type.StartsWith("user.", StringComparison.Ordinal)).Select(e => e.Id).Max(StringComparer.Ordinal),
            await app.CursorAsync(EventSync.UsersKey));
        var asked = Fake.Requests.Last(r => r.Path == "/events");
        Assert.DoesNotContain("organization_id", asked.PathAndQuery);

        Fake.UpdateUser(kept, lastName: "New");
        var next = await app.SyncAsync(EventSync.UsersKey);
        Assert.Equal(1, next.Applied);
        Assert.Equal("Kim New", await app.WithDbAsync(db => db.Users.Where(u => u.WorkosUserId == kept).Select(u => u.Name).SingleAsync()));
    }

    [Fact]
    public async Task AReconciliationDiscoversOrganizationsWhoseCreatedWebhookWasLostPagingThroughTheList()
    {
        // More organizations than one page of List Organizations (100), none of them ever delivered to Roster.
        var unseen = Enumerable.Range(0, 101).Select(i => Fake.CreateOrganization($"Unseen {i}").Id).ToList();
        var last = unseen[^1];
        Fake.UpdateOrganization(last, "Unseen and renamed");
        var (user, _) = Fake.CreateUser($"d.{Guid.NewGuid():N}@example.com");
        var (om, _) = Fake.AddMembership(user, last, ["member"]);

        using (var scope = app.Services.CreateScope())
        {
            var results = await scope.ServiceProvider.GetRequiredService<EventSync>().SyncAllAsync(null, CancellationToken.None);
            Assert.All(results, r => Assert.Null(r.Error));
            Assert.True(results.Single(r => r.Key == EventSync.OrganizationListKey).Applied >= 101);
        }

        var mirrored = await app.WithDbAsync(db => db.Organizations.Where(o => unseen.Contains(o.WorkosOrganizationId!)).CountAsync());
        Assert.Equal(101, mirrored);
        Assert.Equal("Unseen and renamed", await app.WithDbAsync(db => db.Organizations.Where(o => o.WorkosOrganizationId == last).Select(o => o.Name).SingleAsync()));
        Assert.Contains(om, (await RosterView(last)).Keys);
        Assert.Contains(Fake.Requests, r => r.Path == "/organizations" && r.PathAndQuery.Contains("after="));
    }

    [Fact]
    public async Task TheWorkosSyncCommandAgainstTheStrictFakeAppliesMembershipUserAndOrganizationEventsAndAdvancesTheCursors()
    {
        Assert.True(Fake.Strict);
        var (org, _) = Fake.CreateOrganization("Cli Unseen");
        Fake.UpdateOrganization(org, "Cli Renamed");
        var (user, _) = Fake.CreateUser($"cli.{Guid.NewGuid():N}@example.com", "Cleo", "Line");
        Fake.UpdateUser(user, lastName: "Command");
        var (om, _) = Fake.AddMembership(user, org, ["admin"]);
        var output = new StringWriter();
        var error = new StringWriter();

        var exit = await RosterCommands.RunAsync(app.Services, ["workos", "sync"], output, error);

        Assert.True(exit == 0, $"exit {exit}\n{output}\n{error}");
        Assert.Equal("Cli Renamed", await app.WithDbAsync(db => db.Organizations.Where(o => o.WorkosOrganizationId == org).Select(o => o.Name).SingleAsync()));
        Assert.Equal("Cleo Command", await app.WithDbAsync(db => db.Users.Where(u => u.WorkosUserId == user).Select(u => u.Name).SingleAsync()));
        var membership = await app.WithDbAsync(db => db.Memberships.SingleAsync(m => m.WorkosMembershipId == om));
        Assert.Equal((MembershipStatus.Active, "admin"), (membership.Status, membership.Role));
        var lastOrgEvent = Fake.Events.Where(e => e.Json.Contains(org) && !e.Type.StartsWith("user.", StringComparison.Ordinal)).Select(e => e.Id).Max(StringComparer.Ordinal);
        Assert.Equal(lastOrgEvent, await app.CursorAsync(org));
        Assert.Equal(Fake.Events.Where(e => e.Type.StartsWith("user.", StringComparison.Ordinal)).Select(e => e.Id).Max(StringComparer.Ordinal),
            await app.CursorAsync(EventSync.UsersKey));
        Assert.Contains("(users)\t", output.ToString());
        Assert.Contains($"{org}\t", output.ToString());
        Assert.DoesNotContain(Fake.Requests, r => r.Path == "/events" && r.PathAndQuery.Contains("expired"));
    }

    [Fact]
    public async Task ASyncThatMeetsAWorkOsOutageKeepsItsCursorAndTheNextOneResumes()
    {
        var (org, created) = Fake.CreateOrganization("Outage Inc");
        (await _webhooks.Deliver(created)).EnsureSuccessStatusCode();
        var first = Fake.AddMembership(Fake.CreateUser($"a.{Guid.NewGuid():N}@example.com").Id, org, ["member"]).Id;
        Assert.Null((await app.SyncAsync(org)).Error);
        var cursor = await app.CursorAsync(org);
        Assert.NotNull(cursor);

        var second = Fake.AddMembership(Fake.CreateUser($"b.{Guid.NewGuid():N}@example.com").Id, org, ["member"]).Id;
        Fake.Down = true;
        var failed = await app.SyncAsync(org);
        Assert.NotNull(failed.Error);
        Assert.Equal(cursor, await app.CursorAsync(org));
        Assert.NotNull(await app.WithDbAsync(db => db.OrganizationSyncs.Where(s => s.WorkosOrganizationId == org).Select(s => s.LastError).SingleAsync()));

        Fake.Down = false;
        var resumed = await app.SyncAsync(org);
        Assert.Null(resumed.Error);
        Assert.Equal(1, resumed.Applied);
        Assert.Equal(0, resumed.Duplicates);
        Assert.Equal([first, second], (await RosterView(org)).Keys.Order(StringComparer.Ordinal));
        Assert.Equal(0, (await app.SyncAsync(org)).Applied);
    }

    [Fact]
    public async Task AReplayFromAGivenTimeAppliesNothingTwiceAndNeverMovesTheCursorBack()
    {
        var (org, created) = Fake.CreateOrganization("Replay Ltd");
        var user = Fake.CreateUser($"r.{Guid.NewGuid():N}@example.com").Id;
        var (om, added) = Fake.AddMembership(user, org, ["member"]);
        Assert.Null((await app.SyncAsync(org)).Error);
        var cursor = await app.CursorAsync(org);

        var replay = await app.SyncAsync(org, since: DateTime.UtcNow.AddHours(-1));

        Assert.Equal(0, replay.Applied);
        Assert.True(replay.Duplicates >= 2);
        Assert.Equal(cursor, await app.CursorAsync(org));
        Assert.Single((await RosterView(org)).Keys, om);
        _ = (created, added);
    }

    [Fact]
    public async Task TheWorkosSyncCommandSyncsOneOrganizationOrEverything()
    {
        var (org, created) = Fake.CreateOrganization("Command Co");
        (await _webhooks.Deliver(created)).EnsureSuccessStatusCode();
        var om = Fake.AddMembership(Fake.CreateUser($"c.{Guid.NewGuid():N}@example.com").Id, org, ["member"]).Id;
        var output = new StringWriter();
        var error = new StringWriter();

        Assert.Equal(0, await RosterCommands.RunAsync(app.Services, ["workos", "sync", "--org", org], output, error));
        Assert.Contains($"{org}\t1 applied", output.ToString());
        Assert.Contains(om, (await RosterView(org)).Keys);

        output = new StringWriter();
        Assert.Equal(0, await RosterCommands.RunAsync(app.Services, ["workos", "sync", "--since", DateTime.UtcNow.AddDays(-1).ToString("O")], output, error));
        Assert.Contains("(environment roles)", output.ToString());
        Assert.Contains($"{org}\t0 applied", output.ToString());
        Assert.Equal(2, await RosterCommands.RunAsync(app.Services, ["workos", "sync", "--bogus"], output, error));
    }

    [Fact]
    public async Task AStagedInvitationIsHonouredForAUserRosterHasNotHeardOfYet()
    {
        var (org, created) = Fake.CreateOrganization("Staged Co");
        (await _webhooks.Deliver(created)).EnsureSuccessStatusCode();
        var orgId = await app.WithDbAsync(db => db.Organizations.Where(o => o.WorkosOrganizationId == org).Select(o => o.Id).SingleAsync());
        await new Scenario(app).SetPlan(orgId, "individual_academic"); // one community_only seat
        var email = $"invitee.{Guid.NewGuid():N}@example.com";
        var (user, _) = Fake.CreateUser(email); // its user.created webhook never arrives
        Assert.Equal("applied", await _webhooks.DeliverOk(WorkOs.Envelope("invitation.created", WorkOs.Invitation(WorkOs.NewId("invitation"), email, org))));

        var (om, added) = Fake.AddMembership(user, org, ["member"]);

        Assert.Equal("applied", await _webhooks.DeliverOk(added));
        var row = await app.WithDbAsync(db => db.Memberships.SingleAsync(m => m.WorkosMembershipId == om));
        Assert.Equal(("active", "invitation"), (row.Status, row.Source));
    }

    [Fact]
    public async Task AUserSyncReadsTheUserFromWorkOsAndAppliesItOnce()
    {
        var (user, _) = Fake.CreateUser($"u.{Guid.NewGuid():N}@example.com", "Ursula", "Sync");
        using (var scope = app.Services.CreateScope())
        {
            var sync = scope.ServiceProvider.GetRequiredService<EventSync>();
            Assert.Equal(1, (await sync.SyncUserAsync(user, CancellationToken.None)).Applied);
            Assert.Equal(1, (await sync.SyncUserAsync(user, CancellationToken.None)).Duplicates);
            Fake.UpdateUser(user, firstName: "Ulla");
            Assert.Equal(1, (await sync.SyncUserAsync(user, CancellationToken.None)).Applied);
        }
        Assert.Equal("Ulla Sync", await app.WithDbAsync(db => db.Users.Where(u => u.WorkosUserId == user).Select(u => u.Name).SingleAsync()));
        Assert.NotNull(await app.WithDbAsync(db => db.UserSyncs.Where(s => s.WorkosUserId == user).Select(s => s.LastSyncedAt).SingleAsync()));
    }
}

public sealed class EventSyncTestsOnSqlite(WorkOsSyncSqliteApp app) : EventSyncTests(app), IClassFixture<WorkOsSyncSqliteApp>;

public sealed class EventSyncTestsOnPostgres(WorkOsSyncPostgresApp app) : EventSyncTests(app), IClassFixture<WorkOsSyncPostgresApp>;
