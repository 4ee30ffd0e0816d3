using System.Net;
using Roster.Infrastructure.Data;
using Roster.Migrations;
using Roster.Tests.Support;

namespace Roster.Tests.Migrations;

/// <summary>The runner re-runs safely, and several instances starting at once apply each migration exactly once.</summary>
public abstract class RerunAndConcurrencyTests(StorageProvider provider) : MigrationTestBase(provider)
{
    [Fact]
    public async Task RunningTheRunnerAgainAppliesNothing()
    {
        var first = await NewRunner().MigrateAsync();
        var second = await NewRunner().MigrateAsync();
        var third = await NewRunner().MigrateAsync(upToVersion: "0002");

        Assert.Equal(AllVersions, first);
        Assert.Empty(second);
        Assert.Empty(third);
        Assert.Equal(AllVersions, await RecordedVersionsAsync());
        var status = await NewRunner().StatusAsync();
        Assert.Equal(MigrationCatalog.All.Select(m => (m.Version, m.Name)), status.Select(s => (s.Version, s.Name)));
        Assert.All(status, s => Assert.NotNull(s.AppliedAt));
        Assert.All(status, s => Assert.InRange(s.AppliedAt!.Value, DateTime.UtcNow.AddMinutes(-5), DateTime.UtcNow.AddMinutes(1)));
    }

    [Fact]
    public async Task StatusOfAFreshDatabaseListsEveryMigrationAsPending()
    {
        var status = await NewRunner().StatusAsync();

        Assert.Equal(AllVersions, status.Select(s => s.Version));
        Assert.All(status, s => Assert.Null(s.AppliedAt));
    }

    [Fact]
    public async Task MigratingOneVersionAtATimeAppliesExactlyThatVersion()
    {
        var expected = new List<string>();
        foreach (var version in AllVersions)
        {
            Assert.Equal([version], await NewRunner().MigrateAsync(upToVersion: version));
            expected.Add(version);
            Assert.Equal(expected, (await NewRunner().StatusAsync()).Where(s => s.AppliedAt is not null).Select(s => s.Version));
        }
        Assert.Equal(AllVersions, await RecordedVersionsAsync());
    }

    [Fact]
    public async Task ConcurrentRunnersOnAFreshDatabaseApplyEachMigrationExactlyOnce()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => NewRunner().MigrateAsync())));

        Assert.Equal(AllVersions, results.SelectMany(applied => applied).Order(StringComparer.Ordinal));
        Assert.Equal(AllVersions, await RecordedVersionsAsync());
    }

    [Fact]
    public async Task ConcurrentRunnersUpgradingALegacyDatabaseBackfillItOnce()
    {
        await NewRunner().MigrateAsync(upToVersion: "0001");
        var org = await SeedOrganizationAsync();
        var pending = await SeedLegacyMembershipAsync(org, await SeedUserAsync(), "pending");
        var active = await SeedLegacyMembershipAsync(org, await SeedUserAsync(), "active");

        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => NewRunner().MigrateAsync())));

        Assert.Equal(VersionsAfter("0001"), results.SelectMany(applied => applied).Order(StringComparer.Ordinal));
        Assert.Equal(AllVersions, await RecordedVersionsAsync());
        Assert.Equal(MembershipSource.JoinRequest, await SourceOfAsync(pending));
        Assert.Null(await SourceOfAsync(active));
        Assert.Equal(2, await Sql.CountAsync("SELECT COUNT(*) FROM memberships"));
    }

    [Fact]
    public async Task TwoInstancesStartingAtOnceBothComeUpOnAFullyMigratedDatabase()
    {
        await using var a = new HostOn(Options);
        await using var b = new HostOn(Options);

        await Task.WhenAll(Task.Run(() => a.Services), Task.Run(() => b.Services));

        Assert.Equal(AllVersions, await RecordedVersionsAsync());
        foreach (var host in new[] { a, b })
            await (await host.ClientFor(null).GetAsync("/health/ready")).ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task WithMigrateOnStartupOffTheServiceAppliesNothingAndIsNotReadyUntilMigrated()
    {
        await using var host = new HostOn(Options, migrateOnStartup: false);

        var notReady = await (await host.ClientFor(null).GetAsync("/health/ready")).ShouldBe(HttpStatusCode.ServiceUnavailable);

        Assert.Contains(string.Join(", ", AllVersions), notReady.Str("detail"), StringComparison.Ordinal);
        Assert.All(await NewRunner().StatusAsync(), s => Assert.Null(s.AppliedAt));

        await NewRunner().MigrateAsync();
        await (await host.ClientFor(null).GetAsync("/health/ready")).ShouldBe(HttpStatusCode.OK);
    }
}

public sealed class RerunAndConcurrencyTestsOnSqlite() : RerunAndConcurrencyTests(StorageProvider.Sqlite);

public sealed class RerunAndConcurrencyTestsOnPostgres() : RerunAndConcurrencyTests(StorageProvider.Postgres);
