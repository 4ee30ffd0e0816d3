using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Auth;
using Roster.Infrastructure.Http;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Memberships;
using Roster.Infrastructure.Http.OpenApi;
using Roster.Infrastructure.Seats;

namespace Roster.Features.Organizations;

public sealed record SeatAuditLine([property: SeatTypeValue] string SeatType, int Limit, int Active, int Reserved, int Used);

public sealed record SeatAuditEntry(Guid OrganizationId, string? WorkosOrganizationId, string Name, [property: PlanValue] string Plan, IReadOnlyList<SeatAuditLine> Over);

/// <summary>Organizations whose live seat usage exceeds their plan today (after a downgrade, or a change of catalog).</summary>
public static class SeatAudit
{
    public static RouteGroupBuilder MapSeatAudit(this RouteGroupBuilder admin)
    {
        admin.MapGet("/seat-audit", GetSeatAudit).WithTags("Organizations").ProducesValidationProblem().WithName("SeatAudit")
            .WithSummary("Organizations over their plan")
            .WithDescription("Platform admins only. Every organization whose live seat usage (active + reserved) exceeds its plan's limit " +
                             "for some seat type today — after a downgrade or a change of the catalog — with the seat types that are over.");
        return admin;
    }

    /// <summary>
    /// Paged on (name, organization id). The audit is computed whole on every call (usage grouped over every live
    /// membership), so a page is a slice of it in that order; a cursor stays valid while organizations come and go.
    /// </summary>
    public static async Task<Results<PagedOk<SeatAuditEntry>, ProblemHttpResult>> GetSeatAudit(
        string? limit, string? after, RosterDb db, PlanCatalog plans, TimeProvider clock, CancellationToken ct)
    {
        var (page, bad) = PageRequest.Parse("seat-audit", limit, after, 2);
        if (bad is not null) return bad;
        if (page!.Typed([], [1]) is { } badCursor) return badCursor;
        IEnumerable<SeatAuditEntry> entries = (await RunAsync(db, plans, clock, ct))
            .OrderBy(e => e.Name, StringComparer.Ordinal).ThenBy(e => e.OrganizationId.ToString(), StringComparer.Ordinal);
        if (page.HasAfter)
        {
            var (name, id) = (page.AfterText(0), page.AfterId(1).ToString());
            entries = entries.Where(e => string.CompareOrdinal(e.Name, name) > 0
                                         || (e.Name == name && string.CompareOrdinal(e.OrganizationId.ToString(), id) > 0));
        }
        return page.Page(entries.Take(page.Fetch).ToList(), e => PageRequest.Key(e.Name, e.OrganizationId));
    }

    public static async Task<IReadOnlyList<SeatAuditEntry>> RunAsync(RosterDb db, PlanCatalog plans, TimeProvider clock, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var held = await db.Memberships
            .Where(SeatHolding.At(now))
            .GroupBy(m => new { m.OrganizationId, m.SeatType, m.Status })
            .Select(g => new { g.Key.OrganizationId, g.Key.SeatType, g.Key.Status, Count = g.Count() })
            .ToListAsync(ct);
        var reserved = await db.SeatReservations
            .Where(r => r.ExpiresAt > now && r.Source != SeatReservationSources.Outbound)
            .GroupBy(r => new { r.OrganizationId, r.SeatType })
            .Select(g => new { g.Key.OrganizationId, g.Key.SeatType, Count = g.Count() })
            .ToListAsync(ct);

        var totals = new Dictionary<(Guid OrganizationId, string SeatType), (int Active, int Reserved)>();
        foreach (var h in held)
        {
            totals.TryGetValue((h.OrganizationId, h.SeatType), out var t);
            totals[(h.OrganizationId, h.SeatType)] = h.Status == MembershipStatus.Active ? (t.Active + h.Count, t.Reserved) : (t.Active, t.Reserved + h.Count);
        }
        foreach (var r in reserved)
        {
            totals.TryGetValue((r.OrganizationId, r.SeatType), out var t);
            totals[(r.OrganizationId, r.SeatType)] = (t.Active, t.Reserved + r.Count);
        }
        // Only usage above the smallest limit any plan sets can be over some org's plan; that keeps the org lookup small.
        var lines = totals
            .Where(t => t.Value.Active + t.Value.Reserved > plans.SmallestLimit(t.Key.SeatType))
            .Select(t => new { t.Key.OrganizationId, t.Key.SeatType, t.Value.Active, t.Value.Reserved }).ToList();

        var organizationIds = lines.Select(l => l.OrganizationId).Distinct().ToList();
        var organizations = await db.Organizations.AsNoTracking()
            .Where(o => organizationIds.Contains(o.Id) && o.DeletedAt == null)
            .ToDictionaryAsync(o => o.Id, ct);

        return lines
            .Where(l => organizations.ContainsKey(l.OrganizationId))
            .Select(l => (l.OrganizationId, Usage: new SeatUsage(l.SeatType, plans.LimitFor(organizations[l.OrganizationId].Plan, l.SeatType), l.Active, l.Reserved)))
            .Where(x => x.Usage.IsOver)
            .GroupBy(x => x.OrganizationId)
            .Select(g =>
            {
                var o = organizations[g.Key];
                return new SeatAuditEntry(o.Id, o.WorkosOrganizationId, o.Name, plans.EffectivePlan(o.Plan),
                    g.Select(x => new SeatAuditLine(x.Usage.SeatType, x.Usage.Limit, x.Usage.Active, x.Usage.Reserved, x.Usage.Used))
                        .OrderBy(x => x.SeatType, StringComparer.Ordinal).ToList());
            })
            .OrderBy(e => e.Name, StringComparer.Ordinal)
            .ToList();
    }
}
