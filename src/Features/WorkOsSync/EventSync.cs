using System.Globalization;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Roster.Features.WebhookIngest;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.WorkOs;

namespace Roster.Features.WorkOsSync;

public sealed record SyncResult(string Key, bool Ran, int Applied, int Duplicates, string? Cursor, string? Error = null);

/// <summary>
/// Converges Roster on WorkOS through the Events API when webhooks are lost, late or out of order. Each event goes
/// through the same handlers as a webhook (so the event-id dedupe covers both paths), and the organization's cursor
/// advances in the same transaction as the event's effect: a crash or outage mid-page resumes after the last event
/// applied, and nothing is applied twice.
/// </summary>
public sealed class EventSync(IServiceScopeFactory scopes, WorkOsClient workos, SyncLocks locks, TimeProvider clock, ILogger<EventSync> logger)
{
    /// <summary>Key of the cursor for environment-wide role events.</summary>
    public const string EnvironmentKey = SyncScheduler.EnvironmentKey;

    /// <summary>Key of the cursor for <c>user.*</c> events (environment-wide: users belong to no one organization).</summary>
    public const string UsersKey = SyncScheduler.UsersKey;

    /// <summary>Key of the <see cref="SyncResult"/> that reports discovering organizations through List Organizations.</summary>
    public const string OrganizationListKey = "organizations";

    /// <summary>
    /// Real WorkOS event names only: <c>GET /events</c> refuses the whole request (400 <c>invalid_events_request</c>) when
    /// one name is unknown. There is no <c>invitation.expired</c>: an expired invitation's reservation ends at its <c>expires_at</c>.
    /// </summary>
    public static readonly string[] OrganizationEventTypes =
    [
        "organization.created", "organization.updated", "organization.deleted",
        "organization_membership.created", "organization_membership.updated", "organization_membership.deleted",
        "organization_role.created", "organization_role.updated", "organization_role.deleted",
        "invitation.created", "invitation.accepted", "invitation.revoked", "invitation.resent",
    ];

    public static readonly string[] EnvironmentEventTypes = ["role.created", "role.updated", "role.deleted"];

    public static readonly string[] UserEventTypes = ["user.created", "user.updated", "user.deleted"];

    /// <summary>Pages of List Organizations read per reconciliation at most (100 organizations each).</summary>
    public const int MaxOrganizationPages = 1000;

    public const int PageSize = 100;

    /// <param name="workosOrganizationId">The org_ id, <see cref="EnvironmentKey"/> for role events or <see cref="UsersKey"/> for user events.</param>
    /// <param name="since">Replay from this time instead of from the cursor (the cursor never moves backwards).</param>
    public async Task<SyncResult> SyncOrganizationAsync(string workosOrganizationId, DateTime? since, CancellationToken ct)
    {
        await using var lease = await locks.TryAcquireAsync("org:" + workosOrganizationId, ct);
        if (lease is null)
        {
            logger.LogInformation("Sync of {Organization} skipped: another instance is running it", Label(workosOrganizationId));
            return new SyncResult(workosOrganizationId, false, 0, 0, null);
        }

        var cursor = await ReadCursorAsync(workosOrganizationId, ct);
        var after = since is null ? cursor : null;
        var types = workosOrganizationId switch
        {
            EnvironmentKey => EnvironmentEventTypes,
            UsersKey => UserEventTypes,
            _ => OrganizationEventTypes,
        };
        int applied = 0, duplicates = 0;
        try
        {
            while (true)
            {
                var page = await workos.ListEventsAsync(types, OrganizationFilter(workosOrganizationId), after, since, PageSize, ct);
                foreach (var (evt, raw) in page.Events)
                {
                    using var scope = scopes.CreateScope();
                    var processor = scope.ServiceProvider.GetRequiredService<WebhookProcessor>();
                    string outcome;
                    try
                    {
                        outcome = await processor.ProcessAsync(evt, raw, ct, (db, token) => AdvanceAsync(db, workosOrganizationId, evt.Id, token));
                    }
                    catch (MalformedEventException ex)
                    {
                        logger.LogWarning("Event {EventId} from the Events API is malformed and was skipped: {Error}", evt.Id, ex.Message);
                        using var recordScope = scopes.CreateScope();
                        await recordScope.ServiceProvider.GetRequiredService<WebhookProcessor>().RecordUnprocessableAsync(evt, raw, $"malformed: {ex.Message}", ct,
                            (db, token) => AdvanceAsync(db, workosOrganizationId, evt.Id, token));
                        outcome = WebhookOutcomes.Ignored;
                    }
                    if (outcome == WebhookOutcomes.Duplicate)
                    {
                        duplicates++;
                        await AdvanceInOwnTransactionAsync(scope.ServiceProvider.GetRequiredService<RosterDb>(), workosOrganizationId, evt.Id, ct);
                    }
                    else
                    {
                        applied++;
                    }
                    after = evt.Id;
                }
                if (page.After is null || page.Events.Count == 0) break;
                after = page.After;
            }
            cursor = await FinishAsync(workosOrganizationId, null, ct);
            logger.LogInformation("Synced {Organization}: {Applied} applied, {Duplicates} already seen", Label(workosOrganizationId), applied, duplicates);
            return new SyncResult(workosOrganizationId, true, applied, duplicates, cursor);
        }
        catch (Exception ex) when (ex is WorkOsApiException or HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            // The cursor stays at the last event applied; the next sync resumes from there.
            logger.LogWarning("Sync of {Organization} stopped after {Applied} events: {Error}", Label(workosOrganizationId), applied, ex.Message);
            cursor = await FinishAsync(workosOrganizationId, ex.Message, ct);
            return new SyncResult(workosOrganizationId, true, applied, duplicates, cursor, ex.Message);
        }
    }

    /// <summary>
    /// A user has no per-user event stream, so their sync reads the user object itself and applies it as the event
    /// it amounts to (user.updated, or user.deleted when WorkOS no longer has them), keyed so the same state is applied once.
    /// </summary>
    public async Task<SyncResult> SyncUserAsync(string workosUserId, CancellationToken ct)
    {
        await using var lease = await locks.TryAcquireAsync("user:" + workosUserId, ct);
        if (lease is null) return new SyncResult(workosUserId, false, 0, 0, null);
        try
        {
            var user = await workos.GetUserAsync(workosUserId, ct);
            var now = clock.GetUtcNow().UtcDateTime;
            var version = user?.UpdatedAt ?? now;
            var stamp = version.ToUniversalTime().ToString("yyyyMMddHHmmssfff", CultureInfo.InvariantCulture);
            var type = user is null ? "user.deleted" : "user.updated";
            var data = user is null
                ? JsonSerializer.SerializeToElement(new { id = workosUserId }, WorkOsEvent.Json)
                : JsonSerializer.SerializeToElement(user, WorkOsEvent.Json);
            var evt = new WorkOsEvent($"sync_user_{workosUserId}_{(user is null ? "deleted" : stamp)}", type, data, version);
            var raw = JsonSerializer.Serialize(new { id = evt.Id, @event = type, data, created_at = version }, WorkOsEvent.Json);

            using var scope = scopes.CreateScope();
            var outcome = await scope.ServiceProvider.GetRequiredService<WebhookProcessor>().ProcessAsync(evt, raw, ct,
                (db, token) => RecordUserSyncAsync(db, workosUserId, user is null ? "deleted" : stamp, null, token));
            if (outcome == WebhookOutcomes.Duplicate)
                await RecordUserSyncAsync(scope.ServiceProvider.GetRequiredService<RosterDb>(), workosUserId, stamp, null, ct);
            return new SyncResult(workosUserId, true, outcome == WebhookOutcomes.Duplicate ? 0 : 1, outcome == WebhookOutcomes.Duplicate ? 1 : 0, stamp);
        }
        catch (Exception ex) when (ex is WorkOsApiException or HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            using var scope = scopes.CreateScope();
            await RecordUserSyncAsync(scope.ServiceProvider.GetRequiredService<RosterDb>(), workosUserId, null, ex.Message, ct);
            return new SyncResult(workosUserId, true, 0, 0, null, ex.Message);
        }
    }

    /// <summary>
    /// The environment's role and user events, then every organization: those Roster knows and those WorkOS lists that it
    /// has never seen (an organization whose organization.created webhook was lost is read from List Organizations,
    /// applied, and then synced like the others).
    /// </summary>
    public async Task<IReadOnlyList<SyncResult>> SyncAllAsync(DateTime? since, CancellationToken ct)
    {
        var results = new List<SyncResult>
        {
            await SyncOrganizationAsync(EnvironmentKey, since, ct),
            await SyncOrganizationAsync(UsersKey, since, ct),
        };
        var (discovery, discovered) = await DiscoverOrganizationsAsync(ct);
        results.Add(discovery);
        List<string> organizations;
        using (var scope = scopes.CreateScope())
        {
            organizations = await scope.ServiceProvider.GetRequiredService<RosterDb>().Organizations.AsNoTracking()
                .Where(o => o.WorkosOrganizationId != null && o.DeletedAt == null)
                .Select(o => o.WorkosOrganizationId!).ToListAsync(ct);
        }
        foreach (var organization in organizations.Union(discovered, StringComparer.Ordinal).Order(StringComparer.Ordinal))
            results.Add(await SyncOrganizationAsync(organization, since, ct));
        return results;
    }

    /// <summary>
    /// Pages through List Organizations and applies each organization Roster has no row for (live or deleted) as the
    /// organization.updated it amounts to, keyed by its updated_at so the same state is applied once.
    /// </summary>
    private async Task<(SyncResult Result, IReadOnlyList<string> Discovered)> DiscoverOrganizationsAsync(CancellationToken ct)
    {
        var discovered = new List<string>();
        int applied = 0, seen = 0;
        try
        {
            string? after = null;
            for (var pages = 0; pages < MaxOrganizationPages; pages++)
            {
                var page = await workos.ListOrganizationsAsync(after, ct);
                var ids = page.Data.Select(o => o.Id).OfType<string>().ToList();
                HashSet<string> known;
                using (var scope = scopes.CreateScope())
                {
                    known = (await scope.ServiceProvider.GetRequiredService<RosterDb>().Organizations.AsNoTracking()
                        .Where(o => o.WorkosOrganizationId != null && ids.Contains(o.WorkosOrganizationId))
                        .Select(o => o.WorkosOrganizationId!).ToListAsync(ct)).ToHashSet(StringComparer.Ordinal);
                }
                foreach (var organization in page.Data.Where(o => o.Id is not null && !known.Contains(o.Id)))
                {
                    var version = organization.UpdatedAt ?? organization.CreatedAt ?? clock.GetUtcNow().UtcDateTime;
                    var stamp = version.ToUniversalTime().ToString("yyyyMMddHHmmssfffffff", CultureInfo.InvariantCulture);
                    var data = JsonSerializer.SerializeToElement(organization, WorkOsEvent.Json);
                    var evt = new WorkOsEvent($"sync_org_{organization.Id}_{stamp}", "organization.updated", data, version);
                    var raw = JsonSerializer.Serialize(new { id = evt.Id, @event = evt.Event, data, created_at = version }, WorkOsEvent.Json);
                    using var scope = scopes.CreateScope();
                    var outcome = await scope.ServiceProvider.GetRequiredService<WebhookProcessor>().ProcessAsync(evt, raw, ct);
                    if (outcome == WebhookOutcomes.Applied) applied++;
                    discovered.Add(organization.Id!);
                }
                seen += ids.Count;
                if (page.After is null || page.Data.Count == 0) break;
                after = page.After;
            }
            logger.LogInformation("Listed {Seen} WorkOS organizations; {Applied} were new to Roster", seen, applied);
            return (new SyncResult(OrganizationListKey, true, applied, seen - discovered.Count, null), discovered);
        }
        catch (Exception ex) when (ex is WorkOsApiException or HttpRequestException or MalformedEventException
                                       or TaskCanceledException && !ct.IsCancellationRequested)
        {
            // The organizations Roster knows are still synced; the next reconciliation lists again.
            logger.LogWarning("Listing WorkOS organizations stopped after {Seen}: {Error}", seen, ex.Message);
            return (new SyncResult(OrganizationListKey, true, applied, 0, null, ex.Message), discovered);
        }
    }

    private async Task<string?> ReadCursorAsync(string key, CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<RosterDb>();
        return await db.OrganizationSyncs.AsNoTracking().Where(s => s.WorkosOrganizationId == key).Select(s => s.Cursor).FirstOrDefaultAsync(ct);
    }

    /// <summary>Moves the cursor forward only: a replay (--since) of older events never sends it back.</summary>
    private async Task AdvanceAsync(RosterDb db, string key, string eventId, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var sync = await db.OrganizationSyncs.FirstOrDefaultAsync(s => s.WorkosOrganizationId == key, ct);
        if (sync is null)
        {
            db.OrganizationSyncs.Add(new WorkosOrganizationSync { WorkosOrganizationId = key, Cursor = eventId, UpdatedAt = now });
        }
        else if (sync.Cursor is null || string.CompareOrdinal(eventId, sync.Cursor) > 0)
        {
            sync.Cursor = eventId;
            sync.UpdatedAt = now;
        }
        await db.SaveChangesAsync(ct);
    }

    private async Task AdvanceInOwnTransactionAsync(RosterDb db, string key, string eventId, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await AdvanceAsync(db, key, eventId, ct);
        await tx.CommitAsync(ct);
    }

    private async Task<string?> FinishAsync(string key, string? error, CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<RosterDb>();
        var now = clock.GetUtcNow().UtcDateTime;
        var sync = await db.OrganizationSyncs.FirstOrDefaultAsync(s => s.WorkosOrganizationId == key, ct);
        if (sync is null)
        {
            sync = new WorkosOrganizationSync { WorkosOrganizationId = key, UpdatedAt = now };
            db.OrganizationSyncs.Add(sync);
        }
        if (error is null) sync.LastSyncedAt = now;
        sync.LastError = error;
        sync.UpdatedAt = now;
        await db.SaveChangesAsync(ct);
        return sync.Cursor;
    }

    private async Task RecordUserSyncAsync(RosterDb db, string workosUserId, string? cursor, string? error, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var sync = await db.UserSyncs.FirstOrDefaultAsync(s => s.WorkosUserId == workosUserId, ct);
        if (sync is null)
        {
            sync = new WorkosUserSync { WorkosUserId = workosUserId, UpdatedAt = now };
            db.UserSyncs.Add(sync);
        }
        if (cursor is not null)
        {
            sync.Cursor = cursor;
            sync.LastSyncedAt = now;
        }
        sync.LastError = error;
        sync.UpdatedAt = now;
        await db.SaveChangesAsync(ct);
    }

    /// <summary>The organization_id filter of a cursor's events: none for the environment-wide streams.</summary>
    private static string? OrganizationFilter(string key) => key is EnvironmentKey or UsersKey ? null : key;

    /// <summary>How a sync key reads in logs and in the CLI's output.</summary>
    public static string Label(string key) => key switch
    {
        EnvironmentKey => "environment roles",
        UsersKey => "users",
        OrganizationListKey => "organization list",
        _ => key,
    };
}
