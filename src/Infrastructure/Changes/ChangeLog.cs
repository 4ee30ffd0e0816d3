using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Roster.Infrastructure.Data;

namespace Roster.Infrastructure.Changes;

/// <summary>
/// Appends change rows in the transaction of the change they describe. <see cref="Stage"/> only adds the row to the unit
/// of work; <see cref="StampAsync"/> (run by <see cref="RosterDb.SaveChangesAsync(bool, CancellationToken)"/>) numbers
/// the staged rows of each organization from the organization's counter and chains its audit rows, under the
/// organization's row lock. Where the transaction already holds that lock (<see cref="Infrastructure.Seats.SeatLedger"/>'s
/// lock statement returns the counter and the chain head with the plan), numbering costs no round trip: the counter's
/// new value is written in the same batch as the inserts. Otherwise the lock is taken here, one statement per organization.
/// </summary>
public static class ChangeLog
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static long _staged;

    /// <summary>The counter and chain head of an organization as this transaction holds them (under its row lock).</summary>
    public sealed class Head(long sequence, string? auditHead)
    {
        public long Sequence { get; set; } = sequence;
        public string? AuditHead { get; set; } = auditHead;
    }

    // Per transaction: a head is only good while the lock it was read under is held. Keyed by EF's transaction object,
    // which is new for every transaction (Npgsql reuses its own transaction object on a pooled connection).
    private static readonly ConditionalWeakTable<IDbContextTransaction, Dictionary<Guid, Head>> Heads = new();

    /// <summary>Called by the seat lock with what its statement returned: this transaction now holds the organization's row.</summary>
    public static void Locked(RosterDb db, Guid organizationId, long sequence, string? auditHead)
    {
        if (db.Database.CurrentTransaction is not { } tx) return;
        Heads.GetOrCreateValue(tx)[organizationId] = new Head(sequence, auditHead);
    }

    public static ChangeRow Stage(RosterDb db, Guid organizationId, string type, DateTime at, Guid? actor, string via,
        MembershipSnapshot? membership = null, PreviousState? previous = null, AuditEvent? audit = null, Guid? membershipId = null, Guid? subjectUserId = null)
    {
        if (!ChangeTypes.IsKnown(type)) throw new ArgumentException($"'{type}' is not a change type.", nameof(type));
        var row = new ChangeRow
        {
            Id = Guid.CreateVersion7(),
            OrganizationId = organizationId,
            At = Micros(at),
            Type = type,
            MembershipId = membership?.Id ?? membershipId,
            SubjectUserId = membership?.UserId ?? subjectUserId,
            Snapshot = membership is null ? null : membership with
            {
                CreatedAt = Micros(membership.CreatedAt), UpdatedAt = Micros(membership.UpdatedAt),
                ExpiresAt = membership.ExpiresAt is { } e ? Micros(e) : null,
            },
            Previous = previous is null ? null : JsonSerializer.Serialize(previous, Json),
            ActorUserId = actor,
            Via = via,
            StagedOrder = Interlocked.Increment(ref _staged),
            AuditRow = audit,
        };
        row.Membership = row.Snapshot is null ? null : JsonSerializer.Serialize(row.Snapshot, Json);
        db.Set<ChangeRow>().Add(row);
        return row;
    }

    /// <summary>
    /// Completes each staged membership with its person's email and name as this unit of work commits them: from the user
    /// tracked in it (a change to the person in the same transaction is what commits), else read once for all of them.
    /// </summary>
    private static async Task CompletePeopleAsync(RosterDb db, List<ChangeRow> staged, CancellationToken ct)
    {
        var wanted = staged.Where(c => c.Snapshot is { UserId: not null, Email: null }).ToList();
        if (wanted.Count == 0) return;
        var people = db.ChangeTracker.Entries<User>().Where(e => e.State != EntityState.Deleted)
            .GroupBy(e => e.Entity.Id).ToDictionary(g => g.Key, g => (g.First().Entity.Email, g.First().Entity.Name));
        var missing = wanted.Select(c => c.Snapshot!.UserId!.Value).Where(id => !people.ContainsKey(id)).Distinct().ToList();
        if (missing.Count > 0)
            foreach (var u in await db.Users.AsNoTracking().Where(u => missing.Contains(u.Id)).Select(u => new { u.Id, u.Email, u.Name }).ToListAsync(ct))
                people[u.Id] = (u.Email, u.Name);
        foreach (var change in wanted)
        {
            if (!people.TryGetValue(change.Snapshot!.UserId!.Value, out var person)) continue;
            change.Snapshot = change.Snapshot with { Email = person.Email, Name = person.Name };
            change.Membership = JsonSerializer.Serialize(change.Snapshot, Json);
        }
    }

    public static MembershipSnapshot Snapshot(Membership m) =>
        new(m.Id, m.OrganizationId, m.UserId, m.Role, m.Status, m.Source, m.SeatType, m.AddedBy, m.CreatedAt, m.UpdatedAt, m.ExpiresAt);

    public static T? Read<T>(string? json) where T : class => json is null ? null : JsonSerializer.Deserialize<T>(json, Json);

    /// <summary>PostgreSQL keeps microseconds: a time that is hashed or compared must be the one that comes back.</summary>
    public static DateTime Micros(DateTime t) => new(t.Ticks - t.Ticks % 10, DateTimeKind.Utc);

    /// <summary>Work to finish once the save succeeded (the heads move only then; stubs are let go either way).</summary>
    public sealed class Stamp(Dictionary<Guid, Head> heads, Dictionary<Guid, Head> next, List<Organization> stubs, RosterDb db)
    {
        public void Saved()
        {
            foreach (var (id, head) in next) heads[id] = head;
        }

        public void Release()
        {
            foreach (var stub in stubs) db.Entry(stub).State = EntityState.Detached;
        }
    }

    /// <summary>Numbers and chains the staged rows; null when nothing is staged.</summary>
    public static async Task<Stamp?> StampAsync(RosterDb db, CancellationToken ct)
    {
        var staged = db.ChangeTracker.Entries<ChangeRow>().Where(e => e.State == EntityState.Added).Select(e => e.Entity).ToList();
        if (staged.Count == 0) return null;
        await CompletePeopleAsync(db, staged, ct);
        var tx = db.Database.CurrentTransaction
                 ?? throw new InvalidOperationException("Changes are numbered under the organization's lock, inside a transaction.");
        var heads = Heads.GetOrCreateValue(tx);
        var next = new Dictionary<Guid, Head>();
        var stubs = new List<Organization>();
        // Locks are taken in one order (by id) so two transactions staging several organizations never deadlock here.
        foreach (var group in staged.GroupBy(c => c.OrganizationId).OrderBy(g => g.Key))
        {
            var organizationId = group.Key;
            var tracked = db.ChangeTracker.Entries<Organization>().FirstOrDefault(e => e.Entity.Id == organizationId);
            Head head;
            if (tracked is { State: EntityState.Added })
                head = new Head(tracked.Entity.ChangeSequence, tracked.Entity.AuditHead);
            else if (heads.TryGetValue(organizationId, out var held))
                head = new Head(held.Sequence, held.AuditHead);
            else
            {
                var locked = await db.Database.SqlQuery<LockedHead>(
                        $"UPDATE organizations SET seat_lock_version = seat_lock_version + 1 WHERE id = {organizationId} RETURNING change_sequence AS \"ChangeSequence\", audit_head AS \"AuditHead\"")
                    .ToListAsync(ct);
                if (locked.Count == 0) throw new InvalidOperationException($"Organization {organizationId} has no row to number its changes under.");
                head = new Head(locked[0].ChangeSequence, locked[0].AuditHead);
                heads[organizationId] = new Head(head.Sequence, head.AuditHead);
            }

            foreach (var change in group.OrderBy(c => c.StagedOrder))
            {
                change.Sequence = ++head.Sequence;
                if (change.AuditRow is { } audit)
                {
                    audit.Sequence = change.Sequence;
                    audit.At = Micros(audit.At);
                    audit.PreviousHash = head.AuditHead ?? "";
                    audit.Hash = AuditChain.Hash(audit, audit.PreviousHash);
                    head.AuditHead = audit.Hash;
                }
            }
            next[organizationId] = head;

            // The counter's new value goes out in the same batch as the inserts: through the tracked organization when
            // there is one, else through a stub that carries only these two columns.
            var organization = tracked?.Entity;
            if (organization is null)
            {
                organization = new Organization { Id = organizationId, Name = "" };
                db.Attach(organization);
                stubs.Add(organization);
            }
            var entry = db.Entry(organization);
            entry.Property(o => o.ChangeSequence).CurrentValue = head.Sequence;
            entry.Property(o => o.AuditHead).CurrentValue = head.AuditHead;
            if (entry.State != EntityState.Added)
            {
                entry.Property(o => o.ChangeSequence).IsModified = true;
                entry.Property(o => o.AuditHead).IsModified = true;
            }
        }
        return new Stamp(heads, next, stubs, db);
    }

    private sealed record LockedHead(long ChangeSequence, string? AuditHead);
}
