using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Auth;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Http;
using Roster.Infrastructure.Http.OpenApi;
using Roster.Infrastructure.Memberships;

namespace Roster.Features.Refusals;

/// <summary>
/// One refusal over the seat cap: a WorkOS add the webhook did not mirror (<c>kind</c> <c>webhook</c>), or a sign-in
/// denied at the door (<c>kind</c> <c>sign_in</c>, whose <c>eventId</c> is the WorkOS action's id). <c>used</c>/<c>limit</c>
/// are the seats of <c>seatType</c> at that moment (null on refusals recorded before they were kept).
/// </summary>
public sealed record RefusalView(Guid Id, DateTime At, [property: OneOf(typeof(RefusalKinds))] string Kind, string WorkosUserId, string? Email, string? Name, string SeatType,
    int? Used, int? Limit, string EventId);

public static class RefusalsEndpoints
{
    public static IEndpointRouteBuilder MapRefusals(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/organizations/{orgId}/refusals", List)
            .RequireAuthorization()
            .RequireOrgAccess(OrgRequirement.OwnerOrAdmin)
            .WithTags("Organizations")
            .WithIntegerParameterDoc("limit", $"Rows per page (default {PageRequest.DefaultLimit}).", 1, PageRequest.MaxLimit)
            .WithParameterDoc("after", "The cursor of the next page, from the `Link: <…>; rel=\"next\"` header of the previous one.")
            .Answers(StatusCodes.Status403Forbidden, "the caller is a member but not an owner or admin", ErrorCodes.Forbidden)
            .Answers(StatusCodes.Status404NotFound, "no such organization, or the caller is not an active member of it", ErrorCodes.NotFound)
            .WithName("ListRefusals")
            .WithSummary("Refusals over the seat cap")
            .WithDescription("Owners and admins of the organization (and platform admins). WorkOS adds the webhook did not mirror " +
                             "(kind `webhook`) and sign-ins denied at the door (kind `sign_in`), newest first, paged: a `Link` header " +
                             "with rel=\"next\" carries the cursor of the next page while there is one.");
        return app;
    }

    /// <summary>Newest first; paged like every list (<see cref="PageRequest"/>: ?limit, ?after, Link rel="next") on (at, id).</summary>
    public static async Task<Results<PagedOk<RefusalView>, ProblemHttpResult>> List(
        string orgId, OrgAccess access, string? limit, string? after, RosterDb db, CancellationToken ct)
    {
        var (page, bad) = PageRequest.ByTimeAndId("refusals", limit, after);
        if (bad is not null) return bad;

        var organizationId = access.Organization.Id;

        var refusals = db.MembershipRefusals.AsNoTracking().Where(r => r.OrganizationId == organizationId);
        if (page!.HasAfter)
        {
            var (at, id) = (page.AfterTime(0), page.AfterId(1));
            refusals = refusals.Where(r => r.At < at || (r.At == at && r.Id < id));
        }
        // Ordered after the join, in the same statement, so the page keeps the order the cursor assumes on every provider.
        var rows = await (
                from r in refusals
                // The person's local user, for a refusal recorded before Roster knew their email or name.
                join u in db.Users.AsNoTracking().Where(u => u.DeletedAt == null) on r.WorkosUserId equals u.WorkosUserId into users
                from u in users.DefaultIfEmpty()
                orderby r.At descending, r.Id descending
                select new RefusalView(r.Id, r.At, r.Kind, r.WorkosUserId, r.Email ?? u.Email, r.Name ?? u.Name, r.SeatType,
                    r.Used, r.SeatLimit, r.EventId))
            .Take(page.Fetch).ToListAsync(ct);
        return page.Page(rows, x => PageRequest.Key(x.At, x.Id));
    }
}
