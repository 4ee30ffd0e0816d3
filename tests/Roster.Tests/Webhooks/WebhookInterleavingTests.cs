using System.Data.Common;
using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Roster.Infrastructure.Data;
using Roster.Tests.Support;

namespace Roster.Tests.Webhooks;

/// <summary>
/// Holds one transaction of the service at a chosen point until the test lets it go, so a race between two deliveries
/// can be replayed in the one interleaving that matters: before the first command whose SQL matches, or (atCommit) at
/// the commit of the transaction that ran it. Armed once at a time; bounded (it lets go on its own after 20 s).
/// </summary>
public sealed class WriteGate : DbCommandInterceptor, IDbTransactionInterceptor
{
    private Func<string, bool>? _match;
    private bool _atCommit;
    private DbTransaction? _held;
    public TaskCompletionSource Held { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public TaskCompletionSource Release { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="sql">Matched against the command text with quotes removed (SQLite quotes names, Npgsql does not).</param>
    public void Arm(string sql, bool atCommit = false)
    {
        Held = new(TaskCreationOptions.RunContinuationsAsynchronously);
        Release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        _atCommit = atCommit;
        _held = null;
        Volatile.Write(ref _match, text => text.Replace("\"", "").Contains(sql, StringComparison.Ordinal));
    }

    public override async ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData,
        InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        await OnCommandAsync(command);
        return result;
    }

    public override async ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData,
        InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        await OnCommandAsync(command);
        return result;
    }

    public async ValueTask<InterceptionResult> TransactionCommittingAsync(DbTransaction transaction, TransactionEventData eventData,
        InterceptionResult result, CancellationToken cancellationToken = default)
    {
        if (_atCommit && Interlocked.CompareExchange(ref _held, null, transaction) == transaction) await HoldAsync();
        return result;
    }

    private async Task OnCommandAsync(DbCommand command)
    {
        var match = Volatile.Read(ref _match);
        if (match is null || !match(command.CommandText) || Interlocked.CompareExchange(ref _match, null, match) != match) return;
        if (_atCommit) _held = command.Transaction;
        else await HoldAsync();
    }

    private async Task HoldAsync()
    {
        Held.TrySetResult();
        await Task.WhenAny(Release.Task, Task.Delay(TimeSpan.FromSeconds(20)));
    }
}

public abstract class WebhookInterleavingApp(StorageProvider provider) : RosterApp(provider)
{
    public WriteGate Gate { get; } = new();

    protected override void ConfigureServices(IServiceCollection services) =>
        services.ConfigureDbContext<RosterDb>(o => o.AddInterceptors(Gate));
}

public sealed class SqliteWebhookInterleavingApp() : WebhookInterleavingApp(StorageProvider.Sqlite);

public sealed class PostgresWebhookInterleavingApp() : WebhookInterleavingApp(StorageProvider.Postgres);

/// <summary>
/// Found by the convergence property (seed 7441458037934874305, PostgreSQL, 8 deliveries at once): an invitation's
/// revoke committed between its resent event's read of the staged seat and that event's write, and the resent event
/// put the seat back. Extending and releasing are guarded statements now (only a live reservation is changed).
/// </summary>
public abstract class WebhookInterleavingTests(WebhookInterleavingApp app)
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

        app.Gate.Arm("UPDATE seat_reservations");
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

    [Fact]
    public async Task AnInvitationStagedWhileItsInviteeIsBeingDeletedSeesTheMembershipThatTookItsSeat()
    {
        // Found by the convergence property (seed 6311427135099697216, PostgreSQL, 5 at once): the invitee's membership
        // arrived first (user unknown, unlinked), then user.deleted (which ties the membership to the person's email) and
        // invitation.created (staged by email) ran at once; each settled the staged seat before the other committed.
        var workosOrg = WorkOs.NewId("org");
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization.created", WorkOs.Organization(workosOrg, "Acme"))));
        var orgId = await app.WithDbAsync(db => db.Organizations.Where(o => o.WorkosOrganizationId == workosOrg).Select(o => o.Id).SingleAsync());
        await _s.SetPlan(orgId, "company_leader");
        var sub = WorkOs.NewId("user");
        var email = $"{sub}@example.com";
        var invitation = WorkOs.NewId("invitation");
        var at = DateTime.UtcNow.AddMinutes(-5);
        // WorkOS's order: invited (at), joined by the invitation (at+2), user deleted (at+3). Delivered: the membership first.
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created",
            WorkOs.Membership(WorkOs.NewId("om"), sub, workosOrg, updatedAt: at.AddSeconds(2)))));

        app.Gate.Arm("UPDATE organization_role_assignments", atCommit: true); // user.deleted clearing their roles, held at its commit
        var deleted = Task.Run(() => app.ClientFor(null).DeliverOk(WorkOs.Envelope("user.deleted", WorkOs.User(sub, email, updatedAt: at.AddSeconds(3)))));
        await Task.WhenAny(app.Gate.Held.Task, deleted).WaitAsync(TimeSpan.FromSeconds(30));
        if (!app.Gate.Held.Task.IsCompleted) Assert.Fail($"user.deleted was never held; it answered: {await deleted}");
        var staged = Task.Run(() => app.ClientFor(null).DeliverOk(
            WorkOs.Envelope("invitation.created", WorkOs.Invitation(invitation, email, workosOrg, createdAt: at))));
        // Without a shared lock the invitation commits now; with one (and on SQLite's one writer) it waits for the deletion.
        await Task.WhenAny(staged, Task.Delay(TimeSpan.FromSeconds(2)));
        app.Gate.Release.TrySetResult();
        var outcomes = await Task.WhenAll(deleted, staged);

        var seats = await (await _s.As(RosterApp.NewUser("platform", admin: true)).GetAsync($"/api/organizations/{orgId}/seats")).ShouldBe(HttpStatusCode.OK);
        var community = seats["seatTypes"]!.AsArray().Single(t => t!.Str("seatType") == "community_only")!;
        Assert.True((community["active"]!.GetValue<int>(), community["reserved"]!.GetValue<int>()) == (0, 0),
            $"Seats after the race: {community.ToJsonString()} (user.deleted: {outcomes[0]}, invitation.created: {outcomes[1]}).");
    }
}

public sealed class WebhookInterleavingTestsOnSqlite(SqliteWebhookInterleavingApp app)
    : WebhookInterleavingTests(app), IClassFixture<SqliteWebhookInterleavingApp>;

public sealed class WebhookInterleavingTestsOnPostgres(PostgresWebhookInterleavingApp app)
    : WebhookInterleavingTests(app), IClassFixture<PostgresWebhookInterleavingApp>;
