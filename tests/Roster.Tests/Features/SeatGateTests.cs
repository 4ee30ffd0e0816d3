using System.Data.Common;
using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Roster.Infrastructure.Data;
using Roster.Tests.Support;

namespace Roster.Tests.Features;

/// <summary>
/// The seat gate (src/Infrastructure/Seats/SeatGate.cs) is the one way a seat is taken or given back: the plan it
/// decides with is read under the organization's lock, and every path that moves a count re-evaluates the warnings.
/// </summary>
public abstract class SeatGateTests(SeatGateTests.GateApp app)
{
    /// <summary>
    /// Lets a test commit a plan change from another connection at the worst moment: after a handler has loaded the
    /// organization (access check) and before its transaction takes the seat lock.
    /// </summary>
    public sealed class PlanChangeBeforeNextTransaction : DbTransactionInterceptor
    {
        private sealed record Armed(Guid Organization, string Plan, StorageOptions Storage);
        private Armed? _armed;

        public void Arm(Guid organizationId, string plan, StorageOptions storage) => _armed = new Armed(organizationId, plan, storage);

        public override async ValueTask<InterceptionResult<DbTransaction>> TransactionStartingAsync(DbConnection connection,
            TransactionStartingEventData eventData, InterceptionResult<DbTransaction> result, CancellationToken ct = default)
        {
            if (Interlocked.Exchange(ref _armed, null) is { } armed)
                await new Migrations.RawSql(armed.Storage).ExecuteAsync("UPDATE organizations SET plan = @p0 WHERE id = @p1", armed.Plan, armed.Organization);
            return result;
        }
    }

    public abstract class GateApp(StorageProvider provider) : RosterApp(provider)
    {
        public PlanChangeBeforeNextTransaction PlanChange { get; } = new();

        protected override void ConfigureServices(IServiceCollection services) =>
            services.ConfigureDbContext<RosterDb>(db => db.AddInterceptors(PlanChange));
    }

    private readonly Scenario _s = new(app);

    private Task<int> WarningLevelAsync(Guid orgId, string seatType) =>
        app.WithDbAsync(db => db.SeatWarningStates.Where(s => s.OrganizationId == orgId && s.SeatType == seatType)
            .Select(s => s.Level).FirstOrDefaultAsync());

    private Task<List<string>> SeatWarningsQueuedAsync(Guid orgId) =>
        app.WithDbAsync(db => db.NotificationOutbox.Where(r => r.Kind == "seat_warning" && r.DedupeKey.Contains(orgId.ToString()))
            .OrderBy(r => r.CreatedAt).Select(r => r.Payload).ToListAsync());

    [Fact]
    public async Task APlanDowngradeCommittedAfterTheAccessCheckIsTheLimitTheAddIsCheckedAgainst()
    {
        var org = await _s.NewOrg(plan: "company_leader"); // 20 contributor seats; the founder holds one
        var invitee = RosterApp.NewUser("invitee");
        var inviteeId = await _s.UserIdOf(invitee);

        app.PlanChange.Arm(org.Id, "individual_professional", app.Storage); // 1 contributor seat: the founder's
        var response = await _s.As(org.Owner).PostJson($"/api/organizations/{org.Id}/members", new { userId = inviteeId, seatType = "contributor" });

        await response.ShouldBeProblem(HttpStatusCode.Conflict, "seat_limit_reached");
        Assert.DoesNotContain(await app.MembershipsOfAsync(org.Id), m => m.UserId == inviteeId);
    }

    [Fact]
    public async Task DecliningInvitationsGivesSeatsBackAndReArmsTheWarning()
    {
        var org = await _s.NewOrg(); // free: 5 contributor seats; the founder holds one
        var invited = new List<(TestUser Who, Guid Id)>();
        for (var i = 0; i < 4; i++)
        {
            var who = RosterApp.NewUser("invitee");
            invited.Add((who, await _s.Invite(org.Id, org.Owner, who, seatType: "contributor")));
        }
        Assert.Equal(100, await WarningLevelAsync(org.Id, "contributor"));

        foreach (var (who, id) in invited.Take(3))
            await (await _s.As(who).DeleteAsync($"/api/membership-requests/{id}")).ShouldBe(HttpStatusCode.NoContent);

        Assert.Equal(0, await WarningLevelAsync(org.Id, "contributor")); // 2 of 5 is below 60%: re-armed
    }

    [Fact]
    public async Task APlanChangeThatLeavesUsagePastTheLimitQueuesTheWarningAtOnce()
    {
        var org = await _s.NewOrg(plan: "company_leader"); // 20 contributor seats
        for (var i = 0; i < 4; i++) await _s.Invite(org.Id, org.Owner, RosterApp.NewUser("invitee"), seatType: "contributor");
        Assert.Empty(await SeatWarningsQueuedAsync(org.Id)); // 5 of 20

        await _s.SetPlan(org.Id, "free"); // 5 of 5

        var warning = Assert.Single(await SeatWarningsQueuedAsync(org.Id));
        Assert.Contains("\"thresholdPercent\":100", warning, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(100, await WarningLevelAsync(org.Id, "contributor"));
    }

    [Fact]
    public async Task APlanChangeThatGivesRoomReArmsTheWarning()
    {
        var org = await _s.NewOrg(); // free: 5 contributor seats
        for (var i = 0; i < 4; i++) await _s.Invite(org.Id, org.Owner, RosterApp.NewUser("invitee"), seatType: "contributor");
        Assert.Equal(100, await WarningLevelAsync(org.Id, "contributor"));

        await _s.SetPlan(org.Id, "company_leader"); // 5 of 20

        Assert.Equal(0, await WarningLevelAsync(org.Id, "contributor"));
    }
}

public sealed class SeatGateSqliteApp() : SeatGateTests.GateApp(StorageProvider.Sqlite);

public sealed class SeatGatePostgresApp() : SeatGateTests.GateApp(StorageProvider.Postgres);

public sealed class SeatGateTestsOnSqlite(SeatGateSqliteApp app) : SeatGateTests(app), IClassFixture<SeatGateSqliteApp>;

public sealed class SeatGateTestsOnPostgres(SeatGatePostgresApp app) : SeatGateTests(app), IClassFixture<SeatGatePostgresApp>;

/// <summary>The founder takes a seat like anyone else: a default plan with no seat of the default type refuses it.</summary>
public abstract class FounderSeatTests(StorageProvider provider) : IAsyncLifetime
{
    private sealed class NoContributorSeatsByDefault(StorageProvider provider) : RosterApp(provider)
    {
        protected override IReadOnlyDictionary<string, string?> Settings =>
            new Dictionary<string, string?> { ["Seats:DefaultPlan"] = "individual_academic" }; // 0 contributor / 1 community_only
    }

    private readonly NoContributorSeatsByDefault _app = new(provider);

    public Task InitializeAsync() => ((IAsyncLifetime)_app).InitializeAsync();

    public Task DisposeAsync() => ((IAsyncLifetime)_app).DisposeAsync();

    [Fact]
    public async Task AFounderWhoseSeatTypeThePlanLacksIsRefusedAndNothingIsCreated()
    {
        var founder = RosterApp.NewUser("founder");
        var name = $"Org {Guid.NewGuid():N}";

        await (await _app.ClientFor(founder).PostJson("/api/organizations", new { name })).ShouldBeProblem(HttpStatusCode.Conflict, "seat_limit_reached");

        Assert.False(await _app.WithDbAsync(db => db.Organizations.AnyAsync(o => o.Name == name)));
    }
}

public sealed class FounderSeatTestsOnSqlite() : FounderSeatTests(StorageProvider.Sqlite);

public sealed class FounderSeatTestsOnPostgres() : FounderSeatTests(StorageProvider.Postgres);
