using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;
using Roster.Tests.Support;

namespace Roster.Tests.WorkOsSync;

/// <summary>
/// Issue 11, bug 3: the WorkOS call a membership event may need (the email of a user Roster has not seen, to match a seat
/// staged for an invitation by email) runs before the event's transaction, never under the organization's seat lock —
/// where a slow WorkOS (retries honouring Retry-After up to 30 s) held every seat gate of the organization (and on SQLite
/// every writer) and a pooled connection. Asserted by order, not by time: another seat gate of the same organization
/// finishes while WorkOS has still not answered the first event's lookup.
/// </summary>
public abstract class WorkOsCallOutsideSeatLockTests(WorkOsSyncApp app)
{
    private readonly HttpClient _workos = app.ClientFor(null);

    [Fact]
    public async Task AnotherSeatGateOfTheOrganizationDoesNotWaitForTheWorkOsLookupOfAMembershipEvent()
    {
        var org = WorkOs.NewId("org");
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization.created", WorkOs.Organization(org, "Acme"))));
        // An invitation known only by email stages a seat; its invitee is a WorkOS user Roster has not seen.
        var (invitee, _) = app.Fake.CreateUser($"invitee.{Guid.NewGuid():N}@example.com");
        var inviteeEmail = app.Fake.Users.Single(u => u.Id == invitee).Email;
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("invitation.created",
            WorkOs.Invitation(WorkOs.NewId("invitation"), inviteeEmail, org, createdAt: DateTime.UtcNow.AddMinutes(-1)))));
        // Someone Roster knows, whose membership event needs nothing from WorkOS.
        var known = WorkOs.NewId("user");
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("user.created", WorkOs.User(known, $"{known}@example.com"))));

        var hold = app.Fake.HoldUserLookups();
        var first = _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(WorkOs.NewId("om"), invitee, org)));
        await hold.Arrived;
        var second = await _workos.DeliverOk(WorkOs.Envelope("organization_membership.created", WorkOs.Membership(WorkOs.NewId("om"), known, org)));
        var answeredBeforeSecondFinished = hold.Answered;
        hold.Release();

        Assert.Equal("applied", second);
        Assert.False(answeredBeforeSecondFinished, "The second membership event waited for the first one's WorkOS lookup (made under the seat lock).");
        Assert.Equal("applied", await first);
        // The lookup was used: the invitee took the seat staged for their email.
        var row = await app.WithDbAsync(db => db.Memberships.SingleAsync(m => m.WorkosUserId == invitee));
        Assert.Equal(MembershipSource.Invitation, row.Source);
    }
}

public sealed class WorkOsCallOutsideSeatLockTestsOnSqlite(WorkOsSyncSqliteApp app) : WorkOsCallOutsideSeatLockTests(app), IClassFixture<WorkOsSyncSqliteApp>;

public sealed class WorkOsCallOutsideSeatLockTestsOnPostgres(WorkOsSyncPostgresApp app) : WorkOsCallOutsideSeatLockTests(app), IClassFixture<WorkOsSyncPostgresApp>;
