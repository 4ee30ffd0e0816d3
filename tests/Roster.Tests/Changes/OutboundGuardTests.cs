using System.Net;
using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Changes;
using Roster.Tests.Support;

namespace Roster.Tests.Changes;

/// <summary>Outside Development, outgoing webhooks never reach loopback or private addresses: checked when connecting.</summary>
public abstract class OutboundGuardTests(RosterApp app) : IAsyncLifetime
{
    private readonly Scenario _s = new(app);
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await WebhookReceiver.StartAsync();

    public async Task DisposeAsync()
    {
        await app.WithDbAsync(db => db.WebhookSubscriptions.ExecuteUpdateAsync(s => s.SetProperty(x => x.DeletedAt, DateTime.UtcNow)));
        await _receiver.DisposeAsync();
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("localhost")]
    public async Task ADeliveryToALoopbackAddressIsRefusedWhenConnectingAndNothingIsSent(string host)
    {
        var org = await _s.NewOrg(plan: "company_leader");
        await app.SequenceAsync();
        // https passes the address rule when saved; where the name leads is only known (and checked) when sending.
        var url = $"https://{host}:{_receiver.BaseAddress.Port}/hooks";
        var created = await (await app.ClientFor(RosterApp.NewUser("platform", admin: true)).PostJson("/api/admin/webhook-subscriptions",
            new { url, organizationId = org.Id.ToString() })).ShouldBe(HttpStatusCode.Created);
        var id = Guid.Parse(created.Str("id"));
        await _s.Invite(org.Id, org.Owner, RosterApp.NewUser("x"), seatType: "community_only");

        WebhookDelivery? tried = null;
        for (var i = 0; i < 300 && tried is null; i++)
        {
            await Task.Delay(50);
            tried = await app.WithDbAsync(db => db.WebhookDeliveries.AsNoTracking().FirstOrDefaultAsync(d => d.SubscriptionId == id && d.Attempts > 0));
        }
        Assert.NotNull(tried);
        Assert.Contains("which outgoing webhooks may not reach", tried.LastError);
        Assert.Null(tried.ResponseCode);
        Assert.Empty(_receiver.Received);
    }
}

public sealed class OutboundGuardTestsOnSqlite(SqliteApp app) : OutboundGuardTests(app), IClassFixture<SqliteApp>;

public sealed class OutboundGuardTestsOnPostgres(PostgresApp app) : OutboundGuardTests(app), IClassFixture<PostgresApp>;
