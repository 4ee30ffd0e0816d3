using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Npgsql;
using Roster.Bench.Infrastructure;
using Roster.Infrastructure.Seats;

namespace Roster.Bench.Benchmarks;

/// <summary>One organization_membership.created event as the floor applies it.</summary>
public sealed record FloorEvent(string EventId, string Payload, string WorkosOrganizationId, string WorkosMembershipId, string WorkosUserId, DateTime EventTime);

/// <summary>
/// The floor of the ingest benchmark: the least work the job needs, written by hand against the provider — no HTTP, no
/// ASP.NET Core, no EF Core, and not a replay of the service's statements. Per event: record the event (an insert that
/// reports a duplicate), lock the organization and read its plan, count the seats of the webhook seat type, insert the
/// membership and its role assignment (or, when full, the refusal and its notification), set the event's outcome, commit
/// — in as few round trips as the provider allows: two batches and the commit on PostgreSQL (Npgsql sends a batch in
/// one round trip, BEGIN with the first), and on SQLite one writer at a time (a fair in-process queue, as the service
/// does), BEGIN IMMEDIATE, two multi-statement commands, COMMIT.
/// </summary>
public sealed class IngestFloor : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly bool _pg;
    private readonly NpgsqlDataSource? _dataSource;
    private readonly string _connectionString;
    private readonly SemaphoreSlim _sqliteWriter = new(1, 1);

    /// <summary>Seat limits of the two plans the ingest benchmark uses (as in src/appsettings.json).</summary>
    private static readonly Dictionary<string, int> CommunityOnlyLimit = new(StringComparer.Ordinal)
    {
        ["company_leader"] = -1,
        ["individual_professional"] = 0,
    };

    public IngestFloor(Storage storage)
    {
        _pg = storage.IsPostgres;
        _connectionString = storage.ConnectionString;
        // As the service builds it (StorageRegistration.BuildDataSource): one data source, default pool, auto-prepare.
        if (_pg) _dataSource = Roster.Infrastructure.Data.StorageRegistration.BuildDataSource(storage.ConnectionString);
    }

    /// <summary>The floor's round trips per event, as the report lists them.</summary>
    public static readonly string[] Applied =
    [
        "[BEGIN] INSERT INTO webhook_events … ON CONFLICT DO NOTHING; UPDATE organizations SET seat_lock_version = seat_lock_version + 1 … RETURNING id, name, plan; SELECT count(*) memberships + seat_reservations holding community_only seats; SELECT global_roles 'member'",
        "INSERT INTO memberships …; INSERT INTO organization_role_assignments …; UPDATE webhook_events SET outcome",
        "COMMIT",
    ];

    public static readonly string[] Refused =
    [
        "[BEGIN] INSERT INTO webhook_events … ON CONFLICT DO NOTHING; UPDATE organizations … RETURNING; SELECT count(*) …; SELECT global_roles",
        "INSERT INTO membership_refusals …; INSERT INTO notification_outbox …; UPDATE webhook_events SET outcome, detail",
        "COMMIT",
    ];

    /// <summary>The SQL the floor sends for an applied and for a refused event (BEGIN and COMMIT aside).</summary>
    public static IReadOnlyList<string> AppliedSql => [Read, WriteApplied];

    public static IReadOnlyList<string> RefusedSql => [Read, WriteRefused];

    private const string SeatCount =
        "SELECT (SELECT count(*) FROM memberships m JOIN organizations o ON o.id = m.organization_id WHERE o.workos_organization_id = @org " +
        "AND m.seat_type = 'community_only' AND m.deleted_at IS NULL AND (m.status = 'active' OR (m.status = 'pending' AND m.source = 'owner_add' " +
        "AND (m.expires_at IS NULL OR m.expires_at > @now)))) + (SELECT count(*) FROM seat_reservations r JOIN organizations o ON o.id = r.organization_id " +
        "WHERE o.workos_organization_id = @org AND r.seat_type = 'community_only' AND r.expires_at > @now AND r.source <> 'outbound')";

    private const string Read =
        "INSERT INTO webhook_events (event_id, type, received_at, outcome, payload) VALUES (@event, 'organization_membership.created', @now, 'ignored', @payload) ON CONFLICT (event_id) DO NOTHING;\n" +
        "UPDATE organizations SET seat_lock_version = seat_lock_version + 1 WHERE workos_organization_id = @org AND deleted_at IS NULL RETURNING id, name, plan;\n" +
        SeatCount + ";\n" +
        "SELECT id FROM global_roles WHERE workos_slug = 'member' AND deleted_at IS NULL";

    private const string WriteApplied =
        "INSERT INTO memberships (id, organization_id, workos_user_id, workos_membership_id, role, status, source, seat_type, created_at, updated_at, workos_updated_at, workos_last_event_id) " +
        "VALUES (@id, @orgId, @user, @om, 'member', 'active', 'webhook', 'community_only', @now, @now, @at, @event);\n" +
        "INSERT INTO organization_role_assignments (id, organization_id, workos_user_id, role_urn, workos_updated_at, workos_last_event_id, created_at, updated_at) " +
        "VALUES (@assignment, @orgId, @user, @urn, @at, @event, @now, @now);\n" +
        "UPDATE webhook_events SET outcome = 'applied' WHERE event_id = @event";

    private const string WriteRefused =
        "INSERT INTO membership_refusals (id, organization_id, workos_organization_id, workos_user_id, workos_membership_id, seat_type, reason, event_id, at, kind, used, seat_limit) " +
        "VALUES (@id, @orgId, @org, @user, @om, 'community_only', 'seat_limit_reached', @event, @now, 'webhook', @used, @limit);\n" +
        "INSERT INTO notification_outbox (id, kind, dedupe_key, payload, created_at, next_attempt_at, attempts) " +
        "VALUES (@outbox, 'membership_refused', @dedupe, @notification, @now, @now, 0);\n" +
        "UPDATE webhook_events SET outcome = 'refused', detail = @detail WHERE event_id = @event";

    /// <summary>Applies one event; returns the outcome ("applied"/"refused") or "duplicate".</summary>
    public async Task<string> ApplyAsync(FloorEvent e, CancellationToken ct)
    {
        if (!_pg) await _sqliteWriter.WaitAsync(ct);
        try
        {
            await using var c = await OpenAsync(ct);
            await using var tx = await c.BeginTransactionAsync(ct);
            var now = DateTime.UtcNow;
            Guid orgId;
            string orgName;
            string? plan;
            int used;
            Guid roleId;
            await using (var read = Command(c, tx, Read, ("event", e.EventId), ("now", now), ("payload", e.Payload), ("org", e.WorkosOrganizationId)))
            await using (var r = await read.ExecuteReaderAsync(ct))
            {
                // The insert reports no rows; Npgsql and Microsoft.Data.Sqlite position the reader on the first result set.
                if (!await r.ReadAsync(ct)) throw new InvalidOperationException($"The floor expects organization {e.WorkosOrganizationId} to exist.");
                orgId = Id(r, 0);
                orgName = r.GetString(1);
                plan = r.IsDBNull(2) ? null : r.GetString(2);
                await r.NextResultAsync(ct);
                await r.ReadAsync(ct);
                used = Convert.ToInt32(r.GetValue(0), CultureInfo.InvariantCulture);
                await r.NextResultAsync(ct);
                await r.ReadAsync(ct);
                roleId = Id(r, 0);
                await r.CloseAsync();
                if (r.RecordsAffected < 2) // the organization's update only: the event was recorded before
                {
                    await tx.RollbackAsync(ct);
                    return "duplicate";
                }
            }

            var limit = CommunityOnlyLimit.TryGetValue(plan ?? "", out var l) ? l : 5;
            if (limit == -1 || used < limit)
            {
                await using var write = Command(c, tx, WriteApplied, ("id", Guid.CreateVersion7()), ("orgId", orgId), ("user", e.WorkosUserId),
                    ("om", e.WorkosMembershipId), ("now", now), ("at", e.EventTime), ("event", e.EventId), ("assignment", Guid.CreateVersion7()),
                    ("urn", $"role:global:{roleId}"));
                await write.ExecuteNonQueryAsync(ct);
                await tx.CommitAsync(ct);
                return "applied";
            }
            var notification = JsonSerializer.Serialize(new MembershipRefusedNotification(orgId, e.WorkosOrganizationId, orgName, e.WorkosUserId,
                null, null, "community_only", limit, used, e.EventId), Json);
            await using (var refuse = Command(c, tx, WriteRefused, ("id", Guid.CreateVersion7()), ("orgId", orgId), ("org", e.WorkosOrganizationId),
                             ("user", e.WorkosUserId), ("om", e.WorkosMembershipId), ("event", e.EventId), ("now", now), ("used", used), ("limit", limit),
                             ("outbox", Guid.CreateVersion7()), ("dedupe", $"membership_refused:{e.EventId}"), ("notification", notification),
                             ("detail", $"seat_limit_reached: community_only {used}/{limit}")))
                await refuse.ExecuteNonQueryAsync(ct);
            await tx.CommitAsync(ct);
            return "refused";
        }
        finally
        {
            if (!_pg) _sqliteWriter.Release();
        }
    }

    private Guid Id(System.Data.Common.DbDataReader r, int ordinal) => _pg ? r.GetGuid(ordinal) : Guid.Parse(r.GetString(ordinal));

    private async Task<DbConnection> OpenAsync(CancellationToken ct)
    {
        if (_pg) return await _dataSource!.OpenConnectionAsync(ct);
        var c = new SqliteConnection(_connectionString);
        await c.OpenAsync(ct);
        return c;
    }

    private DbCommand Command(DbConnection c, DbTransaction tx, string sql, params (string Name, object? Value)[] values)
    {
        var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        foreach (var (name, value) in values)
        {
            var p = cmd.CreateParameter();
            p.ParameterName = "@" + name;
            p.Value = _pg ? value ?? DBNull.Value : SqliteValue(value);
            cmd.Parameters.Add(p);
        }
        return cmd;
    }

    /// <summary>How EF Core's SQLite provider stores values: uppercase GUID text, "yyyy-MM-dd HH:mm:ss.FFFFFFF" times.</summary>
    private static object SqliteValue(object? value) => value switch
    {
        null => DBNull.Value,
        Guid g => g.ToString().ToUpperInvariant(),
        DateTime d => d.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture),
        bool b => b ? 1L : 0L,
        _ => value,
    };

    public ValueTask DisposeAsync()
    {
        _sqliteWriter.Dispose();
        return _dataSource?.DisposeAsync() ?? ValueTask.CompletedTask;
    }
}
