using Roster.Features.Organizations;
using Roster.Infrastructure.Auth;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Seats;
using Roster.Migrations;

namespace Roster.Cli;

/// <summary>The operator commands the service binary takes after <c>--</c>.</summary>
public static class RosterCommands
{
    private static readonly string[] Names = ["migrate", "seats", "dev-token", "workos", "audit", "help"];

    public static bool IsCommand(string[] args) => args.Length > 0 && Names.Contains(args[0]);

    public const string Usage = """
        usage: Roster [--urls URL]                      run the service
               Roster migrate [--status]               apply migrations, or list applied/pending ones
               Roster seats audit                      organizations over their plan's seat limits
               Roster dev-token --sub <workosUserId> --email <email> [--name <n>] [--unverified] [--admin] [--permission <p>]...
               Roster dev-token --service --sub <clientId> [--permission <p>]...   a service credential: no email, no user;
                                                       permission defaults to roster:changes:read (reads GET /api/admin/changes)
               Roster workos sync [--org <workosOrgId>] [--since <ISO time>]   replay WorkOS events (needs WorkOS__ApiKey)
               Roster audit verify <file>              check an audit export's hash chain offline; names the first broken link
        """;

    public static async Task<int> RunAsync(IServiceProvider services, string[] args, TextWriter output, TextWriter error)
    {
        try
        {
            return args switch
            {
                ["migrate"] => await Migrate(services, output),
                ["migrate", "--status"] => await MigrateStatus(services, output),
                ["seats", "audit"] => await SeatsAudit(services, output),
                ["dev-token", .. var rest] => DevToken(services, rest, output, error),
                ["workos", "sync", .. var rest] => await WorkOsSync(services, rest, output, error),
                ["audit", "verify", var file] => await AuditVerify(file, output, error),
                ["help"] => Print(output, Usage, 0),
                _ => Print(error, Usage, 2),
            };
        }
        catch (MigrationAbortedException ex)
        {
            await error.WriteLineAsync(ex.Message);
            return 1;
        }
        catch (Exception ex) when (DbErrors.IsUnavailable(ex))
        {
            await error.WriteLineAsync($"The database is unavailable: {ex.Message}");
            return 1;
        }
    }

    /// <summary>Checks an export of GET …/audit/export: 0 when the chain is intact, 1 naming the first broken link, 2 when unreadable.</summary>
    private static async Task<int> AuditVerify(string file, TextWriter output, TextWriter error)
    {
        if (!File.Exists(file))
        {
            await error.WriteLineAsync($"No such file: {file}");
            return 2;
        }
        var verdict = Roster.Infrastructure.Changes.AuditChain.Verify(File.ReadLines(file));
        if (verdict.Intact)
        {
            await output.WriteLineAsync($"OK: {verdict.Rows} audit rows, the chain is intact (last hash {verdict.Hash ?? "-"}).");
            return 0;
        }
        await output.WriteLineAsync($"BROKEN: {verdict.Problem}. {verdict.Rows} rows before it verified.");
        return 1;
    }

    private static int Print(TextWriter writer, string text, int code)
    {
        writer.WriteLine(text);
        return code;
    }

    private static async Task<int> Migrate(IServiceProvider services, TextWriter output)
    {
        var applied = await services.GetRequiredService<MigrationRunner>().MigrateAsync();
        await output.WriteLineAsync(applied.Count == 0 ? "Database is up to date." : $"Applied: {string.Join(", ", applied)}");
        return 0;
    }

    private static async Task<int> MigrateStatus(IServiceProvider services, TextWriter output)
    {
        foreach (var m in await services.GetRequiredService<MigrationRunner>().StatusAsync())
            await output.WriteLineAsync($"{m.Version}_{m.Name}\t{(m.AppliedAt is { } at ? $"applied {at:O}" : "pending")}");
        return 0;
    }

    private static async Task<int> SeatsAudit(IServiceProvider services, TextWriter output)
    {
        using var scope = services.CreateScope();
        var entries = await SeatAudit.RunAsync(scope.ServiceProvider.GetRequiredService<RosterDb>(),
            scope.ServiceProvider.GetRequiredService<PlanCatalog>(), TimeProvider.System, CancellationToken.None);
        if (entries.Count == 0) await output.WriteLineAsync("No organization is over its seat limits.");
        foreach (var e in entries)
        {
            var over = string.Join("; ", e.Over.Select(l => $"{l.SeatType} {l.Used}/{l.Limit} ({l.Active} active, {l.Reserved} reserved)"));
            await output.WriteLineAsync($"{e.OrganizationId}\t{e.WorkosOrganizationId ?? "-"}\t{e.Name}\tplan {e.Plan}\t{over}");
        }
        return 0;
    }

    private static async Task<int> WorkOsSync(IServiceProvider services, string[] args, TextWriter output, TextWriter error)
    {
        string? organization = null;
        DateTime? since = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--org" when i + 1 < args.Length: organization = args[++i]; break;
                case "--since" when i + 1 < args.Length && DateTime.TryParse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture,
                    System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal, out var at):
                    since = at; i++; break;
                default: return Print(error, $"workos sync: unexpected argument '{args[i]}'.\n{Usage}", 2);
            }
        }
        if (!services.GetRequiredService<Infrastructure.WorkOs.WorkOsOptions>().IsApiConfigured)
            return Print(error, "workos sync needs WorkOS__ApiKey.", 1);

        using var scope = services.CreateScope();
        var sync = scope.ServiceProvider.GetRequiredService<Features.WorkOsSync.EventSync>();
        var results = organization is null
            ? await sync.SyncAllAsync(since, CancellationToken.None)
            : [await sync.SyncOrganizationAsync(organization, since, CancellationToken.None)];
        foreach (var r in results)
        {
            var name = r.Key is Features.WorkOsSync.EventSync.EnvironmentKey or Features.WorkOsSync.EventSync.UsersKey
                or Features.WorkOsSync.EventSync.OrganizationListKey ? $"({Features.WorkOsSync.EventSync.Label(r.Key)})" : r.Key;
            await output.WriteLineAsync(!r.Ran ? $"{name}\tskipped: another instance is syncing it"
                : $"{name}\t{r.Applied} applied, {r.Duplicates} already seen, cursor {r.Cursor ?? "-"}{(r.Error is null ? "" : $", stopped: {r.Error}")}");
        }
        return results.Any(r => r.Error is not null) ? 1 : 0;
    }

    private static int DevToken(IServiceProvider services, string[] args, TextWriter output, TextWriter error)
    {
        string? sub = null, email = null, name = null;
        bool verified = true, admin = false, service = false;
        var permissions = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--sub" when i + 1 < args.Length: sub = args[++i]; break;
                case "--email" when i + 1 < args.Length: email = args[++i]; break;
                case "--name" when i + 1 < args.Length: name = args[++i]; break;
                case "--permission" when i + 1 < args.Length && !string.IsNullOrWhiteSpace(args[i + 1]): permissions.Add(args[++i].Trim()); break;
                case "--unverified": verified = false; break;
                case "--admin": admin = true; break;
                case "--service": service = true; break;
                default: return Print(error, $"dev-token: unexpected argument '{args[i]}'.\n{Usage}", 2);
            }
        }
        if (service)
        {
            // A machine's token (client-credentials style): sub and permissions only. A person's fields would make it a user.
            if (string.IsNullOrWhiteSpace(sub)) return Print(error, $"dev-token --service needs --sub (the client's id).\n{Usage}", 2);
            if (email is not null || name is not null || !verified || admin)
                return Print(error, $"dev-token --service takes no --email, --name, --unverified or --admin: a service credential is not a person.\n{Usage}", 2);
            if (permissions.Count == 0) permissions.Add(Features.Changes.ChangesReaderPolicy.Permission);
        }
        else if (string.IsNullOrWhiteSpace(sub) || string.IsNullOrWhiteSpace(email))
            return Print(error, $"dev-token needs --sub and --email (or --service and --sub).\n{Usage}", 2);

        var key = services.GetRequiredService<SigningKeyHolder>().DevKey;
        if (key is null)
            return Print(error, "No signing key: set Auth__DevSigningKey, or run in Development so a local key is created.", 1);
        output.WriteLine(TokenMinter.Mint(key, services.GetRequiredService<AuthOptions>(),
            new TokenRequest(sub, service ? null : email, name, verified, admin, Permissions: permissions)));
        return 0;
    }
}
