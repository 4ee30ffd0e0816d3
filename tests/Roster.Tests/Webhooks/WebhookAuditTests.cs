using System.Net;
using Microsoft.EntityFrameworkCore;
using Roster.Tests.Support;

namespace Roster.Tests.Webhooks;

/// <summary>Changes WorkOS makes reach the organization's history too, marked via "webhook".</summary>
public abstract class WebhookAuditTests(RosterApp app)
{
    private readonly Scenario _s = new(app);
    private readonly HttpClient _workos = app.ClientFor(null);

    [Fact]
    public async Task AMembershipAddedChangedDeactivatedAndDeletedInWorkOsIsInTheAuditViaWebhook()
    {
        var org = await _s.NewOrg(plan: "company_icl");
        var workosOrgId = WorkOs.NewId("org");
        await app.WithDbAsync(db => db.Organizations.Where(o => o.Id == org.Id).ExecuteUpdateAsync(s => s.SetProperty(o => o.WorkosOrganizationId, workosOrgId)));
        var person = RosterApp.NewUser("mirrored");
        await _s.UserIdOf(person);
        var omId = WorkOs.NewId("om");
        var t = DateTime.UtcNow.AddMinutes(-10);

        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(omId, person.Sub, workosOrgId, updatedAt: t))));
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.updated",
            WorkOs.Membership(omId, person.Sub, workosOrgId, role: "admin", updatedAt: t.AddMinutes(1)))));
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.updated",
            WorkOs.Membership(omId, person.Sub, workosOrgId, status: "inactive", role: "admin", updatedAt: t.AddMinutes(2)))));
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.deleted",
            WorkOs.Membership(omId, person.Sub, workosOrgId, status: "inactive", role: "admin", updatedAt: t.AddMinutes(3)))));

        var membershipId = await app.WithDbAsync(db => db.Memberships.Where(m => m.WorkosMembershipId == omId).Select(m => m.Id).SingleAsync());
        var history = await (await _s.As(org.Owner).GetAsync($"/api/organizations/{org.Id}/audit?membershipId={membershipId}")).ShouldBe(HttpStatusCode.OK);
        Assert.Equal([("removed", "webhook"), ("deactivated", "webhook"), ("role_changed", "webhook"), ("added", "webhook")],
            history.AsArray().Select(a => (a!.Str("action"), a!.Str("via"))));
        Assert.Equal(person.Email, history[3]!.Str("subjectEmail"));
        Assert.Null(history[3]!["actorUserId"]);
    }
}

public sealed class WebhookAuditTestsOnSqlite(SqliteApp app) : WebhookAuditTests(app), IClassFixture<SqliteApp>;

public sealed class WebhookAuditTestsOnPostgres(PostgresApp app) : WebhookAuditTests(app), IClassFixture<PostgresApp>;
