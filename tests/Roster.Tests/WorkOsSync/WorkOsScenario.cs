using Microsoft.EntityFrameworkCore;
using Roster.Tests.Support;
using Roster.Infrastructure.WorkOs;

namespace Roster.Tests.WorkOsSync;

/// <summary>People and organizations that exist in the fake WorkOS and have reached Roster (webhooks delivered, signed in).</summary>
public sealed class WorkOsScenario(WorkOsSyncApp app)
{
    private readonly Scenario _s = new(app);
    private readonly HttpClient _webhooks = app.ClientFor(null);

    /// <summary>An organization that exists in WorkOS and in Roster, whose owner (a WorkOS user) has signed in to Roster.</summary>
    public async Task<(string WorkosOrg, Guid OrgId, TestUser Owner)> SharedOrg(string name)
    {
        var (org, created) = app.Fake.CreateOrganization(name);
        (await _webhooks.Deliver(created)).EnsureSuccessStatusCode();
        var ownerEmail = $"owner.{Guid.NewGuid():N}@example.com";
        var (ownerId, _) = app.Fake.CreateUser(ownerEmail);
        var (_, ownerAdded) = app.Fake.AddMembership(ownerId, org, ["owner"]);
        Assert.Equal("applied", await _webhooks.DeliverOk(ownerAdded));
        var owner = new TestUser(ownerId, ownerEmail, "Owner");
        await _s.UserIdOf(owner);
        var orgId = await app.WithDbAsync(db => db.Organizations.Where(o => o.WorkosOrganizationId == org).Select(o => o.Id).SingleAsync());
        return (org, orgId, owner);
    }

    /// <summary>A WorkOS user who has signed in to Roster once.</summary>
    public async Task<TestUser> WorkOsUser(string name)
    {
        var email = $"{name}.{Guid.NewGuid():N}@example.com";
        var (id, _) = app.Fake.CreateUser(email);
        var user = new TestUser(id, email, name);
        await _s.UserIdOf(user);
        return user;
    }
}
