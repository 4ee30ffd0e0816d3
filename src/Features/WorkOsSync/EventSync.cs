using System.Globalization;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Roster.Features.WebhookIngest;
using Roster.Infrastructure.Data;

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
    public const string EnvironmentKey = "";

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

    public const int PageSize = 100;

    /// <param name="workosOrganizationId">The org_ id, or <see cref="EnvironmentKey"/> for role events.</param>
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
        var types = workosOrganizationId == EnvironmentKey ? EnvironmentEventTypes : OrganizationEventTypes;
        int applied = 0, duplicates = 0;
        try
        {
            while (true)
            {
                var page = await workos.ListEventsAsync(types, NullIfEmpty(workosOrganizationId), after, since, PageSize, ct);
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

    /// <summary>Every organization Roster knows from WorkOS, plus the environment's role events.</summary>
    public async Task<IReadOnlyList<SyncResult>> SyncAllAsync(DateTime? since, CancellationToken ct)
    {
        List<string> organizations;
        using (var scope = scopes.CreateScope())
        {
            organizations = await scope.ServiceProvider.GetRequiredService<RosterDb>().Organizations.AsNoTracking()
                .Where(o => o.WorkosOrganizationId != null && o.DeletedAt == null)
                .Select(o => o.WorkosOrganizationId!).OrderBy(id => id).ToListAsync(ct);
        }
        var results = new List<SyncResult> { await SyncOrganizationAsync(EnvironmentKey, since, ct) };
        foreach (var organization in organizations) results.Add(await SyncOrganizationAsync(organization, since, ct));
        return results;
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

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;

    private static string Label(string key) => key.Length == 0 ? "environment roles" : key;
}
