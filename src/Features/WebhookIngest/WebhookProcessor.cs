using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.WorkOs;

namespace Roster.Features.WebhookIngest;

/// <summary>
/// Applies one WorkOS event exactly once: the event record, the state change and any outbox row commit in one
/// transaction, or nothing does (and the caller answers non-2xx so WorkOS retries).
/// </summary>
public sealed class WebhookProcessor(RosterDb db, WebhookContext context)
{
    private delegate Task<EventOutcome> Handler(WebhookContext context, WorkOsEvent evt, CancellationToken ct);

    // Wired explicitly: one handler per event type, grouped by family in their own files.
    private static readonly Dictionary<string, Handler> Handlers = new(StringComparer.Ordinal)
    {
        ["organization_membership.created"] = MembershipEvents.UpsertAsync,
        ["organization_membership.updated"] = MembershipEvents.UpsertAsync,
        ["organization_membership.deleted"] = MembershipEvents.DeleteAsync,
        ["user.created"] = UserEvents.UpsertAsync,
        ["user.updated"] = UserEvents.UpsertAsync,
        ["user.deleted"] = UserEvents.DeleteAsync,
        ["organization.created"] = OrganizationEvents.UpsertAsync,
        ["organization.updated"] = OrganizationEvents.UpsertAsync,
        ["organization.deleted"] = OrganizationEvents.DeleteAsync,
        ["invitation.created"] = InvitationEvents.StageAsync,
        ["invitation.resent"] = InvitationEvents.StageAsync,
        ["invitation.accepted"] = InvitationEvents.AcceptedAsync,
        ["invitation.revoked"] = InvitationEvents.ReleaseAsync,
        ["role.created"] = RoleEvents.UpsertGlobalAsync,
        ["role.updated"] = RoleEvents.UpsertGlobalAsync,
        ["role.deleted"] = RoleEvents.DeleteGlobalAsync,
        ["organization_role.created"] = RoleEvents.UpsertOrganizationAsync,
        ["organization_role.updated"] = RoleEvents.UpsertOrganizationAsync,
        ["organization_role.deleted"] = RoleEvents.DeleteOrganizationAsync,
    };

    public static bool Handles(string eventType) => Handlers.ContainsKey(eventType);

    // The hot statements of ingest are compiled queries: building and hashing expression trees per statement cost the
    // service more CPU than the statements themselves (bench/RESULTS.md, figure 1).
    private static readonly PerModelQuery<Func<RosterDb, string, CancellationToken, Task<bool>>> IsRecorded = new(() =>
        EF.CompileAsyncQuery((RosterDb db, string eventId, CancellationToken ct) => db.WebhookEvents.Any(e => e.EventId == eventId)));

    /// <summary>
    /// Records an event that cannot be applied (its data is malformed) as ignored, so a replay through the Events API
    /// moves past it instead of stopping there for good.
    /// </summary>
    public async Task RecordUnprocessableAsync(WorkOsEvent evt, string payload, string detail, CancellationToken ct,
        Func<RosterDb, CancellationToken, Task>? alsoInTransaction = null)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        if (!await IsRecorded.For(db)(db, evt.Id, ct))
            db.WebhookEvents.Add(new WebhookEvent
            {
                EventId = evt.Id, Type = evt.Event, ReceivedAt = context.Now, Outcome = WebhookOutcomes.Ignored, Detail = detail, Payload = payload,
            });
        await db.SaveChangesAsync(ct);
        if (alsoInTransaction is not null) await alsoInTransaction(db, ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>Tries of one event when its transaction loses a race to create a shared row (see <see cref="ProcessAsync"/>).</summary>
    public const int MaxAttempts = 3;

    /// <param name="alsoInTransaction">More work that must commit with the event (the Events API sync advances its cursor here).</param>
    /// <returns>The outcome: applied, refused, stale, ignored, or duplicate for an event already recorded.</returns>
    public Task<string> ProcessAsync(WorkOsEvent evt, string payload, CancellationToken ct,
        Func<RosterDb, CancellationToken, Task>? alsoInTransaction = null) =>
        // Concurrent events raced to create the same placeholder (an organization, a role): run the event again.
        db.RetryWhileLosingCreateRaceAsync(MaxAttempts, () => ProcessOnceAsync(evt, payload, ct, alsoInTransaction));

    private async Task<string> ProcessOnceAsync(WorkOsEvent evt, string payload, CancellationToken ct,
        Func<RosterDb, CancellationToken, Task>? alsoInTransaction)
    {
        // The Events API sync is the caller that commits more work with the event (its cursor); a webhook never does.
        context.Via = alsoInTransaction is null ? AuditVia.Webhook : AuditVia.Sync;
        await context.PrepareAsync(evt, ct);

        // The event applies as a unit or, on any failure, not at all (and is delivered or replayed again): savepoints
        // around each save inside it would only cost round trips. Restored after, for whoever leases this context next.
        db.Database.AutoSavepointsEnabled = false;
        try
        {
            return await ApplyAsync(evt, payload, alsoInTransaction, ct);
        }
        finally
        {
            db.Database.AutoSavepointsEnabled = true;
        }
    }

    private async Task<string> ApplyAsync(WorkOsEvent evt, string payload, Func<RosterDb, CancellationToken, Task>? alsoInTransaction, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var record = new WebhookEvent
        {
            EventId = evt.Id,
            Type = evt.Event,
            ReceivedAt = context.Now,
            Outcome = WebhookOutcomes.Ignored,
            Payload = payload,
        };
        // Recorded first, and a recorded event is no error: a concurrent delivery of the same event waits here for this
        // one's transaction, then finds it recorded (nothing inserted) and answers duplicate.
        var inserted = await db.Database.ExecuteSqlAsync(
            $"INSERT INTO webhook_events (event_id, type, received_at, outcome, detail, payload) VALUES ({record.EventId}, {record.Type}, {record.ReceivedAt}, {record.Outcome}, {record.Detail}, {record.Payload}) ON CONFLICT (event_id) DO NOTHING",
            ct);
        if (inserted == 0)
        {
            await tx.RollbackAsync(ct);
            return WebhookOutcomes.Duplicate;
        }
        db.WebhookEvents.Attach(record);

        var outcome = Handlers.TryGetValue(evt.Event, out var handler)
            ? await handler(context, evt, ct)
            : EventOutcome.Ignored($"Roster does not handle {evt.Event} events.");
        record.Outcome = outcome.Outcome;
        record.Detail = outcome.Detail;
        // One save for everything the handler staged, with the outcome.
        await db.SaveChangesAsync(ct);
        if (alsoInTransaction is not null) await alsoInTransaction(db, ct);
        await tx.CommitAsync(ct);
        // Counted once committed: a refusal that rolled back (and will be retried) is not one yet.
        if (outcome.RefusedSeatType is { } seatType) context.Gate.CountRefusal(Infrastructure.Seats.SeatGates.WorkOsEvent, seatType);
        return outcome.Outcome;
    }
}
