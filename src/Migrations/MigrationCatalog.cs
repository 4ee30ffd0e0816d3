namespace Roster.Migrations;

/// <summary>A check run before a migration; any row it returns is an id that blocks the migration.</summary>
public sealed record MigrationGuard(string Problem, string Sql);

/// <summary>A script and the checks that must find nothing before it runs (all of them are run and reported together).</summary>
public sealed record Migration(string Version, string Name, params IReadOnlyList<MigrationGuard> Guards)
{
    public string ResourceName(string provider) => $"Roster.Migrations.{provider}/{Version}_{Name}.sql";
}

public static class MigrationCatalog
{
    private const string LiveDuplicates = """
        SELECT m.id FROM memberships m
        JOIN (SELECT organization_id, user_id FROM memberships
              WHERE deleted_at IS NULL AND user_id IS NOT NULL
              GROUP BY organization_id, user_id HAVING COUNT(*) > 1) d
          ON d.organization_id = m.organization_id AND d.user_id = m.user_id
        WHERE m.deleted_at IS NULL
        ORDER BY m.organization_id, m.user_id, m.created_at
        """;

    // ux_memberships_workos_id covers every row with a WorkOS membership id, tombstoned ones included.
    private const string SharedWorkosMembershipIds = """
        SELECT m.id FROM memberships m
        JOIN (SELECT workos_membership_id FROM memberships
              WHERE workos_membership_id IS NOT NULL
              GROUP BY workos_membership_id HAVING COUNT(*) > 1) d
          ON d.workos_membership_id = m.workos_membership_id
        ORDER BY m.workos_membership_id, m.created_at
        """;

    private const string SeveralPendingJoinRequests = """
        SELECT m.id FROM memberships m
        JOIN (SELECT user_id FROM memberships
              WHERE status = 'pending' AND source = 'join_request' AND deleted_at IS NULL AND user_id IS NOT NULL
              GROUP BY user_id HAVING COUNT(*) > 1) d
          ON d.user_id = m.user_id
        WHERE m.status = 'pending' AND m.source = 'join_request' AND m.deleted_at IS NULL
        ORDER BY m.user_id, m.created_at
        """;

    public static readonly IReadOnlyList<Migration> All =
    [
        new("0001", "initial"),
        new("0002", "membership_source"),
        new("0003", "unique_live_membership",
            new MigrationGuard(
                "several live memberships exist for the same (organization, user); remove the extra rows and run migrate again",
                LiveDuplicates),
            new MigrationGuard(
                "several memberships carry the same WorkOS membership id; correct or clear the extra ones and run migrate again",
                SharedWorkosMembershipIds)),
        new("0004", "one_pending_join_request", new MigrationGuard(
            "a user has several pending join requests; keep one per user and run migrate again",
            SeveralPendingJoinRequests)),
        new("0005", "seat_reservations_and_outbox"),
        new("0006", "webhook_ingest"),
        new("0007", "roles_and_sync"),
        new("0008", "slack_recipients"),
        new("0009", "sign_in_denials"),
        new("0010", "product_api"),
        new("0011", "unlinked_memberships"),
        new("0012", "change_feed"),
        new("0013", "redundant_audit_indexes"),
    ];
}
