using System.Data.Common;
using System.Net;
using Roster.Infrastructure.Data;
using Roster.Migrations;
using Roster.Tests.Support;

namespace Roster.Tests.Migrations;

/// <summary>
/// The seed system's legacy step: memberships first had no source; 0002 adds it, backfills join_request on pending
/// rows only, and then constrains it.
/// </summary>
public abstract class LegacyBackfillTests(StorageProvider provider) : MigrationTestBase(provider)
{
    [Fact]
    public async Task TheHistoryStartsWithTheSourcelessSchemaThenAddsSourceThenTheUniqueIndex()
    {
        Assert.Equal(
            ["0001_initial", "0002_membership_source", "0003_unique_live_membership"],
            MigrationCatalog.All.Take(3).Select(m => $"{m.Version}_{m.Name}"));

        var applied = await NewRunner().MigrateAsync(upToVersion: "0001");

        Assert.Equal(["0001"], applied);
        Assert.Equal(["0001"], await RecordedVersionsAsync());
        await Assert.ThrowsAnyAsync<DbException>(() => Sql.QueryAsync("SELECT source FROM memberships"));
    }

    [Fact]
    public async Task EveryPendingRowBecomesAJoinRequestAndNoOtherRowGetsASource()
    {
        await NewRunner().MigrateAsync(upToVersion: "0001");
        var org = await SeedOrganizationAsync();
        var other = await SeedOrganizationAsync("Other legacy org");
        var owner = await SeedLegacyMembershipAsync(org, await SeedUserAsync(), "active", role: "owner");
        var active = await SeedLegacyMembershipAsync(org, await SeedUserAsync(), "active");
        var inactive = await SeedLegacyMembershipAsync(org, await SeedUserAsync(), "inactive");
        var pending = new[]
        {
            await SeedLegacyMembershipAsync(org, await SeedUserAsync(), "pending"),
            await SeedLegacyMembershipAsync(org, await SeedUserAsync(), "pending", minutesAfterEpoch: 1),
            await SeedLegacyMembershipAsync(other, await SeedUserAsync(), "pending"),
            // Not known locally yet: no user row, only the WorkOS user id.
            await SeedLegacyMembershipAsync(other, null, "pending", workosUserId: "user_not_local_yet"),
            // A tombstoned request still has to satisfy the constraint.
            await SeedLegacyMembershipAsync(other, await SeedUserAsync(), "pending", deletedAt: Epoch.AddDays(2)),
        };

        var applied = await NewRunner().MigrateAsync();

        Assert.Equal(VersionsAfter("0001"), applied);
        Assert.Equal(AllVersions, await RecordedVersionsAsync());
        foreach (var id in pending)
        {
            Assert.Equal(MembershipSource.JoinRequest, await SourceOfAsync(id));
            Assert.Equal("pending", await StatusOfAsync(id));
        }
        foreach (var id in new[] { owner, active, inactive })
            Assert.Null(await SourceOfAsync(id));
        Assert.Equal("active", await StatusOfAsync(active));
        Assert.Equal("inactive", await StatusOfAsync(inactive));
        Assert.Equal(0, await Sql.CountAsync("SELECT COUNT(*) FROM memberships WHERE status = 'pending' AND source IS NULL"));
        Assert.Equal(8, await Sql.CountAsync("SELECT COUNT(*) FROM memberships"));
    }

    [Fact]
    public async Task TheBackfillNeverOverwritesAnExistingSourceAndAppliesNothingTheSecondTime()
    {
        await NewRunner().MigrateAsync(upToVersion: "0001");
        var org = await SeedOrganizationAsync();
        var backfilled = await SeedLegacyMembershipAsync(org, await SeedUserAsync(), "pending");
        var laterInvited = await SeedLegacyMembershipAsync(org, await SeedUserAsync(), "pending");
        var activeWithout = await SeedLegacyMembershipAsync(org, await SeedUserAsync(), "active");
        var activeWith = await SeedLegacyMembershipAsync(org, await SeedUserAsync(), "active");
        await NewRunner().MigrateAsync();
        // Rows that say where they came from after the migration (as the application writes them).
        await Sql.ExecuteAsync("UPDATE memberships SET source = 'owner_add' WHERE id = @p0", laterInvited);
        await Sql.ExecuteAsync("UPDATE memberships SET source = 'webhook' WHERE id = @p0", activeWith);

        // The backfill statement itself, exactly as 0002 ships it, run again twice.
        var backfill = BackfillStatement();
        Assert.Equal(0, await Sql.ExecuteAsync(backfill));
        Assert.Equal(0, await Sql.ExecuteAsync(backfill));
        Assert.Empty(await NewRunner().MigrateAsync());

        Assert.Equal(MembershipSource.JoinRequest, await SourceOfAsync(backfilled));
        Assert.Equal(MembershipSource.OwnerAdd, await SourceOfAsync(laterInvited));
        Assert.Null(await SourceOfAsync(activeWithout));
        Assert.Equal(MembershipSource.Webhook, await SourceOfAsync(activeWith));
        Assert.Equal(AllVersions, await RecordedVersionsAsync());
    }

    [Fact]
    public async Task MigratedLegacyRequestsShowUpForTheOwnerAndCanBeApproved()
    {
        await NewRunner().MigrateAsync(upToVersion: "0001");
        var ownerUser = RosterApp.NewUser("owner");
        var requesterUser = RosterApp.NewUser("requester");
        var org = await SeedOrganizationAsync();
        await SeedLegacyMembershipAsync(org, await SeedUserAsync(ownerUser), "active", role: "owner");
        var request = await SeedLegacyMembershipAsync(org, await SeedUserAsync(requesterUser), "pending", minutesAfterEpoch: 5);
        var withdrawn = await SeedLegacyMembershipAsync(org, await SeedUserAsync(), "pending", deletedAt: Epoch.AddDays(1));

        // The host migrates the legacy database when it starts (Storage:MigrateOnStartup).
        await using var host = new HostOn(Options);
        var owner = host.ClientFor(ownerUser);

        var list = (await (await owner.GetAsync($"/api/organizations/{org}/requests")).ShouldBe(HttpStatusCode.OK)).AsArray();
        var listed = Assert.Single(list)!;
        Assert.Equal(request.ToString(), listed.Str("id"));
        Assert.Equal("pending", listed.Str("status"));
        Assert.Equal(MembershipSource.JoinRequest, listed.Str("source"));
        Assert.Equal(requesterUser.Email, listed.Str("email"));
        Assert.DoesNotContain(list, m => m!.Str("id") == withdrawn.ToString());

        var approved = await (await owner.PutJson($"/api/organizations/{org}/requests/{request}/approve")).ShouldBe(HttpStatusCode.OK);
        Assert.Equal("active", approved.Str("status"));
        Assert.Equal(MembershipSource.JoinRequest, approved.Str("source"));
        Assert.Equal(AllVersions, await RecordedVersionsAsync());
    }

    private string BackfillStatement()
    {
        var resource = MigrationCatalog.All.Single(m => m.Version == "0002")
            .ResourceName(Provider == StorageProvider.Postgres ? "Postgres" : "Sqlite");
        using var stream = typeof(MigrationRunner).Assembly.GetManifestResourceStream(resource)!;
        var script = new StreamReader(stream).ReadToEnd();
        var start = script.IndexOf("UPDATE memberships", StringComparison.Ordinal);
        Assert.True(start >= 0, "0002 has no backfill UPDATE");
        Assert.Equal(start, script.LastIndexOf("UPDATE memberships", StringComparison.Ordinal));
        return script[start..(script.IndexOf(';', start) + 1)];
    }
}

public sealed class LegacyBackfillTestsOnSqlite() : LegacyBackfillTests(StorageProvider.Sqlite);

public sealed class LegacyBackfillTestsOnPostgres() : LegacyBackfillTests(StorageProvider.Postgres);
