using Roster.Infrastructure.Changes;
using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Auth;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Http;
using Roster.Infrastructure.Http.OpenApi;
using Roster.Infrastructure.Memberships;

namespace Roster.Features.Changes;

/// <summary>Who may read every organization's changes: platform admins, and service credentials made for it.</summary>
public static class ChangesReaderPolicy
{
    public const string Name = "ChangesReader";

    /// <summary>The permission a service credential (a token of the identity provider without an email, e.g. a WorkOS M2M token) carries to read the feed.</summary>
    public const string Permission = "roster:changes:read";

    public static IServiceCollection AddChangesReaderPolicy(this IServiceCollection services) =>
        services.AddAuthorizationBuilder()
            .AddPolicy(Name, policy => policy.RequireAuthenticatedUser()
                .RequireClaim("permissions", AuthOptions.PlatformAdminPermission, Permission))
            .Services;
}

public static class ChangesEndpoints
{
    private const string AfterDoc = "Return changes after this one: the last {0} the consumer stored (0, or absent, for the start). " +
                                    "The `Link: <…>; rel=\"next\"` header carries the next page's address while more follow.";

    public static IEndpointRouteBuilder MapChanges(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/organizations/{orgId}/changes", ListOrganization)
            .RequireAuthorization()
            .RequireOrgAccess(OrgRequirement.OwnerOrAdmin)
            .WithTags("Changes")
            .WithParameterDoc("after", string.Format(CultureInfo.InvariantCulture, AfterDoc, "sequence"), example: "0")
            .WithIntegerParameterDoc("limit", $"Changes per page (default {PageRequest.DefaultLimit}).", 1, PageRequest.MaxLimit)
            .Answers(StatusCodes.Status403Forbidden, "the caller is a member but not an owner or admin", ErrorCodes.Forbidden)
            .Answers(StatusCodes.Status404NotFound, "no such organization, or the caller is not an active member of it", ErrorCodes.NotFound)
            .Answers(StatusCodes.Status410Gone, "`after` is older than the retention (Changes__RetentionDays); the problem's `oldestAvailableSequence` says where to resume", ErrorCodes.CursorExpired)
            .WithName("ListOrganizationChanges")
            .WithSummary("The organization's change feed")
            .WithDescription("Owners and admins of the organization (and platform admins). Every membership change Roster committed in " +
                             "this organization, in `sequence` order (per organization, gapless, never backwards): store the last " +
                             "`sequence` you processed and ask again with `?after=` it — you never miss a change and never see one twice. " +
                             "Kept for Changes__RetentionDays (default 90); an older `after` answers 410 `cursor_expired`.");

        app.MapGet("/api/admin/changes", ListAll)
            .RequireAuthorization(ChangesReaderPolicy.Name)
            .AllowServiceCredential()
            .WithTags("Changes")
            .WithParameterDoc("after", string.Format(CultureInfo.InvariantCulture, AfterDoc, "position"), example: "0")
            .WithIntegerParameterDoc("limit", $"Changes per page (default {PageRequest.DefaultLimit}).", 1, PageRequest.MaxLimit)
            .Answers(StatusCodes.Status403Forbidden, $"the caller is neither a platform admin (roster:admin) nor a service credential ({ChangesReaderPolicy.Permission})", ErrorCodes.Forbidden)
            .Answers(StatusCodes.Status410Gone, "`after` is older than the retention (Changes__RetentionDays); the problem's `oldestAvailablePosition` says where to resume", ErrorCodes.CursorExpired)
            .WithName("ListAllChanges")
            .WithSummary("Every organization's change feed")
            .WithDescription("Platform admins, or a service credential (a token whose `permissions` holds `roster:changes:read`). Every " +
                             "committed change of every organization in global `position` order: store the last `position` and ask again " +
                             "with `?after=` it — positions are handed out only to committed changes, in order, so nothing is missed or " +
                             "repeated. Kept for Changes__RetentionDays (default 90); an older `after` answers 410 `cursor_expired`.");
        return app;
    }

    private static (long After, int Limit, ProblemHttpResult? Problem) Parse(string? after, string? limit)
    {
        var errors = new Dictionary<string, string[]>();
        long from = 0;
        if (after is not null && (!long.TryParse(after, NumberStyles.None, CultureInfo.InvariantCulture, out from) || from < 0))
            errors["after"] = ["after is a whole number, 0 or more: the last sequence or position you stored."];
        var size = PageRequest.DefaultLimit;
        if (limit is not null
            && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size < 1 || size > PageRequest.MaxLimit))
            errors["limit"] = [$"limit is a whole number from 1 to {PageRequest.MaxLimit} (default {PageRequest.DefaultLimit})."];
        return (from, size, errors.Count > 0 ? Problems.Validation(errors) : null);
    }

    private static ProblemHttpResult Expired(string field, long oldest) =>
        TypedResults.Problem(statusCode: StatusCodes.Status410Gone, title: "Gone.",
            detail: $"Changes before {field} {oldest} are no longer kept; resume from there (after={oldest - 1}).",
            extensions: new Dictionary<string, object?> { ["code"] = ErrorCodes.CursorExpired, [field == "sequence" ? "oldestAvailableSequence" : "oldestAvailablePosition"] = oldest });

    public static async Task<Results<PagedOk<ChangeView>, ProblemHttpResult>> ListOrganization(
        string orgId, OrgAccess access, string? after, string? limit, RosterDb db, CancellationToken ct)
    {
        var (from, size, bad) = Parse(after, limit);
        if (bad is not null) return bad;
        var organization = access.Organization;

        var rows = await db.Changes.AsNoTracking().Where(c => c.OrganizationId == organization.Id && c.Sequence > from)
            .OrderBy(c => c.Sequence).Take(size + 1).ToListAsync(ct);
        // Sequences start at 1 with no gaps: a first row past after + 1 means the rows between were dropped by retention.
        var first = rows.Count > 0 ? rows[0].Sequence
            : organization.ChangeSequence > from ? organization.ChangeSequence + 1 : from + 1;
        if (first > from + 1) return Expired("sequence", first);
        return await PageAsync(db, rows, size, r => r.Sequence, ct);
    }

    public static async Task<Results<PagedOk<ChangeView>, ProblemHttpResult>> ListAll(
        string? after, string? limit, RosterDb db, CancellationToken ct)
    {
        var (from, size, bad) = Parse(after, limit);
        if (bad is not null) return bad;
        var pruned = await db.ChangeFeedCounters.AsNoTracking().Where(c => c.Name == FeedCounters.PrunedPosition).Select(c => c.Value).SingleAsync(ct);
        if (from < pruned) return Expired("position", pruned + 1);
        var rows = await db.Changes.AsNoTracking().Where(c => c.Position != null && c.Position > from)
            .OrderBy(c => c.Position).Take(size + 1).ToListAsync(ct);
        return await PageAsync(db, rows, size, r => r.Position!.Value, ct);
    }

    private static async Task<PagedOk<ChangeView>> PageAsync(RosterDb db, List<ChangeRow> rows, int size, Func<ChangeRow, long> key, CancellationToken ct)
    {
        string? next = null;
        if (rows.Count > size)
        {
            rows.RemoveRange(size, rows.Count - size);
            next = key(rows[^1]).ToString(CultureInfo.InvariantCulture);
        }
        return new PagedOk<ChangeView>(await ChangeViews.ViewAsync(db, rows, ct), next);
    }
}
