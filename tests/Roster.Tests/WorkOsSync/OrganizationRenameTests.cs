using System.Net;
using Microsoft.EntityFrameworkCore;
using Roster.Tests.Support;

namespace Roster.Tests.WorkOsSync;

/// <summary>Renaming an organization linked to WorkOS writes the new name to WorkOS through the outbox.</summary>
public abstract class OrganizationRenameTests(WorkOsSyncApp app)
{
    private readonly Scenario _s = new(app);
    private readonly HttpClient _webhooks = app.ClientFor(null);
    private FakeWorkOs Fake => app.Fake;

    [Fact]
    public async Task ARenameReachesWorkOsAndItsEchoChangesNothing()
    {
        var (org, created) = Fake.CreateOrganization("Before Ltd");
        (await _webhooks.Deliver(created)).EnsureSuccessStatusCode();
        var ownerEmail = $"owner.{Guid.NewGuid():N}@example.com";
        var (ownerId, _) = Fake.CreateUser(ownerEmail);
        var (_, ownerAdded) = Fake.AddMembership(ownerId, org, ["owner"]);
        Assert.Equal("applied", await _webhooks.DeliverOk(ownerAdded));
        var owner = new TestUser(ownerId, ownerEmail, "Owner");
        await _s.UserIdOf(owner);
        var orgId = await app.WithDbAsync(db => db.Organizations.Where(o => o.WorkosOrganizationId == org).Select(o => o.Id).SingleAsync());

        await (await _s.As(owner).PatchJson($"/api/organizations/{orgId}", new { name = "After Ltd" })).ShouldBe(HttpStatusCode.OK);
        Assert.Equal("Before Ltd", Fake.Organizations.Single(o => o.Id == org).Name); // not before the outbox sends it
        await app.DispatchOutboxAsync();

        Assert.Equal("After Ltd", Fake.Organizations.Single(o => o.Id == org).Name);
        var echo = Fake.Events.Last(e => e.Type == "organization.updated" && e.Json.Contains(org));
        Assert.Equal("applied", await _webhooks.DeliverOk(echo.Json));
        Assert.Equal("After Ltd", (await (await _s.As(owner).GetAsync($"/api/organizations/{orgId}")).ShouldBe(HttpStatusCode.OK)).Str("name"));
        // An update WorkOS sent before the rename (older than it) arriving late is stale.
        Assert.Equal("stale", await _webhooks.DeliverOk(created.Replace("\"organization.created\"", "\"organization.updated\"")
            .Replace("event_", "event_0", StringComparison.Ordinal)));
        Assert.Equal("After Ltd", (await (await _s.As(owner).GetAsync($"/api/organizations/{orgId}")).ShouldBe(HttpStatusCode.OK)).Str("name"));
    }

    [Fact]
    public async Task DeletingAnOrganizationLinkedToWorkOsIsRefused()
    {
        var (org, created) = Fake.CreateOrganization("Managed Ltd");
        (await _webhooks.Deliver(created)).EnsureSuccessStatusCode();
        var ownerEmail = $"owner.{Guid.NewGuid():N}@example.com";
        var (ownerId, _) = Fake.CreateUser(ownerEmail);
        Assert.Equal("applied", await _webhooks.DeliverOk(Fake.AddMembership(ownerId, org, ["owner"]).EventJson));
        var owner = new TestUser(ownerId, ownerEmail, "Owner");
        await _s.UserIdOf(owner);

        await (await _s.As(owner).DeleteAsync($"/api/organizations/{org}")).ShouldBeProblem(HttpStatusCode.Conflict, "managed_by_workos");
    }
}

public sealed class OrganizationRenameTestsOnSqlite(WorkOsSyncSqliteApp app) : OrganizationRenameTests(app), IClassFixture<WorkOsSyncSqliteApp>;

public sealed class OrganizationRenameTestsOnPostgres(WorkOsSyncPostgresApp app) : OrganizationRenameTests(app), IClassFixture<WorkOsSyncPostgresApp>;
