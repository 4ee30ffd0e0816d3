using System.Net;
using Microsoft.EntityFrameworkCore;
using Roster.Features.WorkOsSync;
using Roster.Infrastructure.Data;
using Roster.Tests.Support;
using Roster.Infrastructure.WorkOs;

namespace Roster.Tests.WorkOsSync;

/// <summary>
/// Roster with Roster's roles mapped onto WorkOS slugs: <c>owner</c> is written as WorkOS's <c>admin</c>, and <c>admin</c> as
/// <c>administrator</c> (a role this WorkOS environment does not have, for the unknown-slug error).
/// </summary>
public abstract class WorkOsMappedApp(StorageProvider provider) : WorkOsSyncApp(provider)
{
    protected override void Adjust(Dictionary<string, string?> settings)
    {
        settings["WorkOS:RoleSlugs:owner"] = "admin";
        settings["WorkOS:RoleSlugs:admin"] = "administrator";
    }
}

public sealed class WorkOsMappedSqliteApp() : WorkOsMappedApp(StorageProvider.Sqlite);

public sealed class WorkOsMappedPostgresApp() : WorkOsMappedApp(StorageProvider.Postgres);

/// <summary>The outbound writes against the strict fake: idempotency, "already exists", role slugs and the delete lookup.</summary>
public abstract class OutboundWireTests(WorkOsSyncApp app)
{
    private readonly Scenario _s = new(app);
    private readonly HttpClient _webhooks = app.ClientFor(null);
    private FakeWorkOs Fake => app.Fake;

    private readonly WorkOsScenario _workos = new(app);

    private Task<(string WorkosOrg, Guid OrgId, TestUser Owner)> SharedOrg() => _workos.SharedOrg("Wire Ltd");

    private Task<TestUser> WorkOsUser(string name) => _workos.WorkOsUser(name);

    private Task<NotificationOutboxRow> Row(string kind, Guid membershipId) =>
        app.WithDbAsync(db => db.NotificationOutbox.Where(n => n.Kind == kind && n.Payload.Contains(membershipId.ToString())).OrderBy(n => n.CreatedAt).LastAsync());

    private Task MakeDue(Guid rowId) =>
        app.WithDbAsync(db => db.NotificationOutbox.Where(n => n.Id == rowId).ExecuteUpdateAsync(s => s.SetProperty(n => n.NextAttemptAt, DateTime.UtcNow.AddSeconds(-1))));

    [Fact]
    public async Task ACreateWhoseAnswerWasLostIsRetriedUnderTheSameIdempotencyKeyAndMakesOneMembership()
    {
        var org = await SharedOrg();
        var invitee = await WorkOsUser("lost");
        var membershipId = await _s.AddActive(org.OrgId, org.Owner, invitee);
        var row = await Row(OutboundKinds.CreateMembership, membershipId);

        // The first try and its in-call retry both reach WorkOS, and both answers are lost on the way back.
        Fake.LoseNextAnswers(2);
        await app.DispatchOutboxAsync();
        Assert.Null((await Row(OutboundKinds.CreateMembership, membershipId)).SentAt);
        await MakeDue(row.Id);
        await app.DispatchOutboxAsync();

        var created = Assert.Single(Fake.Memberships, m => m.UserId == invitee.Sub);
        Assert.Single(Fake.Events, e => e.Type == "organization_membership.created" && e.Json.Contains(created.Id));
        Assert.Equal(created.Id, (await app.MembershipsOfAsync(org.OrgId)).Single(m => m.Id == membershipId).WorkosMembershipId);
        var posts = Fake.Requests.Where(r => r.Method == "POST" && r.Body.Contains(invitee.Sub)).ToList();
        Assert.Equal(3, posts.Count);
        Assert.All(posts, p => Assert.Equal(WorkOsOutboundSender.IdempotencyKey(row), p.Header("Idempotency-Key")));
    }

    [Theory]
    [InlineData(400, "pending")]
    [InlineData(409, "active")]
    [InlineData(422, "pending")]
    public async Task ACreateForSomeoneWorkOsAlreadyHasLinksTheirMembershipWhateverTheRefusalSays(int status, string existingStatus)
    {
        var org = await SharedOrg();
        var invitee = await WorkOsUser("already");
        var membershipId = await _s.AddActive(org.OrgId, org.Owner, invitee);
        var (existing, _) = Fake.AddMembership(invitee.Sub, org.WorkosOrg, ["member"], status: existingStatus);
        Fake.AlreadyExistsStatus = status;
        try
        {
            await app.DispatchOutboxAsync();
        }
        finally
        {
            Fake.AlreadyExistsStatus = 422;
        }

        Assert.Equal(existing, (await app.MembershipsOfAsync(org.OrgId)).Single(m => m.Id == membershipId).WorkosMembershipId);
        var row = await Row(OutboundKinds.CreateMembership, membershipId);
        Assert.NotNull(row.SentAt);
        Assert.Null(row.FailedAt);
        Assert.Single(Fake.Memberships, m => m.UserId == invitee.Sub);
    }

    [Theory]
    [InlineData("inactive")]
    [InlineData("pending")]
    public async Task ARemovalFindsTheirWorkOsMembershipWhenItIsInactiveOrPending(string workosStatus)
    {
        var org = await SharedOrg();
        var member = await WorkOsUser("leaver");
        var membershipId = await _s.AddActive(org.OrgId, org.Owner, member);
        // WorkOS has them already (made there, then deactivated or still an invitation) before Roster's create went out.
        var (existing, _) = Fake.AddMembership(member.Sub, org.WorkosOrg, ["member"], status: workosStatus);
        await (await _s.As(org.Owner).DeleteAsync($"/api/organizations/{org.OrgId}/members/{membershipId}")).ShouldBe(HttpStatusCode.NoContent);

        await app.DispatchOutboxAsync();

        Assert.DoesNotContain(Fake.Memberships, m => m.Id == existing);
        var lookup = Fake.Requests.Last(r => r.Method == "GET" && r.Path == "/user_management/organization_memberships" && r.PathAndQuery.Contains(member.Sub));
        Assert.Contains("statuses=active%2Cinactive%2Cpending", lookup.PathAndQuery);
    }
}

public sealed class OutboundWireTestsOnSqlite(WorkOsSyncSqliteApp app) : OutboundWireTests(app), IClassFixture<WorkOsSyncSqliteApp>;

public sealed class OutboundWireTestsOnPostgres(WorkOsSyncPostgresApp app) : OutboundWireTests(app), IClassFixture<WorkOsSyncPostgresApp>;

/// <summary>Role changes sent as role_slugs through the configured map, keeping the member's other WorkOS roles.</summary>
public abstract class RoleSlugWriteTests(WorkOsMappedApp app)
{
    private readonly Scenario _s = new(app);
    private readonly HttpClient _webhooks = app.ClientFor(null);
    private FakeWorkOs Fake => app.Fake;

    /// <summary>A WorkOS org with a Roster-signed-in owner, and a member WorkOS gave two roles (member and org-billing-admin).</summary>
    private async Task<(Guid OrgId, TestUser Owner, Guid MembershipId, string WorkosMembershipId)> OrgWithTwoRoleMember()
    {
        var (org, created) = Fake.CreateOrganization("Roles Inc");
        (await _webhooks.Deliver(created)).EnsureSuccessStatusCode();
        Assert.Equal("applied", await _webhooks.DeliverOk(Fake.CreateOrganizationRole(org, "org-billing-admin", "Billing admin")));
        var ownerEmail = $"owner.{Guid.NewGuid():N}@example.com";
        var (ownerId, _) = Fake.CreateUser(ownerEmail);
        Assert.Equal("applied", await _webhooks.DeliverOk(Fake.AddMembership(ownerId, org, ["owner"]).EventJson));
        var owner = new TestUser(ownerId, ownerEmail, "Owner");
        await _s.UserIdOf(owner);
        var memberEmail = $"billing.{Guid.NewGuid():N}@example.com";
        var (memberId, _) = Fake.CreateUser(memberEmail);
        var (om, added) = Fake.AddMembership(memberId, org, ["member", "org-billing-admin"]);
        Assert.Equal("applied", await _webhooks.DeliverOk(added));
        await _s.UserIdOf(new TestUser(memberId, memberEmail, "Billing"));
        var orgId = await app.WithDbAsync(db => db.Organizations.Where(o => o.WorkosOrganizationId == org).Select(o => o.Id).SingleAsync());
        var membershipId = await app.WithDbAsync(db => db.Memberships.Where(m => m.WorkosMembershipId == om).Select(m => m.Id).SingleAsync());
        return (orgId, owner, membershipId, om);
    }

    [Fact]
    public async Task ARoleChangeIsWrittenAsTheMappedSlugAndKeepsTheMembersOtherWorkOsRoles()
    {
        var (orgId, owner, membershipId, om) = await OrgWithTwoRoleMember();

        await (await _s.As(owner).PatchJson($"/api/organizations/{orgId}/members/{membershipId}", new { role = "owner" })).ShouldBe(HttpStatusCode.OK);
        await app.DispatchOutboxAsync();

        // WORKOS__RoleSlugs__owner = admin; org-billing-admin, which Roster does not model, survives the update.
        Assert.Equal(["admin", "org-billing-admin"], Fake.Memberships.Single(m => m.Id == om).RoleSlugs);
        var put = Fake.Requests.Last(r => r.Method == "PUT" && r.Path.EndsWith(om, StringComparison.Ordinal));
        Assert.Equal("""{"role_slugs":["admin","org-billing-admin"]}""", put.Body);
    }

    [Fact]
    public async Task ARoleWhoseSlugWorkOsDoesNotHaveFailsItsRowWithAnErrorNamingTheSetting()
    {
        var (orgId, owner, membershipId, om) = await OrgWithTwoRoleMember();

        await (await _s.As(owner).PatchJson($"/api/organizations/{orgId}/members/{membershipId}", new { role = "admin" })).ShouldBe(HttpStatusCode.OK);
        await app.DispatchOutboxAsync();

        var row = await app.WithDbAsync(db => db.NotificationOutbox
            .Where(n => n.Kind == OutboundKinds.UpdateMembershipRole && n.Payload.Contains(membershipId.ToString())).SingleAsync());
        Assert.NotNull(row.FailedAt);
        Assert.Contains("'administrator'", row.LastError);
        Assert.Contains("WorkOS__RoleSlugs__admin", row.LastError);
        Assert.Equal(["member", "org-billing-admin"], Fake.Memberships.Single(m => m.Id == om).RoleSlugs);
        var failed = await (await _s.As(new TestUser("admin_platform", "platform@example.com", "Platform", PlatformAdmin: true))
            .GetAsync("/api/admin/notifications?status=failed")).ShouldBe(HttpStatusCode.OK);
        Assert.Contains("WorkOS__RoleSlugs__admin", failed.ToJsonString());
    }
}

public sealed class RoleSlugWriteTestsOnSqlite(WorkOsMappedSqliteApp app) : RoleSlugWriteTests(app), IClassFixture<WorkOsMappedSqliteApp>;

public sealed class RoleSlugWriteTestsOnPostgres(WorkOsMappedPostgresApp app) : RoleSlugWriteTests(app), IClassFixture<WorkOsMappedPostgresApp>;
