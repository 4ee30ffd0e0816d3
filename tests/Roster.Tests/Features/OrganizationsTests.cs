using System.Net;
using Microsoft.EntityFrameworkCore;
using Roster.Features.Organizations;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Seats;
using Roster.Tests.Support;

namespace Roster.Tests.Features;

public abstract class OrganizationsTests(RosterApp app)
{
    private readonly Scenario _s = new(app);

    [Fact]
    public async Task CreatingAnOrganizationMakesTheCallerItsActiveFoundingOwner()
    {
        var founder = RosterApp.NewUser("founder");

        var response = await _s.As(founder).PostJson("/api/organizations", new { name = "  Acme Corp  " });
        var body = await response.ShouldBe(HttpStatusCode.Created);

        Assert.Equal("Acme Corp", body.Str("name"));
        Assert.Null(body["plan"]);
        Assert.Null(body["workosOrganizationId"]);
        var orgId = Guid.Parse(body.Str("id"));
        Assert.Equal(7, orgId.Version);
        var founding = Assert.Single(await app.MembershipsOfAsync(orgId));
        Assert.Equal(("owner", "active", "founder", "contributor"), (founding.Role, founding.Status, founding.Source, founding.SeatType));
    }

    [Fact]
    public async Task SeatsShowLimitsActiveReservedAndAvailablePerSeatType()
    {
        var staffed = await _s.NewStaffedOrg(plan: "company_leader");
        await _s.Invite(staffed.Id, staffed.Owner, RosterApp.NewUser("invitee"), seatType: "community_only");

        var seats = await (await _s.As(staffed.Admin).GetAsync($"/api/organizations/{staffed.Id}/seats")).ShouldBe(HttpStatusCode.OK);

        Assert.Equal("company_leader", seats.Str("plan"));
        var types = seats["seatTypes"]!.AsArray().ToDictionary(t => t!.Str("seatType"), t => t!);
        Assert.Equal((20, 3, 0, 17), (types["contributor"]["limit"]!.GetValue<int>(), types["contributor"]["active"]!.GetValue<int>(),
            types["contributor"]["reserved"]!.GetValue<int>(), types["contributor"]["available"]!.GetValue<int>()));
        Assert.Equal((-1, 0, 1, -1), (types["community_only"]["limit"]!.GetValue<int>(), types["community_only"]["active"]!.GetValue<int>(),
            types["community_only"]["reserved"]!.GetValue<int>(), types["community_only"]["available"]!.GetValue<int>()));
    }

    [Fact]
    public async Task UnexpiredStagedReservationsHoldSeatsAndExpiredOnesDoNot()
    {
        var org = await _s.NewOrg();
        await app.WithDbAsync(async db =>
        {
            var now = DateTime.UtcNow;
            db.SeatReservations.Add(new SeatReservation { Id = Guid.CreateVersion7(), OrganizationId = org.Id, Email = "a@example.com", SeatType = "contributor", Source = "invitation", ExpiresAt = now.AddDays(7), CreatedAt = now });
            db.SeatReservations.Add(new SeatReservation { Id = Guid.CreateVersion7(), OrganizationId = org.Id, Email = "b@example.com", SeatType = "contributor", Source = "invitation", ExpiresAt = now.AddDays(-1), CreatedAt = now.AddDays(-8) });
            await db.SaveChangesAsync();
        });

        var seats = await (await _s.As(org.Owner).GetAsync($"/api/organizations/{org.Id}/seats")).ShouldBe(HttpStatusCode.OK);

        var contributor = seats["seatTypes"]!.AsArray().Single(t => t!.Str("seatType") == "contributor")!;
        Assert.Equal((1, 1, 3), (contributor["active"]!.GetValue<int>(), contributor["reserved"]!.GetValue<int>(), contributor["available"]!.GetValue<int>()));
    }

    [Fact]
    public async Task APlatformAdminChangesThePlanAndAnUnknownPlanIsRefused()
    {
        var org = await _s.NewOrg();
        var platformAdmin = RosterApp.NewUser("platform", admin: true);

        var body = await (await _s.As(platformAdmin).PutJson($"/api/organizations/{org.Id}/plan", new { plan = "company_icl" })).ShouldBe(HttpStatusCode.OK);
        Assert.Equal("company_icl", body.Str("plan"));

        var problem = await (await _s.As(platformAdmin).PutJson($"/api/organizations/{org.Id}/plan", new { plan = "gold" }))
            .ShouldBeProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(problem["errors"]!["plan"]);
        await (await _s.As(org.Owner).PutJson($"/api/organizations/{org.Id}/plan", new { plan = "company_leader" })).ShouldBeProblem(HttpStatusCode.Forbidden, "forbidden");
        await (await _s.As(platformAdmin).PutJson($"/api/organizations/{Guid.NewGuid()}/plan", new { plan = "free" })).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
        Assert.Equal("company_icl", await app.WithDbAsync(db => db.Organizations.Where(o => o.Id == org.Id).Select(o => o.Plan).SingleAsync()));
    }

    [Fact]
    public async Task ADowngradeRemovesNobodyButShowsInTheSeatAuditAndBlocksNewSeats()
    {
        var staffed = await _s.NewStaffedOrg(plan: "company_icl");
        await _s.SetPlan(staffed.Id, "individual_professional");

        Assert.Equal(3, (await (await _s.As(staffed.Owner).GetAsync($"/api/organizations/{staffed.Id}/members")).ShouldBe(HttpStatusCode.OK)).AsArray().Count);
        var audit = (await (await _s.As(staffed.PlatformAdmin).GetAsync("/api/admin/seat-audit")).ShouldBe(HttpStatusCode.OK)).AsArray();
        var entry = Assert.Single(audit, e => e!.Str("organizationId") == staffed.Id.ToString())!;
        Assert.Equal("individual_professional", entry.Str("plan"));
        var over = Assert.Single(entry["over"]!.AsArray())!;
        Assert.Equal(("contributor", 1, 3), (over.Str("seatType"), over["limit"]!.GetValue<int>(), over["used"]!.GetValue<int>()));

        var newcomer = await _s.UserIdOf(RosterApp.NewUser("newcomer"));
        await (await _s.As(staffed.Owner).PostJson($"/api/organizations/{staffed.Id}/members", new { userId = newcomer }))
            .ShouldBeProblem(HttpStatusCode.Conflict, "seat_limit_reached");

        var lines = await app.WithDbAsync(db => SeatAudit.RunAsync(db, app.Services.GetService(typeof(PlanCatalog)) as PlanCatalog ?? throw new InvalidOperationException(), TimeProvider.System, CancellationToken.None));
        Assert.Contains(lines, l => l.OrganizationId == staffed.Id);
    }

    [Fact]
    public async Task TheSeatsAuditCommandPrintsOneLinePerOrganizationOverItsCap()
    {
        var staffed = await _s.NewStaffedOrg(plan: "company_icl");
        await _s.SetPlan(staffed.Id, "individual_professional");
        var output = new StringWriter();

        var exit = await Roster.Cli.RosterCommands.RunAsync(app.Services, ["seats", "audit"], output, new StringWriter());

        Assert.Equal(0, exit);
        var line = Assert.Single(output.ToString().Split('\n'), l => l.StartsWith(staffed.Id.ToString(), StringComparison.Ordinal));
        Assert.Contains("contributor 3/1", line);
    }

    [Fact]
    public async Task PlatformAdminsListOutboxRowsByStatus()
    {
        var marker = Guid.NewGuid().ToString("N");
        await app.WithDbAsync(async db =>
        {
            var now = DateTime.UtcNow;
            db.NotificationOutbox.AddRange(
                new NotificationOutboxRow { Id = Guid.CreateVersion7(), Kind = "test", DedupeKey = $"{marker}-p", Payload = "{}", NextAttemptAt = now, CreatedAt = now },
                new NotificationOutboxRow { Id = Guid.CreateVersion7(), Kind = "test", DedupeKey = $"{marker}-s", Payload = "{}", Attempts = 1, NextAttemptAt = now, SentAt = now, CreatedAt = now },
                new NotificationOutboxRow { Id = Guid.CreateVersion7(), Kind = "test", DedupeKey = $"{marker}-f", Payload = "{}", Attempts = 8, NextAttemptAt = now, FailedAt = now, LastError = "slack said no", CreatedAt = now });
            await db.SaveChangesAsync();
        });
        var platformAdmin = _s.As(RosterApp.NewUser("platform", admin: true));

        foreach (var status in new[] { "pending", "sent", "failed" })
        {
            var rows = (await (await platformAdmin.GetAsync($"/api/admin/notifications?status={status}")).ShouldBe(HttpStatusCode.OK)).AsArray();
            Assert.NotEmpty(rows);
            Assert.All(rows, r => Assert.Equal(status, r!.Str("status")));
        }
        var failed = (await (await platformAdmin.GetAsync("/api/admin/notifications?status=failed")).ShouldBe(HttpStatusCode.OK)).AsArray();
        Assert.Contains(failed, r => r!["lastError"]?.GetValue<string>() == "slack said no" && r["attempts"]!.GetValue<int>() == 8);
        await (await platformAdmin.GetAsync("/api/admin/notifications?status=lost")).ShouldBeProblem(HttpStatusCode.BadRequest, "validation_failed");
    }
}

public sealed class OrganizationsTestsOnSqlite(SqliteApp app) : OrganizationsTests(app), IClassFixture<SqliteApp>;

public sealed class OrganizationsTestsOnPostgres(PostgresApp app) : OrganizationsTests(app), IClassFixture<PostgresApp>;
