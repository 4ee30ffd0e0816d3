using Roster.Infrastructure.Changes;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Auth;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Http;
using Roster.Infrastructure.Http.OpenApi;
using Roster.Infrastructure.Memberships;

namespace Roster.Features.Changes;

/// <summary>One line of the audit export (NDJSON): the audit row, the hash of the row before it, and its own hash.</summary>
public sealed record AuditExportLine(
    Guid Id, Guid OrganizationId, long Sequence, string At, string Action, Guid? MembershipId, Guid? ActorUserId, Guid? SubjectUserId,
    string? OldRole, string? NewRole, string? OldStatus, string? NewStatus, string? Source, string Via, string PreviousHash, string Hash);

public static class AuditExportEndpoint
{
    public const string ContentType = "application/x-ndjson";
    private const int Batch = 1000;

    public static IEndpointRouteBuilder MapAuditExport(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/organizations/{orgId}/audit/export", Export)
            .RequireAuthorization()
            .RequireOrgAccess(OrgRequirement.Owner)
            .WithTags("Organizations")
            .Produces<AuditExportLine>(StatusCodes.Status200OK, ContentType)
            .Answers(StatusCodes.Status403Forbidden, "the caller is a member but not an owner", ErrorCodes.Forbidden)
            .Answers(StatusCodes.Status404NotFound, "no such organization, or the caller is not an active member of it", ErrorCodes.NotFound)
            .WithName("ExportAudit")
            .WithSummary("Export the audit chain")
            .WithDescription("Owners of the organization, and platform admins. Streams the organization's audit rows as NDJSON " +
                             "(`application/x-ndjson`, one AuditExportLine per line) in chain order, each with `previousHash` and " +
                             "`hash` = hex(SHA-256(previousHash + \"\\n\" + the row's canonical JSON array)). `roster audit verify <file>` " +
                             "checks a saved export offline and names the first broken link. Rows written before migration 0012 " +
                             "carry no hash and are not exported.");
        return app;
    }

    public static NdjsonResult Export(string orgId, OrgAccess access) => new(access.Organization.Id);

    /// <summary>Writes the chain in pages of <see cref="Batch"/> rows (keyset on the sequence), never the whole history in memory.</summary>
    public sealed class NdjsonResult(Guid organizationId) : IResult
    {
        public async Task ExecuteAsync(HttpContext http)
        {
            var db = http.RequestServices.GetRequiredService<RosterDb>();
            var ct = http.RequestAborted;
            http.Response.StatusCode = StatusCodes.Status200OK;
            http.Response.ContentType = ContentType;
            http.Response.Headers.ContentDisposition = $"attachment; filename=\"audit-{organizationId}.ndjson\"";
            long after = 0;
            while (true)
            {
                var rows = await db.AuditEvents.AsNoTracking()
                    .Where(a => a.OrganizationId == organizationId && a.Sequence != null && a.Sequence > after)
                    .OrderBy(a => a.Sequence).Take(Batch).ToListAsync(ct);
                if (rows.Count == 0) break;
                var text = new StringBuilder();
                foreach (var row in rows) text.Append(AuditChain.ExportLine(row)).Append('\n');
                await http.Response.WriteAsync(text.ToString(), Encoding.UTF8, ct);
                after = rows[^1].Sequence!.Value;
                if (rows.Count < Batch) break;
            }
        }
    }
}
