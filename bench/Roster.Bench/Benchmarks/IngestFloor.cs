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
/// The floor of the ingest benchmark: the per-event transaction the service runs for an un-staged
/// organization_membership.created of a new user, issued straight through the provider (Npgsql / Microsoft.Data.Sqlite)
/// with no HTTP, no ASP.NET Core and no EF Core. Same statements (the SQL text EF Core generates, captured from the
/// server log / EF command log), same parameters, same round trips (including EF Core's automatic savepoint around
/// each SaveChanges inside the transaction, and the connection returned to the pool between the duplicate check and
/// the transaction), same reads of every column EF materializes.
/// </summary>
public sealed class IngestFloor : IAsyncDisposable
{
    private const string SavePoint = "__EFSavePoint";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly bool _pg;
    private readonly NpgsqlDataSource? _dataSource;
    private readonly string _connectionString;

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

    public int StatementsPerEvent(bool refused) => refused ? Refused.Length : Applied.Length;

    /// <summary>The statements of an applied event, in order, as the floor (and the service) sends them.</summary>
    public static readonly string[] Applied =
    [
        "SELECT EXISTS (… webhook_events WHERE event_id = $1)   [own pooled connection]",
        "BEGIN TRANSACTION ISOLATION LEVEL READ COMMITTED (PostgreSQL; sent with the next statement) / BEGIN IMMEDIATE (SQLite)",
        "SAVEPOINT \"__EFSavePoint\"", "INSERT INTO webhook_events …", "RELEASE SAVEPOINT",
        "SELECT organizations WHERE workos_organization_id = $1 LIMIT 1",
        "UPDATE organizations SET seat_lock_version = seat_lock_version + 1 WHERE id = $1   [the per-organization seat lock]",
        "SELECT users WHERE workos_user_id = $1 AND deleted_at IS NULL LIMIT 1",
        "SELECT memberships WHERE workos_membership_id = $1 LIMIT 1",
        "SELECT memberships WHERE organization_id = $1 AND deleted_at IS NULL AND workos_membership_id IS NULL AND workos_user_id = $2 LIMIT 1",
        "SELECT memberships WHERE organization_id = $1 AND deleted_at IS NULL AND workos_membership_id IS NOT NULL AND workos_membership_id <> $2 AND workos_user_id = $3 LIMIT 1   [an earlier WorkOS membership of the person]",
        "SELECT seat_reservations WHERE organization_id = $1 AND expires_at > $2 AND source <> 'outbound' AND workos_user_id = $3 ORDER BY created_at LIMIT 1",
        "SELECT seat_type, status, count(*) FROM memberships … GROUP BY   [seat check]",
        "SELECT seat_type, count(*) FROM seat_reservations … GROUP BY   [seat check]",
        "SAVEPOINT", "INSERT INTO memberships …", "RELEASE SAVEPOINT",
        "SELECT … memberships GROUP BY   [seat-warning re-count]", "SELECT … seat_reservations GROUP BY   [seat-warning re-count]",
        "SELECT organization_roles WHERE organization_id = $1 AND workos_slug = $2 AND deleted_at IS NULL LIMIT 1",
        "SELECT global_roles WHERE workos_slug = $1 AND deleted_at IS NULL LIMIT 1",
        "SELECT organization_role_assignments WHERE organization_id = $1 AND workos_user_id = $2 AND deleted_at IS NULL",
        "SAVEPOINT", "INSERT INTO organization_role_assignments …", "RELEASE SAVEPOINT",
        "SAVEPOINT", "UPDATE webhook_events SET outcome = $1 WHERE event_id = $2", "RELEASE SAVEPOINT",
        "COMMIT",
    ];

    public static readonly string[] Refused =
    [
        "SELECT EXISTS (… webhook_events …)   [own pooled connection]", "BEGIN",
        "SAVEPOINT", "INSERT INTO webhook_events …", "RELEASE SAVEPOINT",
        "SELECT organizations …", "UPDATE organizations SET seat_lock_version …", "SELECT users …",
        "SELECT memberships (by WorkOS id)", "SELECT memberships (by organization + WorkOS user)",
        "SELECT memberships (an earlier WorkOS membership of the person)", "SELECT seat_reservations (staged)",
        "SELECT … memberships GROUP BY   [seat check]", "SELECT … seat_reservations GROUP BY   [seat check]",
        "SAVEPOINT",
        "INSERT INTO membership_refusals …; INSERT INTO notification_outbox …; UPDATE webhook_events SET detail, outcome   [one batch on PostgreSQL, three commands on SQLite]",
        "RELEASE SAVEPOINT", "COMMIT",
    ];

    /// <summary>Applies one event; returns the outcome ("applied"/"refused") or "duplicate".</summary>
    public async Task<string> ApplyAsync(FloorEvent e, CancellationToken ct)
    {
        var now = DateTime.UtcNow;
        await using (var check = await OpenAsync(ct))
        {
            if (await ExistsAsync(check, e.EventId, ct)) return "duplicate";
        }

        await using var c = await OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await tx.SaveAsync(SavePoint, ct);
        await ExecAsync(c, tx, S.InsertEvent, ct, e.EventId, null, "ignored", e.Payload, now, "organization_membership.created");
        await tx.ReleaseAsync(SavePoint, ct);

        var org = await QueryAsync(c, tx, S.SelectOrganization, ct, e.WorkosOrganizationId)
                  ?? throw new InvalidOperationException($"The floor expects organization {e.WorkosOrganizationId} to exist.");
        var orgId = _pg ? (Guid)org[0] : Guid.Parse((string)org[0]);
        var orgName = (string)org[3];
        var plan = org[4] as string ?? "free";
        await ExecAsync(c, tx, S.LockOrganization, ct, orgId);

        var user = await QueryAsync(c, tx, S.SelectUser, ct, e.WorkosUserId);
        if (await QueryAsync(c, tx, S.SelectMembershipByWorkosId, ct, e.WorkosMembershipId) is not null) return "unexpected";
        if (await QueryAsync(c, tx, S.SelectMembershipByOrgAndUser, ct, orgId, e.WorkosUserId) is not null) return "unexpected";
        if (await QueryAsync(c, tx, S.SelectEarlierWorkosMembership, ct, orgId, e.WorkosMembershipId, e.WorkosUserId) is not null) return "unexpected";
        now = DateTime.UtcNow;
        if (await QueryAsync(c, tx, S.SelectReservation, ct, orgId, now, e.WorkosUserId) is not null) return "unexpected";

        const string seatType = "community_only";
        var used = await CountAsync(c, tx, orgId, seatType, ct);
        var limit = CommunityOnlyLimit.TryGetValue(plan, out var l) ? l : 5;
        var hasRoom = limit == -1 || used < limit;
        now = DateTime.UtcNow;

        if (!hasRoom)
        {
            var payload = JsonSerializer.Serialize(new MembershipRefusedNotification(orgId, e.WorkosOrganizationId, orgName, e.WorkosUserId,
                null, null, seatType, limit, used, e.EventId), Json);
            var detail = $"seat_limit_reached: {seatType} {used}/{limit}";
            await tx.SaveAsync(SavePoint, ct);
            object?[] refusal = [Guid.CreateVersion7(), now, e.EventId, orgId, "seat_limit_reached", seatType, e.WorkosMembershipId, e.WorkosOrganizationId, e.WorkosUserId];
            object?[] outbox = [Guid.CreateVersion7(), 0, now, $"membership_refused:{e.EventId}", null, "membership_refused", null, now, payload, null];
            if (_pg)
            {
                // EF Core sends the three changes of one SaveChanges as one batch on PostgreSQL.
                await using var batch = new NpgsqlBatch((NpgsqlConnection)c, (NpgsqlTransaction)tx);
                batch.BatchCommands.Add(BatchCommand(S.InsertRefusal.Pg, refusal));
                batch.BatchCommands.Add(BatchCommand(S.InsertOutbox.Pg, outbox));
                batch.BatchCommands.Add(BatchCommand(S.UpdateEventRefused.Pg, [detail, "refused", e.EventId]));
                await batch.ExecuteNonQueryAsync(ct);
            }
            else
            {
                await ExecAsync(c, tx, S.InsertRefusal, ct, refusal);
                await ExecAsync(c, tx, S.InsertOutbox, ct, outbox);
                await QueryAsync(c, tx, S.UpdateEventRefused, ct, detail, "refused", e.EventId);
            }
            await tx.ReleaseAsync(SavePoint, ct);
            await tx.CommitAsync(ct);
            return "refused";
        }

        var membershipId = Guid.CreateVersion7();
        await tx.SaveAsync(SavePoint, ct);
        await ExecAsync(c, tx, S.InsertMembership, ct, membershipId, null, now, null, orgId, "member", seatType, "webhook", "active", now,
            user is null ? null : user[0], e.EventId, e.WorkosMembershipId, e.EventTime, e.WorkosUserId);
        await tx.ReleaseAsync(SavePoint, ct);

        // Seat warnings: re-count; an unlimited plan stops there.
        await CountAsync(c, tx, orgId, seatType, ct);

        // Role assignments: the slug resolves to the environment role "member".
        await QueryAsync(c, tx, S.SelectOrganizationRole, ct, orgId, "member");
        var global = await QueryAsync(c, tx, S.SelectGlobalRole, ct, "member")
                     ?? throw new InvalidOperationException("The floor expects the environment role 'member' to exist.");
        await QueryAllAsync(c, tx, S.SelectAssignments, ct, orgId, e.WorkosUserId);
        now = DateTime.UtcNow;
        var roleId = _pg ? (Guid)global[0] : Guid.Parse((string)global[0]);
        await tx.SaveAsync(SavePoint, ct);
        await ExecAsync(c, tx, S.InsertAssignment, ct, Guid.CreateVersion7(), now, null, orgId, $"role:global:{roleId}", now,
            user is null ? null : user[0], e.EventId, e.EventTime, e.WorkosUserId);
        await tx.ReleaseAsync(SavePoint, ct);

        await tx.SaveAsync(SavePoint, ct);
        if (_pg) await ExecAsync(c, tx, S.UpdateEventApplied, ct, "applied", e.EventId);
        else await QueryAsync(c, tx, S.UpdateEventApplied, ct, "applied", e.EventId);
        await tx.ReleaseAsync(SavePoint, ct);
        await tx.CommitAsync(ct);
        return "applied";
    }

    private async Task<int> CountAsync(DbConnection c, DbTransaction tx, Guid orgId, string seatType, CancellationToken ct)
    {
        var now = DateTime.UtcNow;
        var memberships = await QueryAllAsync(c, tx, S.CountMemberships, ct, orgId, seatType);
        var reservations = await QueryAllAsync(c, tx, S.CountReservations, ct, orgId, now, seatType);
        return memberships.Sum(r => Convert.ToInt32(r[2], CultureInfo.InvariantCulture)) + reservations.Sum(r => Convert.ToInt32(r[1], CultureInfo.InvariantCulture));
    }

    private async Task<DbConnection> OpenAsync(CancellationToken ct)
    {
        if (_pg) return await _dataSource!.OpenConnectionAsync(ct);
        var c = new SqliteConnection(_connectionString);
        await c.OpenAsync(ct);
        return c;
    }

    private async Task<bool> ExistsAsync(DbConnection c, string eventId, CancellationToken ct)
    {
        await using var cmd = Command(c, null, S.Exists, [eventId]);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) && reader.GetBoolean(0);
    }

    private async Task ExecAsync(DbConnection c, DbTransaction tx, Sql sql, CancellationToken ct, params object?[] values)
    {
        await using var cmd = Command(c, tx, sql, values);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>First row with every column read (as EF materializes the entity), or null.</summary>
    private async Task<object[]?> QueryAsync(DbConnection c, DbTransaction tx, Sql sql, CancellationToken ct, params object?[] values)
    {
        await using var cmd = Command(c, tx, sql, values);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) return null;
        var row = new object[reader.FieldCount];
        reader.GetValues(row);
        return row;
    }

    private async Task<List<object[]>> QueryAllAsync(DbConnection c, DbTransaction tx, Sql sql, CancellationToken ct, params object?[] values)
    {
        await using var cmd = Command(c, tx, sql, values);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var rows = new List<object[]>();
        while (await reader.ReadAsync(ct))
        {
            var row = new object[reader.FieldCount];
            reader.GetValues(row);
            rows.Add(row);
        }
        return rows;
    }

    private DbCommand Command(DbConnection c, DbTransaction? tx, Sql sql, object?[] values)
    {
        var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = _pg ? sql.Pg : sql.Sqlite;
        for (var i = 0; i < values.Length; i++)
        {
            var p = cmd.CreateParameter();
            if (!_pg) p.ParameterName = sql.SqliteNames[i];
            p.Value = _pg ? values[i] ?? DBNull.Value : SqliteValue(values[i]);
            cmd.Parameters.Add(p);
        }
        return cmd;
    }

    private static NpgsqlBatchCommand BatchCommand(string sql, object?[] values)
    {
        var cmd = new NpgsqlBatchCommand(sql);
        foreach (var v in values) cmd.Parameters.Add(new NpgsqlParameter { Value = v ?? DBNull.Value });
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

    public ValueTask DisposeAsync() => _dataSource?.DisposeAsync() ?? ValueTask.CompletedTask;

    private sealed record Sql(string Pg, string Sqlite, params string[] SqliteNames);

    /// <summary>The SQL text EF Core 10 generates for these steps (PostgreSQL: Npgsql provider; SQLite: Microsoft.Data.Sqlite provider).</summary>
    private static class S
    {
        public static readonly Sql Exists = new(
            "SELECT EXISTS (\n    SELECT 1\n    FROM webhook_events AS w\n    WHERE w.event_id = $1)",
            "SELECT EXISTS (\n    SELECT 1\n    FROM \"webhook_events\" AS \"w\"\n    WHERE \"w\".\"event_id\" = @evt_Id)", "@evt_Id");

        public static readonly Sql InsertEvent = new(
            "INSERT INTO webhook_events (event_id, detail, outcome, payload, received_at, type)\nVALUES ($1, $2, $3, $4, $5, $6)",
            "INSERT INTO \"webhook_events\" (\"event_id\", \"detail\", \"outcome\", \"payload\", \"received_at\", \"type\")\nVALUES (@p0, @p1, @p2, @p3, @p4, @p5);",
            "@p0", "@p1", "@p2", "@p3", "@p4", "@p5");

        public static readonly Sql SelectOrganization = new(
            "SELECT o.id, o.created_at, o.deleted_at, o.name, o.plan, o.seat_lock_version, o.updated_at, o.workos_last_event_id, o.workos_organization_id, o.workos_updated_at\nFROM organizations AS o\nWHERE o.workos_organization_id = $1\nLIMIT 1",
            "SELECT \"o\".\"id\", \"o\".\"created_at\", \"o\".\"deleted_at\", \"o\".\"name\", \"o\".\"plan\", \"o\".\"seat_lock_version\", \"o\".\"updated_at\", \"o\".\"workos_last_event_id\", \"o\".\"workos_organization_id\", \"o\".\"workos_updated_at\"\nFROM \"organizations\" AS \"o\"\nWHERE \"o\".\"workos_organization_id\" = @workosOrganizationId\nLIMIT 1",
            "@workosOrganizationId");

        public static readonly Sql LockOrganization = new(
            "UPDATE organizations AS o\nSET seat_lock_version = o.seat_lock_version + 1\nWHERE o.id = $1",
            "UPDATE \"organizations\" AS \"o\"\nSET \"seat_lock_version\" = \"o\".\"seat_lock_version\" + 1\nWHERE \"o\".\"id\" = @organizationId",
            "@organizationId");

        public static readonly Sql SelectUser = new(
            "SELECT u.id, u.created_at, u.deleted_at, u.email, u.email_verified, u.name, u.slack_user_id, u.updated_at, u.workos_last_event_id, u.workos_updated_at, u.workos_user_id\nFROM users AS u\nWHERE u.workos_user_id = $1 AND u.deleted_at IS NULL\nLIMIT 1",
            "SELECT \"u\".\"id\", \"u\".\"created_at\", \"u\".\"deleted_at\", \"u\".\"email\", \"u\".\"email_verified\", \"u\".\"name\", \"u\".\"slack_user_id\", \"u\".\"updated_at\", \"u\".\"workos_last_event_id\", \"u\".\"workos_updated_at\", \"u\".\"workos_user_id\"\nFROM \"users\" AS \"u\"\nWHERE \"u\".\"workos_user_id\" = @data_UserId AND \"u\".\"deleted_at\" IS NULL\nLIMIT 1",
            "@data_UserId");

        private const string MembershipColumnsPg = "m.id, m.added_by, m.created_at, m.deleted_at, m.organization_id, m.role, m.seat_type, m.source, m.status, m.updated_at, m.user_id, m.workos_last_event_id, m.workos_membership_id, m.workos_updated_at, m.workos_user_id";
        private const string MembershipColumnsSqlite = "\"m\".\"id\", \"m\".\"added_by\", \"m\".\"created_at\", \"m\".\"deleted_at\", \"m\".\"organization_id\", \"m\".\"role\", \"m\".\"seat_type\", \"m\".\"source\", \"m\".\"status\", \"m\".\"updated_at\", \"m\".\"user_id\", \"m\".\"workos_last_event_id\", \"m\".\"workos_membership_id\", \"m\".\"workos_updated_at\", \"m\".\"workos_user_id\"";

        public static readonly Sql SelectMembershipByWorkosId = new(
            $"SELECT {MembershipColumnsPg}\nFROM memberships AS m\nWHERE m.workos_membership_id = $1\nLIMIT 1",
            $"SELECT {MembershipColumnsSqlite}\nFROM \"memberships\" AS \"m\"\nWHERE \"m\".\"workos_membership_id\" = @data_Id\nLIMIT 1",
            "@data_Id");

        public static readonly Sql SelectMembershipByOrgAndUser = new(
            $"SELECT {MembershipColumnsPg}\nFROM memberships AS m\nWHERE m.organization_id = $1 AND m.deleted_at IS NULL AND m.workos_membership_id IS NULL AND m.workos_user_id = $2\nLIMIT 1",
            $"SELECT {MembershipColumnsSqlite}\nFROM \"memberships\" AS \"m\"\nWHERE \"m\".\"organization_id\" = @organizationId AND \"m\".\"deleted_at\" IS NULL AND \"m\".\"workos_membership_id\" IS NULL AND \"m\".\"workos_user_id\" = @data_UserId\nLIMIT 1",
            "@organizationId", "@data_UserId");

        public static readonly Sql SelectEarlierWorkosMembership = new(
            $"SELECT {MembershipColumnsPg}\nFROM memberships AS m\nWHERE m.organization_id = $1 AND m.deleted_at IS NULL AND m.workos_membership_id IS NOT NULL AND m.workos_membership_id <> $2 AND m.workos_user_id = $3\nLIMIT 1",
            $"SELECT {MembershipColumnsSqlite}\nFROM \"memberships\" AS \"m\"\nWHERE \"m\".\"organization_id\" = @organizationId AND \"m\".\"deleted_at\" IS NULL AND \"m\".\"workos_membership_id\" IS NOT NULL AND \"m\".\"workos_membership_id\" <> @workosMembershipId AND \"m\".\"workos_user_id\" = @workosUserId\nLIMIT 1",
            "@organizationId", "@workosMembershipId", "@workosUserId");

        public static readonly Sql SelectReservation = new(
            "SELECT s.id, s.created_at, s.email, s.expires_at, s.organization_id, s.seat_type, s.source, s.workos_invitation_id, s.workos_user_id\nFROM seat_reservations AS s\nWHERE s.organization_id = $1 AND s.expires_at > $2 AND s.source <> 'outbound' AND s.workos_user_id = $3\nORDER BY s.created_at\nLIMIT 1",
            "SELECT \"s\".\"id\", \"s\".\"created_at\", \"s\".\"email\", \"s\".\"expires_at\", \"s\".\"organization_id\", \"s\".\"seat_type\", \"s\".\"source\", \"s\".\"workos_invitation_id\", \"s\".\"workos_user_id\"\nFROM \"seat_reservations\" AS \"s\"\nWHERE \"s\".\"organization_id\" = @organizationId AND \"s\".\"expires_at\" > @now AND \"s\".\"source\" <> 'outbound' AND \"s\".\"workos_user_id\" = @workosUserId\nORDER BY \"s\".\"created_at\"\nLIMIT 1",
            "@organizationId", "@now", "@workosUserId");

        public static readonly Sql CountMemberships = new(
            "SELECT m.seat_type AS \"SeatType\", m.status AS \"Status\", count(*)::int AS \"Count\"\nFROM memberships AS m\nWHERE m.organization_id = $1 AND m.deleted_at IS NULL AND (m.status = 'active' OR (m.status = 'pending' AND m.source = 'owner_add')) AND m.seat_type = $2\nGROUP BY m.seat_type, m.status",
            "SELECT \"m\".\"seat_type\" AS \"SeatType\", \"m\".\"status\" AS \"Status\", COUNT(*) AS \"Count\"\nFROM \"memberships\" AS \"m\"\nWHERE \"m\".\"organization_id\" = @organizationId AND \"m\".\"deleted_at\" IS NULL AND (\"m\".\"status\" = 'active' OR (\"m\".\"status\" = 'pending' AND \"m\".\"source\" = 'owner_add')) AND \"m\".\"seat_type\" = @onlySeatType\nGROUP BY \"m\".\"seat_type\", \"m\".\"status\"",
            "@organizationId", "@onlySeatType");

        public static readonly Sql CountReservations = new(
            "SELECT s.seat_type AS \"SeatType\", count(*)::int AS \"Count\"\nFROM seat_reservations AS s\nWHERE s.organization_id = $1 AND s.expires_at > $2 AND s.source <> 'outbound' AND s.seat_type = $3\nGROUP BY s.seat_type",
            "SELECT \"s\".\"seat_type\" AS \"SeatType\", COUNT(*) AS \"Count\"\nFROM \"seat_reservations\" AS \"s\"\nWHERE \"s\".\"organization_id\" = @organizationId AND \"s\".\"expires_at\" > @now AND \"s\".\"source\" <> 'outbound' AND \"s\".\"seat_type\" = @onlySeatType\nGROUP BY \"s\".\"seat_type\"",
            "@organizationId", "@now", "@onlySeatType");

        public static readonly Sql InsertMembership = new(
            "INSERT INTO memberships (id, added_by, created_at, deleted_at, organization_id, role, seat_type, source, status, updated_at, user_id, workos_last_event_id, workos_membership_id, workos_updated_at, workos_user_id)\nVALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            "INSERT INTO \"memberships\" (\"id\", \"added_by\", \"created_at\", \"deleted_at\", \"organization_id\", \"role\", \"seat_type\", \"source\", \"status\", \"updated_at\", \"user_id\", \"workos_last_event_id\", \"workos_membership_id\", \"workos_updated_at\", \"workos_user_id\")\nVALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6, @p7, @p8, @p9, @p10, @p11, @p12, @p13, @p14);",
            "@p0", "@p1", "@p2", "@p3", "@p4", "@p5", "@p6", "@p7", "@p8", "@p9", "@p10", "@p11", "@p12", "@p13", "@p14");

        public static readonly Sql SelectOrganizationRole = new(
            "SELECT o.id, o.created_at, o.deleted_at, o.description, o.name, o.organization_id, o.permissions, o.updated_at, o.workos_last_event_id, o.workos_slug, o.workos_updated_at\nFROM organization_roles AS o\nWHERE o.organization_id = $1 AND o.workos_slug = $2 AND o.deleted_at IS NULL\nLIMIT 1",
            "SELECT \"o\".\"id\", \"o\".\"created_at\", \"o\".\"deleted_at\", \"o\".\"description\", \"o\".\"name\", \"o\".\"organization_id\", \"o\".\"permissions\", \"o\".\"updated_at\", \"o\".\"workos_last_event_id\", \"o\".\"workos_slug\", \"o\".\"workos_updated_at\"\nFROM \"organization_roles\" AS \"o\"\nWHERE \"o\".\"organization_id\" = @organization_Id AND \"o\".\"workos_slug\" = @slug AND \"o\".\"deleted_at\" IS NULL\nLIMIT 1",
            "@organization_Id", "@slug");

        public static readonly Sql SelectGlobalRole = new(
            "SELECT g.id, g.created_at, g.deleted_at, g.description, g.name, g.permissions, g.updated_at, g.workos_last_event_id, g.workos_slug, g.workos_updated_at\nFROM global_roles AS g\nWHERE g.workos_slug = $1 AND g.deleted_at IS NULL\nLIMIT 1",
            "SELECT \"g\".\"id\", \"g\".\"created_at\", \"g\".\"deleted_at\", \"g\".\"description\", \"g\".\"name\", \"g\".\"permissions\", \"g\".\"updated_at\", \"g\".\"workos_last_event_id\", \"g\".\"workos_slug\", \"g\".\"workos_updated_at\"\nFROM \"global_roles\" AS \"g\"\nWHERE \"g\".\"workos_slug\" = @slug AND \"g\".\"deleted_at\" IS NULL\nLIMIT 1",
            "@slug");

        public static readonly Sql SelectAssignments = new(
            "SELECT o.id, o.created_at, o.deleted_at, o.organization_id, o.role_urn, o.updated_at, o.user_id, o.workos_last_event_id, o.workos_updated_at, o.workos_user_id\nFROM organization_role_assignments AS o\nWHERE o.organization_id = $1 AND o.workos_user_id = $2 AND o.deleted_at IS NULL",
            "SELECT \"o\".\"id\", \"o\".\"created_at\", \"o\".\"deleted_at\", \"o\".\"organization_id\", \"o\".\"role_urn\", \"o\".\"updated_at\", \"o\".\"user_id\", \"o\".\"workos_last_event_id\", \"o\".\"workos_updated_at\", \"o\".\"workos_user_id\"\nFROM \"organization_role_assignments\" AS \"o\"\nWHERE \"o\".\"organization_id\" = @organization_Id AND \"o\".\"workos_user_id\" = @workosUserId AND \"o\".\"deleted_at\" IS NULL",
            "@organization_Id", "@workosUserId");

        public static readonly Sql InsertAssignment = new(
            "INSERT INTO organization_role_assignments (id, created_at, deleted_at, organization_id, role_urn, updated_at, user_id, workos_last_event_id, workos_updated_at, workos_user_id)\nVALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            "INSERT INTO \"organization_role_assignments\" (\"id\", \"created_at\", \"deleted_at\", \"organization_id\", \"role_urn\", \"updated_at\", \"user_id\", \"workos_last_event_id\", \"workos_updated_at\", \"workos_user_id\")\nVALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6, @p7, @p8, @p9);",
            "@p0", "@p1", "@p2", "@p3", "@p4", "@p5", "@p6", "@p7", "@p8", "@p9");

        public static readonly Sql UpdateEventApplied = new(
            "UPDATE webhook_events SET outcome = $1\nWHERE event_id = $2",
            "UPDATE \"webhook_events\" SET \"outcome\" = @p0\nWHERE \"event_id\" = @p1\nRETURNING 1;",
            "@p0", "@p1");

        public static readonly Sql InsertRefusal = new(
            "INSERT INTO membership_refusals (id, at, event_id, organization_id, reason, seat_type, workos_membership_id, workos_organization_id, workos_user_id)\nVALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            "INSERT INTO \"membership_refusals\" (\"id\", \"at\", \"event_id\", \"organization_id\", \"reason\", \"seat_type\", \"workos_membership_id\", \"workos_organization_id\", \"workos_user_id\")\nVALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6, @p7, @p8);",
            "@p0", "@p1", "@p2", "@p3", "@p4", "@p5", "@p6", "@p7", "@p8");

        public static readonly Sql InsertOutbox = new(
            "INSERT INTO notification_outbox (id, attempts, created_at, dedupe_key, failed_at, kind, last_error, next_attempt_at, payload, sent_at)\nVALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            "INSERT INTO \"notification_outbox\" (\"id\", \"attempts\", \"created_at\", \"dedupe_key\", \"failed_at\", \"kind\", \"last_error\", \"next_attempt_at\", \"payload\", \"sent_at\")\nVALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6, @p7, @p8, @p9);",
            "@p0", "@p1", "@p2", "@p3", "@p4", "@p5", "@p6", "@p7", "@p8", "@p9");

        public static readonly Sql UpdateEventRefused = new(
            "UPDATE webhook_events SET detail = $1, outcome = $2\nWHERE event_id = $3",
            "UPDATE \"webhook_events\" SET \"detail\" = @p0, \"outcome\" = @p1\nWHERE \"event_id\" = @p2\nRETURNING 1;",
            "@p0", "@p1", "@p2");
    }
}
