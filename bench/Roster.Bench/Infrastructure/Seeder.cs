using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Roster.Bench.Infrastructure;

/// <summary>
/// The shape of a seeded database: <see cref="Organizations"/> organizations (plan company_leader: 20 contributor,
/// unlimited community_only seats) with 10 memberships each, and <see cref="Users"/> = memberships/2 + 5 users, so
/// most users belong to two organizations. Per organization, slot k % 10 of membership k is:
/// 0 owner (founder) · 1 admin, 2 member (accepted owner_adds, contributor) · 3–7 members mirrored from WorkOS
/// (community_only, with a WorkOS membership id, a webhook_events record and a role assignment each) ·
/// 8 a pending join request · 9 a pending owner_add invitation added by the owner. Every tenth organization also has
/// a custom organization role and a staged seat reservation (an invitation made in WorkOS), so those tables are not empty.
/// Membership k belongs to user k % Users; the +5 makes a user's two memberships sit 5 slots apart, so nobody has two
/// pending join requests and every invitee (slot 9) is also an active member elsewhere (slot 4).
/// </summary>
public sealed record SeedShape(int Organizations)
{
    public int Memberships => Organizations * 10;
    public int Users => Memberships / 2 + 5;

    public int UserOf(long membership) => (int)(membership % Users);
    public int OwnerOf(int organization) => UserOf(organization * 10L);
    public int InviteeOf(int organization) => UserOf(organization * 10L + 9);

    public static Guid OrganizationId(long i) => Id(1, i);
    public static Guid UserId(long j) => Id(2, j);
    public static readonly Guid MemberRoleId = Id(5, 1);
    public static string WorkosOrganizationId(long i) => $"org_bench_{i:D7}";
    public static string WorkosUserId(long j) => $"user_bench_{j:D8}";
    public static string Email(long j) => $"u{j}@bench.example";
    public static string Name(long j) => $"User {j}";

    private static Guid Id(int prefix, long n) =>
        Guid.Parse(string.Create(CultureInfo.InvariantCulture, $"{prefix:x8}-0000-7000-8000-{n:x12}"));
}

public static class Seeder
{
    /// <summary>Seeds an already migrated database; returns the seconds it took.</summary>
    public static async Task<double> SeedAsync(Storage storage, SeedShape shape)
    {
        var sw = Stopwatch.StartNew();
        if (storage.IsPostgres) await SeedPostgresAsync(storage, shape);
        else SeedSqlite(storage, shape);
        return sw.Elapsed.TotalSeconds;
    }

    private static async Task SeedPostgresAsync(Storage storage, SeedShape s)
    {
        const string id = "(lpad(to_hex({0}), 8, '0') || '-0000-7000-8000-' || lpad(to_hex({1}), 12, '0'))::uuid";
        string Id(int p, string n) => string.Format(CultureInfo.InvariantCulture, id, p, n);
        var m = s.Memberships;
        var u = s.Users;
        const string emptyJson = "{}";
        var sql = $"""
            SET maintenance_work_mem = '256MB';
            INSERT INTO global_roles (id, workos_slug, name, permissions, created_at, updated_at)
            VALUES ('{SeedShape.MemberRoleId}', 'member', 'Member', '[]', now(), now());

            INSERT INTO organizations (id, workos_organization_id, name, plan, seat_lock_version, workos_updated_at, created_at, updated_at)
            SELECT {Id(1, "i")}, 'org_bench_' || lpad(i::text, 7, '0'), 'Org ' || i, 'company_leader', 0, now() - interval '3 days', now() - interval '3 days', now()
            FROM generate_series(0, {s.Organizations - 1}) AS i;

            INSERT INTO users (id, workos_user_id, email, email_verified, name, created_at, updated_at)
            SELECT {Id(2, "j")}, 'user_bench_' || lpad(j::text, 8, '0'), 'u' || j || '@bench.example', true, 'User ' || j, now() - interval '3 days', now()
            FROM generate_series(0, {u - 1}) AS j;

            INSERT INTO memberships (id, organization_id, user_id, workos_user_id, workos_membership_id, role, status, source, seat_type,
                                     added_by, workos_updated_at, workos_last_event_id, created_at, updated_at)
            SELECT {Id(3, "k")}, {Id(1, "k / 10")}, {Id(2, $"k % {u}")},
                   'user_bench_' || lpad((k % {u})::text, 8, '0'),
                   CASE WHEN k % 10 BETWEEN 3 AND 7 THEN 'om_bench_' || lpad(k::text, 9, '0') END,
                   CASE k % 10 WHEN 0 THEN 'owner' WHEN 1 THEN 'admin' ELSE 'member' END,
                   CASE WHEN k % 10 >= 8 THEN 'pending' ELSE 'active' END,
                   CASE WHEN k % 10 = 0 THEN 'founder' WHEN k % 10 IN (1, 2, 9) THEN 'owner_add' WHEN k % 10 = 8 THEN 'join_request' ELSE 'webhook' END,
                   CASE WHEN k % 10 BETWEEN 3 AND 7 THEN 'community_only' ELSE 'contributor' END,
                   CASE WHEN k % 10 IN (1, 2, 9) THEN {Id(2, $"((k / 10) * 10) % {u}")} END,
                   CASE WHEN k % 10 BETWEEN 3 AND 7 THEN now() - interval '2 days' END,
                   CASE WHEN k % 10 BETWEEN 3 AND 7 THEN 'event_seed_' || lpad(k::text, 9, '0') END,
                   now() - interval '2 days', now() - interval '2 days'
            FROM generate_series(0, {m - 1}) AS k;

            INSERT INTO webhook_events (event_id, type, received_at, outcome, payload)
            SELECT 'event_seed_' || lpad(k::text, 9, '0'), 'organization_membership.created', now() - interval '2 days', 'applied', '{emptyJson}'
            FROM generate_series(0, {m - 1}) AS k WHERE k % 10 BETWEEN 3 AND 7;

            INSERT INTO organization_role_assignments (id, organization_id, workos_user_id, user_id, role_urn, workos_updated_at,
                                                       workos_last_event_id, created_at, updated_at)
            SELECT {Id(4, "k")}, {Id(1, "k / 10")}, 'user_bench_' || lpad((k % {u})::text, 8, '0'), {Id(2, $"k % {u}")},
                   'role:global:{SeedShape.MemberRoleId}', now() - interval '2 days', 'event_seed_' || lpad(k::text, 9, '0'),
                   now() - interval '2 days', now() - interval '2 days'
            FROM generate_series(0, {m - 1}) AS k WHERE k % 10 BETWEEN 3 AND 7;

            INSERT INTO organization_roles (id, organization_id, workos_slug, name, permissions, created_at, updated_at)
            SELECT {Id(6, "i")}, {Id(1, "i")}, 'org-reviewer', 'Reviewer', '[]', now() - interval '3 days', now() - interval '3 days'
            FROM generate_series(0, {s.Organizations - 1}) AS i WHERE i % 10 = 0;

            INSERT INTO seat_reservations (id, organization_id, email, seat_type, source, workos_invitation_id, expires_at, created_at)
            SELECT {Id(7, "i")}, {Id(1, "i")}, 'invitee' || i || '@bench.example', 'community_only', 'invitation',
                   'invitation_bench_' || lpad(i::text, 7, '0'), now() + interval '7 days', now() - interval '1 day'
            FROM generate_series(0, {s.Organizations - 1}) AS i WHERE i % 10 = 0;
            """;
        await using var c = new NpgsqlConnection(storage.ConnectionString);
        await c.OpenAsync();
        await using (var cmd = new NpgsqlCommand(sql, c) { CommandTimeout = 1800 })
            await cmd.ExecuteNonQueryAsync();
        // What autovacuum would do shortly after a bulk load; without it the planner guesses row counts.
        await using (var analyze = new NpgsqlCommand("VACUUM ANALYZE", c) { CommandTimeout = 1800 })
            await analyze.ExecuteNonQueryAsync();
    }

    private static void SeedSqlite(Storage storage, SeedShape s)
    {
        string Id(int p, string n) => $"printf('%08X-0000-7000-8000-%012X', {p}, {n})";
        var m = s.Memberships;
        var u = s.Users;
        const string emptyJson = "{}";
        const string now = "strftime('%Y-%m-%d %H:%M:%f', 'now')";
        const string past = "strftime('%Y-%m-%d %H:%M:%f', 'now', '-2 days')";
        string Series(long count) => $"WITH RECURSIVE s(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM s WHERE k < {count - 1}) ";
        var statements = new[]
        {
            $"INSERT INTO global_roles (id, workos_slug, name, permissions, created_at, updated_at) VALUES ('{SeedShape.MemberRoleId.ToString().ToUpperInvariant()}', 'member', 'Member', '[]', {now}, {now})",
            Series(s.Organizations) + $"""
                INSERT INTO organizations (id, workos_organization_id, name, plan, seat_lock_version, workos_updated_at, created_at, updated_at)
                SELECT {Id(1, "k")}, 'org_bench_' || printf('%07d', k), 'Org ' || k, 'company_leader', 0, {past}, {past}, {now} FROM s
                """,
            Series(u) + $"""
                INSERT INTO users (id, workos_user_id, email, email_verified, name, created_at, updated_at)
                SELECT {Id(2, "k")}, 'user_bench_' || printf('%08d', k), 'u' || k || '@bench.example', 1, 'User ' || k, {past}, {now} FROM s
                """,
            Series(m) + $"""
                INSERT INTO memberships (id, organization_id, user_id, workos_user_id, workos_membership_id, role, status, source, seat_type,
                                         added_by, workos_updated_at, workos_last_event_id, created_at, updated_at)
                SELECT {Id(3, "k")}, {Id(1, "k / 10")}, {Id(2, $"k % {u}")},
                       'user_bench_' || printf('%08d', k % {u}),
                       CASE WHEN k % 10 BETWEEN 3 AND 7 THEN 'om_bench_' || printf('%09d', k) END,
                       CASE k % 10 WHEN 0 THEN 'owner' WHEN 1 THEN 'admin' ELSE 'member' END,
                       CASE WHEN k % 10 >= 8 THEN 'pending' ELSE 'active' END,
                       CASE WHEN k % 10 = 0 THEN 'founder' WHEN k % 10 IN (1, 2, 9) THEN 'owner_add' WHEN k % 10 = 8 THEN 'join_request' ELSE 'webhook' END,
                       CASE WHEN k % 10 BETWEEN 3 AND 7 THEN 'community_only' ELSE 'contributor' END,
                       CASE WHEN k % 10 IN (1, 2, 9) THEN {Id(2, $"((k / 10) * 10) % {u}")} END,
                       CASE WHEN k % 10 BETWEEN 3 AND 7 THEN {past} END,
                       CASE WHEN k % 10 BETWEEN 3 AND 7 THEN 'event_seed_' || printf('%09d', k) END,
                       {past}, {past}
                FROM s
                """,
            Series(m) + $"""
                INSERT INTO webhook_events (event_id, type, received_at, outcome, payload)
                SELECT 'event_seed_' || printf('%09d', k), 'organization_membership.created', {past}, 'applied', '{emptyJson}' FROM s WHERE k % 10 BETWEEN 3 AND 7
                """,
            Series(m) + $"""
                INSERT INTO organization_role_assignments (id, organization_id, workos_user_id, user_id, role_urn, workos_updated_at,
                                                           workos_last_event_id, created_at, updated_at)
                SELECT {Id(4, "k")}, {Id(1, "k / 10")}, 'user_bench_' || printf('%08d', k % {u}), {Id(2, $"k % {u}")},
                       'role:global:{SeedShape.MemberRoleId.ToString().ToUpperInvariant()}', {past}, 'event_seed_' || printf('%09d', k), {past}, {past}
                FROM s WHERE k % 10 BETWEEN 3 AND 7
                """,
            Series(s.Organizations) + $"""
                INSERT INTO organization_roles (id, organization_id, workos_slug, name, permissions, created_at, updated_at)
                SELECT {Id(6, "k")}, {Id(1, "k")}, 'org-reviewer', 'Reviewer', '[]', {past}, {past} FROM s WHERE k % 10 = 0
                """,
            Series(s.Organizations) + $"""
                INSERT INTO seat_reservations (id, organization_id, email, seat_type, source, workos_invitation_id, expires_at, created_at)
                SELECT {Id(7, "k")}, {Id(1, "k")}, 'invitee' || k || '@bench.example', 'community_only', 'invitation',
                       'invitation_bench_' || printf('%07d', k), strftime('%Y-%m-%d %H:%M:%f', 'now', '+7 days'), {past}
                FROM s WHERE k % 10 = 0
                """,
        };
        using var c = new SqliteConnection(storage.ConnectionString);
        c.Open();
        using (var pragma = c.CreateCommand())
        {
            pragma.CommandText = "PRAGMA synchronous = OFF; PRAGMA cache_size = -262144;";
            pragma.ExecuteNonQuery();
        }
        using (var tx = c.BeginTransaction())
        {
            foreach (var sql in statements)
            {
                using var cmd = c.CreateCommand();
                cmd.Transaction = tx;
                cmd.CommandTimeout = 1800;
                cmd.CommandText = sql;
                cmd.ExecuteNonQuery();
            }
            tx.Commit();
        }
        using (var checkpoint = c.CreateCommand())
        {
            // Leave the file as a running service would find it: WAL folded back into the database.
            checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
            checkpoint.ExecuteNonQuery();
        }
    }
}
