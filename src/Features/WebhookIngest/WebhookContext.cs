using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Seats;

namespace Roster.Features.WebhookIngest;

public sealed record EventOutcome(string Outcome, string? Detail = null)
{
    public static EventOutcome Applied(string? detail = null) => new(WebhookOutcomes.Applied, detail);
    public static EventOutcome Stale(string? detail = null) => new(WebhookOutcomes.Stale, detail);
    public static EventOutcome Ignored(string detail) => new(WebhookOutcomes.Ignored, detail);
    public static EventOutcome Refused(string detail) => new(WebhookOutcomes.Refused, detail);
}

/// <summary>What every event handler works with, inside the event's one transaction.</summary>
public sealed class WebhookContext(
    RosterDb db, SeatLedger ledger, SeatWarnings warnings, SeatOptions seats, TimeProvider clock, ILogger<WebhookContext> logger)
{
    public RosterDb Db { get; } = db;
    public SeatLedger Ledger { get; } = ledger;
    public SeatWarnings Warnings { get; } = warnings;
    public SeatOptions Seats { get; } = seats;
    public ILogger Logger { get; } = logger;
    public DateTime Now => clock.GetUtcNow().UtcDateTime;

    /// <summary>
    /// The local organization for a WorkOS org id, created as a placeholder (name only, no WorkOS timestamps) when a
    /// membership or invitation arrives before its organization.created, so the later event still applies in full.
    /// </summary>
    public async Task<Organization> EnsureOrganizationAsync(string workosOrganizationId, string? name, CancellationToken ct)
    {
        var organization = await Db.Organizations.FirstOrDefaultAsync(o => o.WorkosOrganizationId == workosOrganizationId, ct);
        if (organization is not null) return organization;
        organization = new Organization
        {
            Id = Guid.CreateVersion7(),
            WorkosOrganizationId = workosOrganizationId,
            Name = string.IsNullOrWhiteSpace(name) ? workosOrganizationId : name,
            CreatedAt = Now,
            UpdatedAt = Now,
        };
        Db.Organizations.Add(organization);
        await Db.SaveChangesAsync(ct);
        return organization;
    }

    public static DateTime EventTime(DateTime? dataUpdatedAt, WorkOsEvent evt, DateTime now) =>
        (dataUpdatedAt ?? evt.CreatedAt ?? now).ToUniversalTime();
}
