using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;
using Roster.Infrastructure.Auth;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Http;
using Roster.Infrastructure.Memberships;

namespace Roster.Features.Refusals;

/// <summary>
/// One refusal over the seat cap: a WorkOS add the webhook did not mirror (<c>kind</c> <c>webhook</c>), or a sign-in
/// denied at the door (<c>kind</c> <c>sign_in</c>, whose <c>eventId</c> is the WorkOS action's id). <c>used</c>/<c>limit</c>
/// are the seats of <c>seatType</c> at that moment (null on refusals recorded before they were kept).
/// </summary>
public sealed record RefusalView(Guid Id, DateTime At, string Kind, string WorkosUserId, string? Email, string? Name, string SeatType,
    int? Used, int? Limit, string EventId);

public static class RefusalsEndpoints
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 500;

    public static IEndpointRouteBuilder MapRefusals(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/organizations/{orgId}/refusals", List)
            .RequireAuthorization()
            .WithTags("Organizations")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("ListRefusals");
        return app;
    }

    /// <summary>Newest first, paged by <c>?limit=</c> and <c>?after=</c> (the opaque cursor of the next page's Link header).</summary>
    public static async Task<Results<Ok<List<RefusalView>>, ProblemHttpResult>> List(
        string orgId, string? limit, string? after, HttpContext http, Caller caller, RosterDb db, CancellationToken ct)
    {
        var pageSize = DefaultLimit;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > MaxLimit))
            return Problems.Validation("limit", $"'limit' must be a whole number from 1 to {MaxLimit}.");
        Cursor? cursor = null;
        if (after is not null && (cursor = Cursor.Parse(after)) is null)
            return Problems.Validation("after", "'after' must be a cursor from a Link header of this list.");

        var (access, problem) = await OrgAccess.CheckAsync(db, orgId, caller, OrgRequirement.OwnerOrAdmin, ct);
        if (problem is not null) return problem;
        var organizationId = access!.Organization.Id;

        var refusals = db.MembershipRefusals.AsNoTracking().Where(r => r.OrganizationId == organizationId);
        if (cursor is { } c) refusals = refusals.Where(r => r.At < c.At || (r.At == c.At && r.Id.CompareTo(c.Id) < 0));
        var rows = await (
                from r in refusals.OrderByDescending(r => r.At).ThenByDescending(r => r.Id).Take(pageSize + 1)
                // The person's local user, for a refusal recorded before Roster knew their email or name.
                join u in db.Users.AsNoTracking().Where(u => u.DeletedAt == null) on r.WorkosUserId equals u.WorkosUserId into users
                from u in users.DefaultIfEmpty()
                select new { r, Email = r.Email ?? u.Email, Name = r.Name ?? u.Name })
            .ToListAsync(ct);
        // The join does not keep the order on every provider; the page is put back in order here.
        rows = rows.OrderByDescending(x => x.r.At).ThenByDescending(x => x.r.Id, GuidOrder.Instance).ToList();

        if (rows.Count > pageSize)
        {
            rows.RemoveAt(rows.Count - 1);
            var last = rows[^1].r;
            var next = $"{http.Request.PathBase}{http.Request.Path}?limit={pageSize}&after={new Cursor(last.At, last.Id)}";
            http.Response.Headers.Append("Link", $"<{next}>; rel=\"next\"");
        }
        return TypedResults.Ok(rows.Select(x => new RefusalView(x.r.Id, x.r.At, x.r.Kind, x.r.WorkosUserId, x.Email, x.Name, x.r.SeatType,
            x.r.Used, x.r.SeatLimit, x.r.EventId)).ToList());
    }

    /// <summary>The position after the last row of a page: its time and id, opaque to clients.</summary>
    private sealed record Cursor(DateTime At, Guid Id)
    {
        public override string ToString() =>
            Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes($"{At.Ticks.ToString(CultureInfo.InvariantCulture)}:{Id:N}"));

        public static Cursor? Parse(string text)
        {
            if (text.Length is 0 or > 200) return null;
            try
            {
                var parts = Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(text)).Split(':');
                if (parts.Length != 2 || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
                    || ticks > DateTime.MaxValue.Ticks || !Guid.TryParseExact(parts[1], "N", out var id)) return null;
                return new Cursor(new DateTime(ticks, DateTimeKind.Utc), id);
            }
            catch (FormatException)
            {
                return null;
            }
        }
    }

    /// <summary>Guid order as the database sorts the column (its text on SQLite, its bytes in order on PostgreSQL).</summary>
    private sealed class GuidOrder : IComparer<Guid>
    {
        public static readonly GuidOrder Instance = new();
        public int Compare(Guid x, Guid y) => string.CompareOrdinal(x.ToString(), y.ToString());
    }
}
