using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Seats;
using Roster.Infrastructure.WorkOs;

namespace Roster.Features.WebhookIngest;

/// <param name="RefusedSeatType">For a refusal: the seat type that was full.</param>
public sealed record EventOutcome(string Outcome, string? Detail = null, string? RefusedSeatType = null)
{
    public static EventOutcome Applied(string? detail = null) => new(WebhookOutcomes.Applied, detail);
    public static EventOutcome Stale(string? detail = null) => new(WebhookOutcomes.Stale, detail);
    public static EventOutcome Ignored(string detail) => new(WebhookOutcomes.Ignored, detail);
    public static EventOutcome Refused(string detail, string seatType) => new(WebhookOutcomes.Refused, detail, seatType);
}

/// <summary>What every event handler works with, inside the event's one transaction.</summary>
public sealed class WebhookContext(
    RosterDb db, SeatGate gate, SeatOptions seats, WorkOsOptions workos, IServiceProvider services,
    TimeProvider clock, ILogger<WebhookContext> logger)
{
    public RosterDb Db { get; } = db;
    /// <summary>The one way a seat is taken or given back (<see cref="SeatGate"/>): every handler's lock, count and warnings go through it.</summary>
    public SeatGate Gate { get; } = gate;
    public SeatOptions Seats { get; } = seats;
    public ILogger Logger { get; } = logger;
    public DateTime Now => clock.GetUtcNow().UtcDateTime;

    /// <summary>How the event arrived, for the audit: a webhook, or the Events API sync (<see cref="AuditVia"/>).</summary>
    public string Via { get; set; } = AuditVia.Webhook;

    private static readonly PerModelQuery<Func<RosterDb, string, CancellationToken, Task<Organization?>>> OrganizationByWorkosId = new(() =>
        EF.CompileAsyncQuery((RosterDb db, string workosOrganizationId, CancellationToken ct) =>
            db.Organizations.FirstOrDefault(o => o.WorkosOrganizationId == workosOrganizationId)));

    private static readonly PerModelQuery<Func<RosterDb, string, CancellationToken, Task<User?>>> LiveUserByWorkosId = new(() =>
        EF.CompileAsyncQuery((RosterDb db, string workosUserId, CancellationToken ct) =>
            db.Users.AsNoTracking().FirstOrDefault(u => u.WorkosUserId == workosUserId && u.DeletedAt == null)));

    /// <summary>The live local user with this WorkOS id, untracked; null when WorkOS told us of someone not signed in yet.</summary>
    public Task<User?> LiveUserAsync(string workosUserId, CancellationToken ct) => LiveUserByWorkosId.For(Db)(Db, workosUserId, ct);

    private static readonly PerModelQuery<Func<RosterDb, string, CancellationToken, Task<User?>>> UserByWorkosId = new(() =>
        EF.CompileAsyncQuery((RosterDb db, string workosUserId, CancellationToken ct) =>
            db.Users.AsNoTracking().FirstOrDefault(u => u.WorkosUserId == workosUserId)));

    /// <summary>The local user with this WorkOS id, untracked, tombstone included (a deleted user stops older events about them).</summary>
    public Task<User?> UserAsync(string workosUserId, CancellationToken ct) => UserByWorkosId.For(Db)(Db, workosUserId, ct);

    /// <summary>
    /// The local organization for a WorkOS org id, created as a placeholder (name only, no WorkOS timestamps) when a
    /// membership or invitation arrives before its organization.created, so the later event still applies in full.
    /// </summary>
    public async Task<Organization> EnsureOrganizationAsync(string workosOrganizationId, string? name, CancellationToken ct)
    {
        var (organization, added) = await FindOrAddOrganizationAsync(workosOrganizationId, name, ct);
        if (added) await Db.SaveChangesAsync(ct);
        return organization;
    }

    /// <summary>
    /// The one find-or-create of an organization WorkOS names: the local row with this WorkOS id (tracked, tombstone
    /// included), or a new one added to the context, unsaved (<paramref name="Added"/>), named <paramref name="name"/> or,
    /// without one, by its WorkOS id.
    /// </summary>
    public async Task<(Organization Organization, bool Added)> FindOrAddOrganizationAsync(string workosOrganizationId, string? name, CancellationToken ct)
    {
        var organization = await OrganizationByWorkosId.For(Db)(Db, workosOrganizationId, ct);
        if (organization is not null) return (organization, false);
        organization = new Organization
        {
            Id = Guid.CreateVersion7(),
            WorkosOrganizationId = workosOrganizationId,
            Name = string.IsNullOrWhiteSpace(name) ? workosOrganizationId : name,
            CreatedAt = Now,
            UpdatedAt = Now,
        };
        Db.Organizations.Add(organization);
        return (organization, true);
    }

    private readonly Dictionary<string, string> _emails = new(StringComparer.Ordinal);

    /// <summary>The email <see cref="PrepareAsync"/> asked of WorkOS for this user, if it did.</summary>
    public string? PrefetchedEmail(string workosUserId) => _emails.GetValueOrDefault(workosUserId);

    /// <summary>
    /// Work an event needs from outside the database, done before its transaction begins — never under a seat lock, where
    /// a slow WorkOS (up to <c>WorkOS:MaxRetries</c> retries honouring Retry-After) would hold every seat gate of the
    /// organization, and on SQLite every writer, and a pooled connection.
    /// <para>
    /// A membership event names only the WorkOS user. When that user is not known locally yet but the organization holds
    /// an invitation reservation known only by email, the email is asked of WorkOS (with an API key), so the staged seat
    /// is not missed just because user.created has not arrived. Without an API key, or with no such reservation: nothing.
    /// A reservation staged between this look and the event's lock is settled when the user arrives (StagedSeats).
    /// </para>
    /// </summary>
    public async Task PrepareAsync(WorkOsEvent evt, CancellationToken ct)
    {
        _emails.Clear();
        if (!workos.IsApiConfigured || evt.Event is not ("organization_membership.created" or "organization_membership.updated")) return;
        WorkOsMembership data;
        try { data = evt.DataAs<WorkOsMembership>(); }
        catch (MalformedEventException) { return; } // the handler reports it
        if (data.Status != MembershipStatus.Active || string.IsNullOrWhiteSpace(data.UserId) || string.IsNullOrWhiteSpace(data.OrganizationId)) return;
        if (await UserAsync(data.UserId, ct) is not null) return;
        var now = Now;
        var emailOnly = await Db.SeatReservations.AnyAsync(r => r.ExpiresAt > now && r.WorkosUserId == null && r.Email != null
            && r.Source == SeatReservationSources.Invitation
            && Db.Organizations.Any(o => o.Id == r.OrganizationId && o.WorkosOrganizationId == data.OrganizationId), ct);
        if (!emailOnly) return;
        var user = await services.GetRequiredService<WorkOsClient>().GetUserAsync(data.UserId, ct);
        if (user?.Email is { } email) _emails[data.UserId] = User.NormalizeEmail(email);
    }

    public static DateTime EventTime(DateTime? dataUpdatedAt, WorkOsEvent evt, DateTime now) =>
        (dataUpdatedAt ?? evt.CreatedAt ?? now).ToUniversalTime();
}
