using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Roster.Infrastructure.Data;

/// <summary>
/// The schema itself is owned by the SQL migrations under src/Migrations; this model only maps onto it,
/// so names here must match those scripts column for column.
/// </summary>
public sealed class RosterDb(DbContextOptions<RosterDb> options) : DbContext(options)
{
    public DbSet<Organization> Organizations => Set<Organization>();
    public DbSet<User> Users => Set<User>();
    public DbSet<Membership> Memberships => Set<Membership>();
    public DbSet<SeatReservation> SeatReservations => Set<SeatReservation>();
    public DbSet<AuditEvent> AuditEvents => Set<AuditEvent>();
    public DbSet<NotificationOutboxRow> NotificationOutbox => Set<NotificationOutboxRow>();
    public DbSet<WebhookEvent> WebhookEvents => Set<WebhookEvent>();
    public DbSet<MembershipRefusal> MembershipRefusals => Set<MembershipRefusal>();
    public DbSet<SeatWarningState> SeatWarningStates => Set<SeatWarningState>();
    public DbSet<GlobalRole> GlobalRoles => Set<GlobalRole>();
    public DbSet<OrganizationRole> OrganizationRoles => Set<OrganizationRole>();
    public DbSet<OrganizationRoleAssignment> RoleAssignments => Set<OrganizationRoleAssignment>();
    public DbSet<WorkosOrganizationSync> OrganizationSyncs => Set<WorkosOrganizationSync>();
    public DbSet<WorkosUserSync> UserSyncs => Set<WorkosUserSync>();
    public DbSet<IdempotencyRecord> IdempotencyKeys => Set<IdempotencyRecord>();
    public DbSet<Roster.Infrastructure.Changes.ChangeRow> Changes => Set<Roster.Infrastructure.Changes.ChangeRow>();
    public DbSet<Roster.Infrastructure.Changes.ChangeFeedCounter> ChangeFeedCounters => Set<Roster.Infrastructure.Changes.ChangeFeedCounter>();
    public DbSet<Roster.Infrastructure.Changes.WebhookSubscription> WebhookSubscriptions => Set<Roster.Infrastructure.Changes.WebhookSubscription>();
    public DbSet<Roster.Infrastructure.Changes.WebhookDelivery> WebhookDeliveries => Set<Roster.Infrastructure.Changes.WebhookDelivery>();

    /// <summary>
    /// Staged change rows are numbered (and audit rows chained) under their organization's lock before they are written
    /// (<see cref="Roster.Infrastructure.Changes.ChangeLog.StampAsync"/>); a save with staged changes outside a transaction gets one.
    /// </summary>
    public override async Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        if (Database.CurrentTransaction is null && ChangeTracker.Entries<Roster.Infrastructure.Changes.ChangeRow>().Any(e => e.State == EntityState.Added))
        {
            await using var tx = await Database.BeginTransactionAsync(cancellationToken);
            var saved = await SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
            await tx.CommitAsync(cancellationToken);
            return saved;
        }
        var stamp = await Roster.Infrastructure.Changes.ChangeLog.StampAsync(this, cancellationToken);
        try
        {
            var saved = await base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
            if (stamp is not null)
            {
                stamp.Saved();
                ChangesAwaitCommit = true;
            }
            return saved;
        }
        finally
        {
            stamp?.Release();
        }
    }

    /// <summary>Set once changes were saved in the open transaction; its commit wakes the sequencer (<see cref="ChangeCommitSignal"/>).</summary>
    internal bool ChangesAwaitCommit;

    public override int SaveChanges(bool acceptAllChangesOnSuccess) =>
        ChangeTracker.Entries<Roster.Infrastructure.Changes.ChangeRow>().Any(e => e.State == EntityState.Added)
            ? throw new InvalidOperationException("Changes are numbered under a lock taken asynchronously: use SaveChangesAsync.")
            : base.SaveChanges(acceptAllChangesOnSuccess);

    protected override void OnModelCreating(ModelBuilder model)
    {
        model.Entity<Organization>().ToTable("organizations");
        model.Entity<User>().ToTable("users");
        model.Entity<Membership>().ToTable("memberships");
        // The foreign keys exist in the SQL schema; EF needs them to order inserts (organization before its members).
        model.Entity<Membership>().HasOne<Organization>().WithMany().HasForeignKey(m => m.OrganizationId);
        model.Entity<Membership>().HasOne<User>().WithMany().HasForeignKey(m => m.UserId);
        model.Entity<SeatReservation>().HasOne<Organization>().WithMany().HasForeignKey(r => r.OrganizationId);
        model.Entity<SeatReservation>().ToTable("seat_reservations");
        model.Entity<AuditEvent>().ToTable("audit_events");
        model.Entity<NotificationOutboxRow>().ToTable("notification_outbox");
        model.Entity<WebhookEvent>().ToTable("webhook_events").HasKey(e => e.EventId);
        model.Entity<MembershipRefusal>().ToTable("membership_refusals");
        model.Entity<SeatWarningState>().ToTable("seat_warning_states").HasKey(s => new { s.OrganizationId, s.SeatType });
        model.Entity<GlobalRole>().ToTable("global_roles").Ignore(r => r.Urn);
        model.Entity<OrganizationRole>().ToTable("organization_roles").Ignore(r => r.Urn);
        model.Entity<OrganizationRole>().HasOne<Organization>().WithMany().HasForeignKey(r => r.OrganizationId);
        model.Entity<OrganizationRoleAssignment>().ToTable("organization_role_assignments");
        model.Entity<OrganizationRoleAssignment>().HasOne<Organization>().WithMany().HasForeignKey(a => a.OrganizationId);
        model.Entity<WorkosOrganizationSync>().ToTable("workos_organization_syncs").HasKey(s => s.WorkosOrganizationId);
        model.Entity<WorkosUserSync>().ToTable("workos_user_syncs").HasKey(s => s.WorkosUserId);
        model.Entity<IdempotencyRecord>().ToTable("idempotency_keys").HasKey(r => new { r.UserId, r.Key });
        model.Entity<Roster.Infrastructure.Changes.ChangeRow>().ToTable("changes");
        model.Entity<Roster.Infrastructure.Changes.ChangeRow>().HasOne<Organization>().WithMany().HasForeignKey(c => c.OrganizationId);
        model.Entity<Roster.Infrastructure.Changes.ChangeFeedCounter>().ToTable("change_feed_counters").HasKey(c => c.Name);
        model.Entity<Roster.Infrastructure.Changes.WebhookSubscription>().ToTable("webhook_subscriptions");
        model.Entity<Roster.Infrastructure.Changes.WebhookDelivery>().ToTable("webhook_deliveries");
        model.Entity<Roster.Infrastructure.Changes.WebhookDelivery>().HasOne<Roster.Infrastructure.Changes.WebhookSubscription>()
            .WithMany().HasForeignKey(d => d.SubscriptionId);

        foreach (var entity in model.Model.GetEntityTypes())
        {
            foreach (var property in entity.GetProperties())
            {
                property.SetColumnName(SnakeCase(property.Name));
                property.ValueGenerated = Microsoft.EntityFrameworkCore.Metadata.ValueGenerated.Never;
            }
        }
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder conventions)
    {
        // SQLite hands DateTime back with Kind=Unspecified; every time Roster stores is UTC.
        conventions.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();
        conventions.Properties<DateTime?>().HaveConversion<UtcDateTimeConverter>();
    }

    private sealed class UtcDateTimeConverter() : ValueConverter<DateTime, DateTime>(
        v => v.Kind == DateTimeKind.Utc ? v : v.ToUniversalTime(),
        v => DateTime.SpecifyKind(v, DateTimeKind.Utc));

    internal static string SnakeCase(string name)
    {
        var sb = new StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c))
            {
                if (i > 0) sb.Append('_');
                sb.Append(char.ToLowerInvariant(c));
            }
            else
            {
                sb.Append(c);
            }
        }
        return sb.ToString();
    }
}
