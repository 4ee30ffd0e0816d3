using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Roster.Infrastructure.Data;

namespace Roster.Tests.Migrations;

/// <summary>
/// After the last migration the database itself holds the membership invariants, whatever the code does: a pending
/// row says it came from a join request or an owner add, sources are known, and one live row per (organization, user).
/// The EF guard says the same before a row leaves the process.
/// </summary>
public abstract class DatabaseInvariantTests(StorageProvider provider) : MigrationTestBase(provider)
{
    private async Task<(Guid Org, Guid User)> MigratedWithOrgAndUserAsync()
    {
        await NewRunner().MigrateAsync();
        return (await SeedOrganizationAsync(), await SeedUserAsync());
    }

    private async Task<long> MembershipCountAsync() => await Sql.CountAsync("SELECT COUNT(*) FROM memberships");

    // --- CHECK constraints ---------------------------------------------------------------------------------------

    [Fact]
    public async Task ThePendingSourceConstraintIsInPlaceAndTheFullSchemaExists()
    {
        await NewRunner().MigrateAsync();

        Assert.True(await IndexExistsAsync("ux_memberships_live"));
        Assert.True(await IndexExistsAsync("ux_memberships_workos_id"));
        Assert.True(await IndexExistsAsync("ux_memberships_one_pending_join_request"));
        Assert.Equal(0, await Sql.CountAsync("SELECT COUNT(*) FROM seat_reservations"));
        Assert.Equal(0, await Sql.CountAsync("SELECT COUNT(*) FROM notification_outbox"));
    }

    [Fact]
    public async Task APendingRowWithoutASourceIsRefusedByTheDatabase()
    {
        var (org, user) = await MigratedWithOrgAndUserAsync();

        var ex = await Assert.ThrowsAnyAsync<DbException>(() => SeedMembershipAsync(org, user, "pending", null));

        ConstraintAssert.IsCheckViolation(ex, "ck_memberships_pending_source");
        Assert.Equal(0, await MembershipCountAsync());
    }

    [Fact]
    public async Task AnActiveRowWithoutASourceCannotBeTurnedPending()
    {
        var (org, user) = await MigratedWithOrgAndUserAsync();
        var active = await SeedMembershipAsync(org, user, "active", null);

        var ex = await Assert.ThrowsAnyAsync<DbException>(() =>
            Sql.ExecuteAsync("UPDATE memberships SET status = 'pending' WHERE id = @p0", active));

        ConstraintAssert.IsCheckViolation(ex, "ck_memberships_pending_source");
        Assert.Equal("active", await StatusOfAsync(active));
    }

    [Theory]
    [InlineData(MembershipSource.Invitation)]
    [InlineData(MembershipSource.Webhook)]
    [InlineData(MembershipSource.Domain)]
    [InlineData(MembershipSource.Legacy)]
    [InlineData(MembershipSource.Founder)]
    public async Task APendingRowMayOnlyComeFromAJoinRequestOrAnOwnerAdd(string source)
    {
        var (org, user) = await MigratedWithOrgAndUserAsync();

        var ex = await Assert.ThrowsAnyAsync<DbException>(() => SeedMembershipAsync(org, user, "pending", source));

        ConstraintAssert.IsCheckViolation(ex, "ck_memberships_pending_source");
        Assert.Equal(0, await MembershipCountAsync());
    }

    [Theory]
    [InlineData("active")]
    [InlineData("inactive")]
    public async Task AnUnknownSourceIsRefusedByTheDatabase(string status)
    {
        var (org, user) = await MigratedWithOrgAndUserAsync();

        var ex = await Assert.ThrowsAnyAsync<DbException>(() => SeedMembershipAsync(org, user, status, "carrier_pigeon"));

        ConstraintAssert.IsCheckViolation(ex, "ck_memberships_source_known");
        Assert.Equal(0, await MembershipCountAsync());
    }

    [Fact]
    public async Task WellFormedRowsAreAccepted()
    {
        await NewRunner().MigrateAsync();
        var org = await SeedOrganizationAsync();

        await SeedMembershipAsync(org, await SeedUserAsync(), "pending", MembershipSource.JoinRequest);
        await SeedMembershipAsync(org, await SeedUserAsync(), "pending", MembershipSource.OwnerAdd);
        await SeedMembershipAsync(org, await SeedUserAsync(), "active", null);
        foreach (var source in MembershipSource.All)
            await SeedMembershipAsync(org, await SeedUserAsync(), "active", source);

        Assert.Equal(3 + MembershipSource.All.Count, await MembershipCountAsync());
    }

    // --- the EF guard ---------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("pending", null)]
    [InlineData("pending", MembershipSource.Invitation)]
    [InlineData("pending", MembershipSource.Founder)]
    [InlineData("pending", "carrier_pigeon")]
    [InlineData("active", "carrier_pigeon")]
    public async Task TheGuardRefusesABadMembershipBeforeAnythingReachesTheDatabase(string status, string? source)
    {
        await NewRunner().MigrateAsync();
        var commands = new CommandCounter();
        await using var services = GuardedServices(commands);
        using var scope = services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<RosterDb>();
        var (org, user) = NewOrgAndUser(db);
        db.Memberships.Add(NewMembership(org.Id, user.Id, status, source));

        var ex = await Assert.ThrowsAsync<PendingMembershipWithoutSourceException>(() => db.SaveChangesAsync());

        Assert.Contains(source ?? "(none)", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, commands.Count);
        Assert.Equal(0, await Sql.CountAsync("SELECT COUNT(*) FROM organizations"));
        Assert.Equal(0, await MembershipCountAsync());
    }

    [Fact]
    public async Task TheGuardRefusesTurningAnExistingMembershipIntoASourcelessPendingOne()
    {
        await NewRunner().MigrateAsync();
        await using var services = GuardedServices();
        using var scope = services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<RosterDb>();
        var (org, user) = NewOrgAndUser(db);
        var membership = NewMembership(org.Id, user.Id, "active", null);
        db.Memberships.Add(membership);
        await db.SaveChangesAsync();

        membership.Status = MembershipStatus.Pending;
        await Assert.ThrowsAsync<PendingMembershipWithoutSourceException>(() => db.SaveChangesAsync());

        Assert.Equal("active", await StatusOfAsync(membership.Id));
    }

    [Fact]
    public async Task TheGuardLetsWellFormedMembershipsThrough()
    {
        await NewRunner().MigrateAsync();
        var commands = new CommandCounter();
        await using var services = GuardedServices(commands);
        using var scope = services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<RosterDb>();
        var (org, _) = NewOrgAndUser(db);
        foreach (var (status, source) in new[] { ("pending", MembershipSource.JoinRequest), ("pending", MembershipSource.OwnerAdd), ("active", null), ("active", MembershipSource.Founder) })
        {
            var user = new User { Id = Guid.CreateVersion7(), Email = $"{Guid.NewGuid():N}@example.com", CreatedAt = Epoch, UpdatedAt = Epoch };
            db.Users.Add(user);
            db.Memberships.Add(NewMembership(org.Id, user.Id, status, source));
        }

        await db.SaveChangesAsync();

        Assert.Equal(4, await MembershipCountAsync());
        Assert.True(commands.Count > 0, "the command counter saw nothing, so its zero elsewhere would prove nothing");
    }

    [Fact]
    public async Task WithoutTheGuardTheDatabaseStillRefusesASourcelessPendingMembership()
    {
        await NewRunner().MigrateAsync();
        var options = new DbContextOptionsBuilder<RosterDb>();
        StorageRegistration.ConfigureProvider(options, Options, null);
        await using var db = new RosterDb(options.Options);
        var (org, user) = NewOrgAndUser(db);
        db.Memberships.Add(NewMembership(org.Id, user.Id, "pending", null));

        var ex = await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());

        ConstraintAssert.IsCheckViolation(ex, "ck_memberships_pending_source");
        Assert.Equal(0, await MembershipCountAsync());
    }

    // --- unique indexes ---------------------------------------------------------------------------------------------

    [Fact]
    public async Task ASecondLiveMembershipForThePairIsAUniqueViolationButATombstonedOneIsNot()
    {
        var (org, user) = await MigratedWithOrgAndUserAsync();
        var live = await SeedMembershipAsync(org, user, "active", null);

        var ex = await Assert.ThrowsAnyAsync<DbException>(() => SeedMembershipAsync(org, user, "pending", MembershipSource.OwnerAdd));
        ConstraintAssert.IsUniqueViolation(ex, "ux_memberships_live");

        await SeedMembershipAsync(org, user, "active", null, deletedAt: Epoch);
        await SeedMembershipAsync(org, user, "pending", MembershipSource.JoinRequest, deletedAt: Epoch);
        await TombstoneAsync(live);
        var replacement = await SeedMembershipAsync(org, user, "pending", MembershipSource.OwnerAdd);

        Assert.Equal(4, await MembershipCountAsync());
        Assert.Equal(1, await Sql.CountAsync("SELECT COUNT(*) FROM memberships WHERE deleted_at IS NULL"));
        Assert.Equal("pending", await StatusOfAsync(replacement));
    }

    [Fact]
    public async Task ASecondLiveMembershipThroughEfIsAUniqueViolation()
    {
        var (org, user) = await MigratedWithOrgAndUserAsync();
        await SeedMembershipAsync(org, user, "active", null);
        await using var services = GuardedServices();
        using var scope = services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<RosterDb>();
        db.Memberships.Add(NewMembership(org, user, "pending", MembershipSource.OwnerAdd));

        var ex = await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());

        Assert.True(ex.IsUniqueViolation());
        ConstraintAssert.IsUniqueViolation(ex, "ux_memberships_live");
        Assert.Equal(1, await MembershipCountAsync());
    }

    [Fact]
    public async Task MembershipsWhoseUserIsNotKnownLocallyAreOutsideTheLiveIndex()
    {
        var (org, _) = await MigratedWithOrgAndUserAsync();

        await SeedMembershipAsync(org, null, "active", MembershipSource.Webhook);
        await SeedMembershipAsync(org, null, "active", MembershipSource.Webhook);

        Assert.Equal(2, await MembershipCountAsync());
    }

    [Fact]
    public async Task ASecondPendingJoinRequestAnywhereIsAUniqueViolationButAnInvitationIsNot()
    {
        var (orgA, user) = await MigratedWithOrgAndUserAsync();
        var orgB = await SeedOrganizationAsync("B");
        var orgC = await SeedOrganizationAsync("C");
        await SeedMembershipAsync(orgA, user, "pending", MembershipSource.JoinRequest);

        var ex = await Assert.ThrowsAnyAsync<DbException>(() => SeedMembershipAsync(orgB, user, "pending", MembershipSource.JoinRequest));
        ConstraintAssert.IsUniqueViolation(ex, "ux_memberships_one_pending_join_request");

        await SeedMembershipAsync(orgC, user, "pending", MembershipSource.OwnerAdd);
        Assert.Equal(2, await MembershipCountAsync());
    }

    [Fact]
    public async Task ASecondMembershipWithTheSameWorkosIdIsAUniqueViolation()
    {
        var (orgA, user) = await MigratedWithOrgAndUserAsync();
        var orgB = await SeedOrganizationAsync("B");
        await SeedMembershipAsync(orgA, user, "active", MembershipSource.Webhook, workosMembershipId: "om_1");

        var ex = await Assert.ThrowsAnyAsync<DbException>(() =>
            SeedMembershipAsync(orgB, user, "active", MembershipSource.Webhook, workosMembershipId: "om_1"));

        ConstraintAssert.IsUniqueViolation(ex, "ux_memberships_workos_id");
        Assert.Equal(1, await MembershipCountAsync());
    }

    // --- helpers ------------------------------------------------------------------------------------------------------

    private ServiceProvider GuardedServices(CommandCounter? commands = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:Provider"] = Options.Provider.ToString(),
            ["Storage:ConnectionString"] = Options.ConnectionString,
        }).Build();
        var services = new ServiceCollection().AddRosterStorage(configuration);
        if (commands is not null) services.ConfigureDbContext<RosterDb>(db => db.AddInterceptors(commands));
        return services.BuildServiceProvider();
    }

    private static (Organization Org, User User) NewOrgAndUser(RosterDb db)
    {
        var org = new Organization { Id = Guid.CreateVersion7(), Name = "Guarded org", CreatedAt = Epoch, UpdatedAt = Epoch };
        var user = new User { Id = Guid.CreateVersion7(), Email = $"{Guid.NewGuid():N}@example.com", CreatedAt = Epoch, UpdatedAt = Epoch };
        db.Organizations.Add(org);
        db.Users.Add(user);
        return (org, user);
    }

    private static Membership NewMembership(Guid organizationId, Guid? userId, string status, string? source) => new()
    {
        Id = Guid.CreateVersion7(),
        OrganizationId = organizationId,
        UserId = userId,
        Role = Roles.Member,
        Status = status,
        Source = source,
        SeatType = "contributor",
        CreatedAt = Epoch,
        UpdatedAt = Epoch,
    };

    /// <summary>Counts every command EF sends, to show the guard fires before the first one.</summary>
    private sealed class CommandCounter : DbCommandInterceptor
    {
        private int _count;
        public int Count => _count;

        public override InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
        {
            Interlocked.Increment(ref _count);
            return result;
        }

        public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData,
            InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _count);
            return ValueTask.FromResult(result);
        }

        public override InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result)
        {
            Interlocked.Increment(ref _count);
            return result;
        }

        public override ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData,
            InterceptionResult<int> result, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _count);
            return ValueTask.FromResult(result);
        }
    }
}

public sealed class DatabaseInvariantTestsOnSqlite() : DatabaseInvariantTests(StorageProvider.Sqlite);

public sealed class DatabaseInvariantTestsOnPostgres() : DatabaseInvariantTests(StorageProvider.Postgres);
