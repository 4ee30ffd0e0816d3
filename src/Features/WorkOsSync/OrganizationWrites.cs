using System.Net;
using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.WorkOs;
using Roster.Infrastructure.Outbox;

namespace Roster.Features.WorkOsSync;

public sealed record OutboundOrganizationWrite(Guid OrganizationId, string WorkosOrganizationId);

/// <summary>
/// A rename made in Roster of an organization linked to WorkOS goes to WorkOS through the outbox (committed with the
/// rename, so a WorkOS outage delays it but loses none). Without a WorkOS API key nothing is queued.
/// </summary>
public static class OrganizationWrites
{
    public const string UpdateOrganization = "workos_update_organization";

    public static void Renamed(RosterDb db, WorkOsOptions options, Organization organization, DateTime now)
    {
        if (!options.IsApiConfigured || organization.WorkosOrganizationId is not { } workosId) return;
        Outbox.Enqueue(db, UpdateOrganization, $"{UpdateOrganization}:{organization.Id}:{Guid.CreateVersion7()}",
            new OutboundOrganizationWrite(organization.Id, workosId), now);
    }
}

/// <summary>Sends the organization's name as it is when the row is sent, so a rename that waited sends the latest one.</summary>
public sealed class WorkOsOrganizationSender(RosterDb db, WorkOsClient workos, WorkOsOptions options) : IOutboxSender
{
    public IReadOnlyCollection<string> Kinds { get; } = [OrganizationWrites.UpdateOrganization];

    public bool IsConfigured => options.IsApiConfigured;

    public string ConfiguredBy => "WorkOS:ApiKey";

    public async Task<string> SendAsync(NotificationOutboxRow row, CancellationToken ct)
    {
        var write = Outbox.Read<OutboundOrganizationWrite>(row);
        var organization = await db.Organizations.AsNoTracking().FirstOrDefaultAsync(o => o.Id == write.OrganizationId, ct);
        if (organization is not { DeletedAt: null }) return "nothing to rename: the organization is deleted";
        try
        {
            await workos.UpdateOrganizationNameAsync(write.WorkosOrganizationId, organization.Name, ct);
            return $"renamed WorkOS organization {write.WorkosOrganizationId}";
        }
        catch (WorkOsApiException ex)
        {
            var transient = ex.Status is HttpStatusCode.TooManyRequests or HttpStatusCode.Conflict || (int)ex.Status >= 500;
            throw new OutboxSendException($"WorkOS {(int)ex.Status} {ex.Code}: {ex.Message}", transient, inner: ex);
        }
        catch (HttpRequestException ex)
        {
            throw new OutboxSendException($"WorkOS unreachable: {ex.Message}", isTransient: true, inner: ex);
        }
    }
}
