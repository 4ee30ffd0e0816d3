using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;

namespace Roster.Features.WebhookIngest;

/// <summary>organization.created|updated|deleted: mirror names and deletions; plans are Roster's own and never touched.</summary>
public static class OrganizationEvents
{
    public static async Task<EventOutcome> UpsertAsync(WebhookContext ctx, WorkOsEvent evt, CancellationToken ct)
    {
        var data = Validated(evt);
        var eventTime = WebhookContext.EventTime(data.UpdatedAt, evt, ctx.Now);
        var organization = await ctx.Db.Organizations.FirstOrDefaultAsync(o => o.WorkosOrganizationId == data.Id, ct);
        if (organization is null)
        {
            organization = new Organization { Id = Guid.CreateVersion7(), WorkosOrganizationId = data.Id, Name = data.Name!, CreatedAt = ctx.Now };
            ctx.Db.Organizations.Add(organization);
        }
        else if (organization.DeletedAt is not null)
        {
            return EventOutcome.Stale("The organization was deleted; a deleted organization is not brought back.");
        }
        else if (Freshness.IsStale(organization.WorkosUpdatedAt, organization.WorkosLastEventId, eventTime, evt.Id))
        {
            return EventOutcome.Stale("A newer event for this organization was already applied.");
        }

        organization.Name = data.Name!;
        organization.WorkosUpdatedAt = eventTime;
        organization.WorkosLastEventId = evt.Id;
        organization.UpdatedAt = ctx.Now;
        return EventOutcome.Applied();
    }

    public static async Task<EventOutcome> DeleteAsync(WebhookContext ctx, WorkOsEvent evt, CancellationToken ct)
    {
        var data = Validated(evt);
        var eventTime = WebhookContext.EventTime(data.UpdatedAt, evt, ctx.Now);
        var organization = await ctx.Db.Organizations.FirstOrDefaultAsync(o => o.WorkosOrganizationId == data.Id, ct);
        if (organization is null)
        {
            organization = new Organization { Id = Guid.CreateVersion7(), WorkosOrganizationId = data.Id, Name = data.Name!, CreatedAt = ctx.Now };
            ctx.Db.Organizations.Add(organization);
        }
        else if (organization.DeletedAt is not null)
        {
            return EventOutcome.Stale("The organization is already deleted.");
        }
        organization.DeletedAt = ctx.Now;
        organization.WorkosUpdatedAt = eventTime;
        organization.WorkosLastEventId = evt.Id;
        organization.UpdatedAt = ctx.Now;
        return EventOutcome.Applied();
    }

    private static WorkOsOrganization Validated(WorkOsEvent evt)
    {
        var data = evt.DataAs<WorkOsOrganization>();
        if (string.IsNullOrWhiteSpace(data.Id) || string.IsNullOrWhiteSpace(data.Name))
            throw new MalformedEventException($"{evt.Event}: data needs id and name.");
        return data;
    }
}
