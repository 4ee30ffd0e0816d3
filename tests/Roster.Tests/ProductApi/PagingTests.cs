using System.Net;
using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;
using Roster.Tests.Support;

namespace Roster.Tests.ProductApi;

/// <summary>Keyset paging (?limit, ?after, Link rel="next") on every list.</summary>
public abstract class PagingTests(RosterApp app)
{
    private readonly Scenario _s = new(app);

    [Fact]
    public async Task PagingWalksAThousandMembersWithNoRowLostOrRepeatedWhileMembersAreAdded()
    {
        var org = await _s.NewOrg(plan: "company_leader");
        var seeded = await SeedMembersAsync(org.Id, 1000, "community_only");
        var owner = _s.As(org.Owner);

        // Members keep arriving (invitations hold seats and are listed) while the owner walks the list.
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var added = new List<Guid>();
        var adding = Task.Run(async () =>
        {
            for (var i = 0; i < 25 && !stop.IsCancellationRequested; i++)
                added.Add(await _s.Invite(org.Id, org.Owner, RosterApp.NewUser("late"), seatType: "community_only"));
        });
        var (items, pages) = await Paging.WalkAsync(owner, $"/api/organizations/{org.Id}/members?limit=37");
        await adding;

        var ids = items.Select(i => Guid.Parse(i.Str("id"))).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Empty(seeded.Except(ids));
        Assert.True(pages >= 1001 / 37, $"{pages} pages");
        // Once the adds are done, a fresh walk sees everything, in the list's stable order.
        var (again, _) = await Paging.WalkAsync(owner, $"/api/organizations/{org.Id}/members?limit=500");
        Assert.Equal(1 + 1000 + added.Count, again.Count);
        Assert.Empty(added.Except(again.Select(i => Guid.Parse(i.Str("id")))));
    }

    [Fact]
    public async Task TheMembersListFiltersByStatusRoleAndSeatType()
    {
        var staffed = await _s.NewStaffedOrg();
        var invited = await _s.Invite(staffed.Id, staffed.Owner, RosterApp.NewUser("invitee"), seatType: "community_only");
        var owner = _s.As(staffed.Owner);
        async Task<List<Guid>> Ids(string query) =>
            (await (await owner.GetAsync($"/api/organizations/{staffed.Id}/members?{query}")).ShouldBe(HttpStatusCode.OK))
            .AsArray().Select(m => Guid.Parse(m!.Str("id"))).ToList();

        Assert.Equal([invited], await Ids("status=pending"));
        Assert.Equal([staffed.OwnerMembershipId, staffed.AdminMembershipId, staffed.MemberMembershipId], await Ids("status=active"));
        Assert.Equal([staffed.AdminMembershipId], await Ids("role=admin"));
        Assert.Equal([invited], await Ids("seatType=community_only"));
        Assert.Equal([staffed.MemberMembershipId], await Ids("role=member&status=active"));
    }

    [Fact]
    public async Task ALinkHeaderAnnouncesTheNextPageKeepingTheFiltersAndTheLastPageHasNone()
    {
        var staffed = await _s.NewStaffedOrg();
        using var first = await _s.As(staffed.Owner).GetAsync($"/api/organizations/{staffed.Id}/members?status=active&limit=2");
        var page = await first.ShouldBe(HttpStatusCode.OK);
        Assert.Equal(2, page.AsArray().Count);
        var next = Paging.Next(first)!;
        Assert.StartsWith($"/api/organizations/{staffed.Id}/members?", next, StringComparison.Ordinal);
        Assert.Contains("status=active", next, StringComparison.Ordinal);
        Assert.Contains("limit=2", next, StringComparison.Ordinal);

        using var second = await _s.As(staffed.Owner).GetAsync(next);
        var last = await second.ShouldBe(HttpStatusCode.OK);
        Assert.Equal(staffed.MemberMembershipId.ToString(), Assert.Single(last.AsArray())!.Str("id"));
        Assert.Null(Paging.Next(second));
        Assert.False(second.Headers.Contains("Link"));
    }

    [Fact]
    public async Task EveryOtherListPagesTheSameWay()
    {
        var staffed = await _s.NewStaffedOrg();
        var me = staffed.Outsider;
        for (var i = 0; i < 3; i++) await _s.RequestToJoin(staffed.Id, RosterApp.NewUser("requester"));
        var invitingOrgs = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            var org = await _s.NewOrg();
            await _s.Invite(org.Id, org.Owner, me);
            invitingOrgs.Add(org.Id);
        }
        for (var i = 0; i < 2; i++) await _s.NewOrg(staffed.Owner);

        async Task WalksWhole(HttpClient client, string list, int expected)
        {
            var (all, _) = await Paging.WalkAsync(client, list);
            var (paged, pages) = await Paging.WalkAsync(client, list + (list.Contains('?') ? "&" : "?") + "limit=1");
            Assert.Equal(expected, all.Count);
            Assert.Equal(all.Select(i => i.ToJsonString()), paged.Select(i => i.ToJsonString()));
            Assert.Equal(Math.Max(1, expected), pages);
        }

        await WalksWhole(_s.As(staffed.Owner), $"/api/organizations/{staffed.Id}/requests", 3);
        await WalksWhole(_s.As(me), "/api/membership-requests/mine/pending", 3);
        await WalksWhole(_s.As(staffed.Owner), "/api/organizations", 3);
        await WalksWhole(_s.As(staffed.Owner), $"/api/organizations/{staffed.Id}/audit", 8); // founded, 2 × (added, accepted), 3 requested
        var requester = RosterApp.NewUser("requester");
        await _s.RequestToJoin(staffed.Id, requester);
        await WalksWhole(_s.As(requester), "/api/membership-requests/mine", 1);
        var (notifications, _) = await Paging.WalkAsync(_s.As(staffed.PlatformAdmin), "/api/admin/notifications?limit=3");
        Assert.Equal(notifications.Count, notifications.Select(n => n.Str("id")).Distinct().Count());
        await (await _s.As(staffed.PlatformAdmin).GetAsync("/api/admin/seat-audit?limit=2")).ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task RolesPageFromEnvironmentRolesIntoTheOrganizationsOwn()
    {
        var staffed = await _s.NewStaffedOrg();
        var now = DateTime.UtcNow;
        var suffix = Guid.NewGuid().ToString("N")[..8];
        await app.WithDbAsync(async db =>
        {
            foreach (var slug in new[] { "a", "b" })
                db.GlobalRoles.Add(new GlobalRole { Id = Guid.CreateVersion7(), WorkosSlug = $"{slug}-{suffix}", Name = slug, CreatedAt = now, UpdatedAt = now });
            foreach (var slug in new[] { "org-x", "org-y", "org-z" })
                db.OrganizationRoles.Add(new OrganizationRole { Id = Guid.CreateVersion7(), OrganizationId = staffed.Id, WorkosSlug = slug, Name = slug, CreatedAt = now, UpdatedAt = now });
            await db.SaveChangesAsync();
        });

        var (whole, _) = await Paging.WalkAsync(_s.As(staffed.Member), $"/api/organizations/{staffed.Id}/roles");
        var (paged, pages) = await Paging.WalkAsync(_s.As(staffed.Member), $"/api/organizations/{staffed.Id}/roles?limit=2");

        Assert.Equal(whole.Select(r => r.Str("urn")), paged.Select(r => r.Str("urn")));
        Assert.Equal(["org-x", "org-y", "org-z"], whole.Where(r => r.Str("type") == "organization").Select(r => r.Str("slug")));
        Assert.Contains($"a-{suffix}", whole.Select(r => r.Str("slug")));
        Assert.Equal((whole.Count + 1) / 2, pages);
    }

    /// <summary>Active members written straight to the database (a thousand adds and accepts over HTTP would take minutes).</summary>
    private Task<List<Guid>> SeedMembersAsync(Guid organizationId, int count, string seatType) => app.WithDbAsync(async db =>
    {
        var now = DateTime.UtcNow;
        var ids = new List<Guid>();
        for (var i = 0; i < count; i++)
        {
            var user = new User { Id = Guid.CreateVersion7(), Email = $"seeded.{Guid.NewGuid():N}@example.com", EmailVerified = true, CreatedAt = now, UpdatedAt = now };
            var membership = new Membership
            {
                Id = Guid.CreateVersion7(), OrganizationId = organizationId, UserId = user.Id, Role = Roles.Member, Status = MembershipStatus.Active,
                Source = MembershipSource.OwnerAdd, SeatType = seatType, CreatedAt = now.AddMilliseconds(i % 7), UpdatedAt = now,
            };
            db.Users.Add(user);
            db.Memberships.Add(membership);
            ids.Add(membership.Id);
        }
        await db.SaveChangesAsync();
        return ids;
    });
}

public sealed class PagingTestsOnSqlite(SqliteApp app) : PagingTests(app), IClassFixture<SqliteApp>;

public sealed class PagingTestsOnPostgres(PostgresApp app) : PagingTests(app), IClassFixture<PostgresApp>;
