using Roster.Cli;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Roster.Infrastructure.Data;
using Roster.Migrations;

namespace Roster.Tests.Migrations;

/// <summary>
/// The unique-index migrations refuse to run over data that breaks them, name the offending membership ids, change
/// nothing, and go through once the operator has cleaned up.
/// </summary>
public abstract class DuplicateGuardTests(StorageProvider provider) : MigrationTestBase(provider)
{
    [Fact]
    public async Task TwoLiveMembershipsForOnePairAbortTheUniqueIndexMigrationListingBothIds()
    {
        await NewRunner().MigrateAsync(upToVersion: "0002");
        var org = await SeedOrganizationAsync();
        var user = await SeedUserAsync();
        var first = await SeedMembershipAsync(org, user, "active", null, minutesAfterEpoch: 1);
        var second = await SeedMembershipAsync(org, user, "pending", MembershipSource.JoinRequest, minutesAfterEpoch: 2);
        var tombstoned = await SeedMembershipAsync(org, user, "active", null, deletedAt: Epoch, minutesAfterEpoch: 0);
        var bystander = await SeedMembershipAsync(org, await SeedUserAsync(), "active", null);
        // Rows whose user is not known locally are outside the index, however many there are.
        await SeedMembershipAsync(org, null, "active", MembershipSource.Webhook);
        await SeedMembershipAsync(org, null, "active", MembershipSource.Webhook);

        var ex = await Assert.ThrowsAsync<MigrationAbortedException>(() => NewRunner().MigrateAsync());

        Assert.Equal("0003", ex.Version);
        Assert.Equal([first.ToString(), second.ToString()], ex.Ids);
        Assert.Contains(first.ToString(), ex.Message, StringComparison.Ordinal);
        Assert.Contains(second.ToString(), ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(tombstoned.ToString(), ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(bystander.ToString(), ex.Message, StringComparison.Ordinal);
        Assert.Contains("0003", ex.Message, StringComparison.Ordinal);
        Assert.Equal(["0001", "0002"], await RecordedVersionsAsync());
        Assert.False(await IndexExistsAsync("ux_memberships_live"));
        Assert.Contains(await NewRunner().StatusAsync(), s => s is { Version: "0003", AppliedAt: null });

        // Running it again without fixing anything aborts the same way.
        await Assert.ThrowsAsync<MigrationAbortedException>(() => NewRunner().MigrateAsync());
        Assert.Equal(["0001", "0002"], await RecordedVersionsAsync());

        await TombstoneAsync(second);
        var applied = await NewRunner().MigrateAsync();

        Assert.Equal(VersionsAfter("0002"), applied);
        Assert.Equal(AllVersions, await RecordedVersionsAsync());
        Assert.True(await IndexExistsAsync("ux_memberships_live"));
    }

    [Fact]
    public async Task DuplicatesAcrossSeveralPairsAreAllListed()
    {
        await NewRunner().MigrateAsync(upToVersion: "0002");
        var orgA = await SeedOrganizationAsync("A");
        var orgB = await SeedOrganizationAsync("B");
        var user = await SeedUserAsync();
        var other = await SeedUserAsync();
        var ids = new[]
        {
            await SeedMembershipAsync(orgA, user, "active", null, minutesAfterEpoch: 1),
            await SeedMembershipAsync(orgA, user, "inactive", null, minutesAfterEpoch: 2),
            await SeedMembershipAsync(orgB, other, "active", null, minutesAfterEpoch: 1),
            await SeedMembershipAsync(orgB, other, "active", null, minutesAfterEpoch: 2),
            await SeedMembershipAsync(orgB, other, "pending", MembershipSource.OwnerAdd, minutesAfterEpoch: 3),
        };
        // The same user in two different organizations is not a duplicate.
        var legitimate = await SeedMembershipAsync(orgB, user, "active", null);

        var ex = await Assert.ThrowsAsync<MigrationAbortedException>(() => NewRunner().MigrateAsync());

        Assert.Equal(ids.Select(i => i.ToString()).Order(StringComparer.Ordinal), ex.Ids.Order(StringComparer.Ordinal));
        Assert.DoesNotContain(legitimate.ToString(), ex.Ids);
    }

    [Fact]
    public async Task DuplicateWorkosMembershipIdsAbortTheUniqueIndexMigrationListingBothIds()
    {
        await NewRunner().MigrateAsync(upToVersion: "0002");
        var orgA = await SeedOrganizationAsync("A");
        var orgB = await SeedOrganizationAsync("B");
        var first = await SeedMembershipAsync(orgA, await SeedUserAsync(), "active", MembershipSource.Webhook,
            workosMembershipId: "om_shared", minutesAfterEpoch: 1);
        var second = await SeedMembershipAsync(orgB, await SeedUserAsync(), "active", MembershipSource.Webhook,
            workosMembershipId: "om_shared", minutesAfterEpoch: 2);
        await SeedMembershipAsync(orgA, await SeedUserAsync(), "active", MembershipSource.Webhook, workosMembershipId: "om_unique");

        var ex = await Assert.ThrowsAsync<MigrationAbortedException>(() => NewRunner().MigrateAsync());

        Assert.Equal("0003", ex.Version);
        Assert.Equal([first.ToString(), second.ToString()], ex.Ids);
        Assert.Contains(first.ToString(), ex.Message, StringComparison.Ordinal);
        Assert.Contains(second.ToString(), ex.Message, StringComparison.Ordinal);
        Assert.Equal(["0001", "0002"], await RecordedVersionsAsync());

        await Sql.ExecuteAsync("UPDATE memberships SET workos_membership_id = NULL WHERE id = @p0", second);
        Assert.Equal(VersionsAfter("0002"), await NewRunner().MigrateAsync());
    }

    [Fact]
    public async Task BothKindsOfDuplicateAreReportedInOneRun()
    {
        await NewRunner().MigrateAsync(upToVersion: "0002");
        var orgA = await SeedOrganizationAsync("A");
        var orgB = await SeedOrganizationAsync("B");
        var user = await SeedUserAsync();
        var pairFirst = await SeedMembershipAsync(orgA, user, "active", null, minutesAfterEpoch: 1);
        var pairSecond = await SeedMembershipAsync(orgA, user, "active", null, minutesAfterEpoch: 2);
        // A tombstoned row still holds its WorkOS id, and that id's index covers it.
        var sharedFirst = await SeedMembershipAsync(orgB, await SeedUserAsync(), "active", MembershipSource.Webhook,
            deletedAt: Epoch, workosMembershipId: "om_shared", minutesAfterEpoch: 1);
        var sharedSecond = await SeedMembershipAsync(orgB, await SeedUserAsync(), "active", MembershipSource.Webhook,
            workosMembershipId: "om_shared", minutesAfterEpoch: 2);

        var ex = await Assert.ThrowsAsync<MigrationAbortedException>(() => NewRunner().MigrateAsync());

        Assert.Equal([pairFirst.ToString(), pairSecond.ToString(), sharedFirst.ToString(), sharedSecond.ToString()], ex.Ids);
        Assert.Contains("(organization, user)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("WorkOS membership id", ex.Message, StringComparison.Ordinal);
        Assert.Equal(["0001", "0002"], await RecordedVersionsAsync());
    }

    [Fact]
    public async Task SeveralPendingJoinRequestsByOneUserAbortTheOneRequestMigrationListingThem()
    {
        await NewRunner().MigrateAsync(upToVersion: "0003");
        var orgA = await SeedOrganizationAsync("A");
        var orgB = await SeedOrganizationAsync("B");
        var orgC = await SeedOrganizationAsync("C");
        var user = await SeedUserAsync();
        var first = await SeedMembershipAsync(orgA, user, "pending", MembershipSource.JoinRequest, minutesAfterEpoch: 1);
        var second = await SeedMembershipAsync(orgB, user, "pending", MembershipSource.JoinRequest, minutesAfterEpoch: 2);
        // Invitations and withdrawn requests do not count.
        var invitation = await SeedMembershipAsync(orgC, user, "pending", MembershipSource.OwnerAdd);
        var withdrawn = await SeedMembershipAsync(orgC, await SeedUserAsync(), "pending", MembershipSource.JoinRequest, deletedAt: Epoch);
        // Another user's single request is fine.
        var single = await SeedMembershipAsync(orgA, await SeedUserAsync(), "pending", MembershipSource.JoinRequest);

        var ex = await Assert.ThrowsAsync<MigrationAbortedException>(() => NewRunner().MigrateAsync());

        Assert.Equal("0004", ex.Version);
        Assert.Equal([first.ToString(), second.ToString()], ex.Ids);
        Assert.Contains(first.ToString(), ex.Message, StringComparison.Ordinal);
        Assert.Contains(second.ToString(), ex.Message, StringComparison.Ordinal);
        foreach (var id in new[] { invitation, withdrawn, single })
            Assert.DoesNotContain(id.ToString(), ex.Message, StringComparison.Ordinal);
        Assert.Equal(["0001", "0002", "0003"], await RecordedVersionsAsync());
        Assert.False(await IndexExistsAsync("ux_memberships_one_pending_join_request"));

        await TombstoneAsync(first);
        Assert.Equal(VersionsAfter("0003"), await NewRunner().MigrateAsync());
        Assert.True(await IndexExistsAsync("ux_memberships_one_pending_join_request"));
    }

    [Fact]
    public async Task TheMigrateCommandReportsTheAbortAndFailsWithoutATrace()
    {
        await NewRunner().MigrateAsync(upToVersion: "0002");
        var org = await SeedOrganizationAsync();
        var user = await SeedUserAsync();
        var first = await SeedMembershipAsync(org, user, "active", null, minutesAfterEpoch: 1);
        var second = await SeedMembershipAsync(org, user, "active", null, minutesAfterEpoch: 2);
        await using var services = new ServiceCollection()
            .AddSingleton(Options)
            .AddSingleton<ILogger<MigrationRunner>>(NullLogger<MigrationRunner>.Instance)
            .AddSingleton<MigrationRunner>()
            .BuildServiceProvider();
        var output = new StringWriter();
        var error = new StringWriter();

        var code = await RosterCommands.RunAsync(services, ["migrate"], output, error);

        Assert.Equal(1, code);
        Assert.Contains("0003", error.ToString(), StringComparison.Ordinal);
        Assert.Contains(first.ToString(), error.ToString(), StringComparison.Ordinal);
        Assert.Contains(second.ToString(), error.ToString(), StringComparison.Ordinal);

        var status = new StringWriter();
        Assert.Equal(0, await RosterCommands.RunAsync(services, ["migrate", "--status"], status, error));
        var lines = status.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(MigrationCatalog.All.Count, lines.Length);
        Assert.Contains(lines, l => l.StartsWith("0002_membership_source\tapplied ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l == "0003_unique_live_membership\tpending");
    }
}

public sealed class DuplicateGuardTestsOnSqlite() : DuplicateGuardTests(StorageProvider.Sqlite);

public sealed class DuplicateGuardTestsOnPostgres() : DuplicateGuardTests(StorageProvider.Postgres);
