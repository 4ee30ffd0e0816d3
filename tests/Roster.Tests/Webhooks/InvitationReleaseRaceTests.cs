using System.Data.Common;
using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Roster.Infrastructure.Data;
using Roster.Tests.Support;

namespace Roster.Tests.Webhooks;

/// <summary>
/// Holds the first write to <c>seat_reservations</c> once armed, until the test lets it go: the one interleaving of a
/// resent invitation (it has read the live reservation and is about to extend it) and its revoke (committing meanwhile).
/// </summary>
public sealed class ReservationWriteGate : DbCommandInterceptor
{
    private int _armed;
    public TaskCompletionSource Held { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public TaskCompletionSource Release { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Arm()
    {
        Held = new(TaskCreationOptions.RunContinuationsAsynchronously);
        Release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _armed, 1);
    }

    public override async ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData,
        InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        await HoldAsync(command);
        return result;
    }

    public override async ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData,
        InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        await HoldAsync(command);
        return result;
    }

    private async Task HoldAsync(DbCommand command)
    {
        // SQLite's SQL quotes the table, Npgsql's does not (lower-case names need no quotes).
        if (!command.CommandText.Replace("\"", "").Contains("UPDATE seat_reservations", StringComparison.Ordinal)) return;
        if (Interlocked.Exchange(ref _armed, 0) == 0) return;
        Held.TrySetResult();
        // Bounded: the test lets it go, or it goes on its own.
        await Task.WhenAny(Release.Task, Task.Delay(TimeSpan.FromSeconds(20)));
    }
}

public abstract class InvitationReleaseRaceApp(StorageProvider provider) : RosterApp(provider)
{
    public ReservationWriteGate Gate { get; } = new();

    protected override void ConfigureServices(IServiceCollection services) =>
        services.ConfigureDbContext<RosterDb>(o => o.AddInterceptors(Gate));
}

public sealed class SqliteInvitationReleaseRaceApp() : InvitationReleaseRaceApp(StorageProvider.Sqlite);

public sealed class PostgresInvitationReleaseRaceApp() : InvitationReleaseRaceApp(StorageProvider.Postgres);

/// <summary>
/// Found by the convergence property (seed 7441458037934874305, PostgreSQL, 8 deliveries at once): an invitation's
/// revoke committed between its resent event's read of the staged seat and that event's write, and the resent event
/// put the seat back. Extending and releasing are guarded statements now (only a live reservation is changed).
/// </summary>
public abstract class InvitationReleaseRaceTests(InvitationReleaseRaceApp app)
{
    private readonly Scenario _s = new(app);
    private readonly HttpClient _workos = app.ClientFor(null);

    [Fact]
    public async Task ARevokeCommittedWhileTheResentEventIsAboutToExtendTheSeatStaysReleased()
    {
        var workosOrg = WorkOs.NewId("org");
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization.created", WorkOs.Organization(workosOrg, "Acme"))));
        var orgId = await app.WithDbAsync(db => db.Organizations.Where(o => o.WorkosOrganizationId == workosOrg).Select(o => o.Id).SingleAsync());
        await _s.SetPlan(orgId, "company_leader");
        var invitation = WorkOs.NewId("invitation");
        var email = $"{WorkOs.NewId("user")}@example.com";
        var at = DateTime.UtcNow.AddMinutes(-5);
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("invitation.created", WorkOs.Invitation(invitation, email, workosOrg, createdAt: at))));

        app.Gate.Arm();
        var resent = Task.Run(() => app.ClientFor(null).DeliverOk(WorkOs.Envelope("invitation.resent", WorkOs.Invitation(invitation, email, workosOrg, createdAt: at))));
        await app.Gate.Held.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var revoked = Task.Run(() => app.ClientFor(null).DeliverOk(WorkOs.Envelope("invitation.revoked", WorkOs.Invitation(invitation, email, workosOrg, "revoked", createdAt: at))));
        // PostgreSQL lets the revoke commit now; SQLite's one writer makes it wait for the resent event (no interleaving there).
        await Task.WhenAny(revoked, Task.Delay(TimeSpan.FromSeconds(2)));
        app.Gate.Release.TrySetResult();
        var outcomes = await Task.WhenAll(resent, revoked);

        var seats = await (await _s.As(RosterApp.NewUser("platform", admin: true)).GetAsync($"/api/organizations/{orgId}/seats")).ShouldBe(HttpStatusCode.OK);
        var community = seats["seatTypes"]!.AsArray().Single(t => t!.Str("seatType") == "community_only")!;
        Assert.True(community["reserved"]!.GetValue<int>() == 0, $"A seat is still reserved (resent: {outcomes[0]}, revoked: {outcomes[1]}).");
        var now = DateTime.UtcNow;
        Assert.False(await app.WithDbAsync(db => db.SeatReservations.AnyAsync(r => r.WorkosInvitationId == invitation && r.ExpiresAt > now)),
            "The revoked invitation's seat is staged again.");
    }
}

public sealed class InvitationReleaseRaceTestsOnSqlite(SqliteInvitationReleaseRaceApp app)
    : InvitationReleaseRaceTests(app), IClassFixture<SqliteInvitationReleaseRaceApp>;

public sealed class InvitationReleaseRaceTestsOnPostgres(PostgresInvitationReleaseRaceApp app)
    : InvitationReleaseRaceTests(app), IClassFixture<PostgresInvitationReleaseRaceApp>;
