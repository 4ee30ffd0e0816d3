using System.Linq.Expressions;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Http;
using Roster.Infrastructure.Http.OpenApi;

namespace Roster.Infrastructure.Memberships;

/// <summary>
/// The Membership representation of DESIGN.md section 5. Every field is always written (null included), so every one is
/// required in the OpenAPI document — also where <see cref="InvitationView"/> inherits it, which no constructor binds.
/// </summary>
public record MembershipView(
    [property: JsonRequired] Guid Id,
    [property: JsonRequired] Guid OrganizationId,
    [property: JsonRequired] Guid? UserId,
    [property: JsonRequired] string? Email,
    [property: JsonRequired] string? Name,
    [property: JsonRequired, RoleValue] string Role,
    [property: JsonRequired, OneOf(typeof(MembershipStatus))] string Status,
    [property: JsonRequired, OneOf(typeof(MembershipSource))] string? Source,
    [property: JsonRequired, SeatTypeValue] string SeatType,
    [property: JsonRequired] Guid? AddedBy,
    [property: JsonRequired] DateTime CreatedAt,
    [property: JsonRequired] DateTime UpdatedAt,
    // Last, also after what InvitationView adds (its fields are ordered 1).
    [property: JsonRequired, JsonPropertyOrder(2)] DateTime? ExpiresAt);

/// <summary>
/// A pending owner_add (or join request) as the invitee sees it: the membership, then the organization's name and the
/// inviter's, then <see cref="MembershipView.ExpiresAt"/> — the field order the API has always written.
/// </summary>
public sealed record InvitationView : MembershipView
{
    public InvitationView(MembershipView membership, string organizationName, string? addedByName) : base(membership)
    {
        OrganizationName = organizationName;
        AddedByName = addedByName;
    }

    // For reading one back from JSON (the console reads the API): every property is set from the body.
    [JsonConstructor]
    private InvitationView() : base(Unset) => OrganizationName = "";

    private static readonly MembershipView Unset = new(default, default, null, null, null, "", "", null, "", null, default, default, null);

    [JsonRequired, JsonPropertyOrder(1)]
    public string OrganizationName { get; init; }

    [JsonRequired, JsonPropertyOrder(1)]
    public string? AddedByName { get; init; }
}

/// <summary>A membership and its user (null for a WorkOS member not yet known here), before projection.</summary>
public class MembershipWithUser
{
    public required Membership Membership { get; init; }
    public User? User { get; init; }
}

/// <summary>
/// The Membership representations, read without tracking. The hot reads (the members list, the caller's pending
/// invitations and join requests) are compiled queries: they run on nearly every request, and building and hashing
/// their expression trees each time cost more of the service's CPU than the database round trip.
/// </summary>
public static class MembershipQueries
{
    private static readonly Expression<Func<MembershipWithUser, MembershipView>> ToView = x => new MembershipView(
        x.Membership.Id, x.Membership.OrganizationId, x.Membership.UserId, x.User == null ? null : x.User.Email,
        x.User == null ? null : x.User.Name, x.Membership.Role, x.Membership.Status, x.Membership.Source, x.Membership.SeatType,
        x.Membership.AddedBy, x.Membership.CreatedAt, x.Membership.UpdatedAt, x.Membership.ExpiresAt);

    /// <summary>Live (not tombstoned) memberships with their user's email and name.</summary>
    public static IQueryable<MembershipView> Views(this RosterDb db, IQueryable<Membership> memberships) =>
        WithUsers(db, memberships).Select(ToView);

    private static IQueryable<MembershipWithUser> WithUsers(RosterDb db, IQueryable<Membership> memberships) =>
        from m in memberships
        where m.DeletedAt == null
        join u in db.Users on m.UserId equals u.Id into users
        from u in users.DefaultIfEmpty()
        orderby m.CreatedAt, m.Id
        select new MembershipWithUser { Membership = m, User = u };

    public static Task<MembershipView> ViewAsync(this RosterDb db, Guid membershipId, CancellationToken ct) =>
        db.Views(db.Memberships.AsNoTracking().Where(m => m.Id == membershipId)).SingleAsync(ct);

    /// <summary>One page of the members list and its filters; the first page starts after (MinValue, Empty).</summary>
    public sealed record MembersPage(Guid OrganizationId, Guid CallerUserId, bool CallerIsPlatformAdmin, DateTime Now, DateTime AfterCreatedAt,
        Guid AfterId, string? Status, string? Role, string? SeatType, int Take);

    // What the members list shows: the memberships that hold a seat (active members and the owner_add invitations still
    // waiting; join requests are listed elsewhere). The caller's own active membership is checked in the same statement,
    // so the hottest read stays one round trip: a caller who may not see the list gets no rows.
    private static readonly PerModelQuery<Func<RosterDb, Guid, Guid, bool, DateTime, DateTime, Guid, string?, string?, string?, int, IAsyncEnumerable<MembershipView>>> ListedMembers = new(() =>
        EF.CompileAsyncQuery(SeatHolding.Inline<Func<RosterDb, Guid, Guid, bool, DateTime, DateTime, Guid, string?, string?, string?, int, IQueryable<MembershipView>>>(
            (db, organizationId, callerUserId, callerIsPlatformAdmin, now, afterCreatedAt, afterId, status, role, seatType, take) =>
            (from m in db.Memberships.AsNoTracking()
             where m.OrganizationId == organizationId && SeatHolding.Holds(m, now)
                   && (m.CreatedAt > afterCreatedAt || (m.CreatedAt == afterCreatedAt && m.Id > afterId))
                   && (status == null || m.Status == status)
                   && (role == null || m.Role == role)
                   && (seatType == null || m.SeatType == seatType)
             join o in db.Organizations on m.OrganizationId equals o.Id
             where o.DeletedAt == null
                   && (callerIsPlatformAdmin || db.Memberships.Any(c => c.OrganizationId == organizationId && c.UserId == callerUserId
                                                                        && c.Status == MembershipStatus.Active && c.DeletedAt == null))
             join u in db.Users on m.UserId equals u.Id into users
             from u in users.DefaultIfEmpty()
             orderby m.CreatedAt, m.Id
             select new MembershipWithUser { Membership = m, User = u }).Select(ToView).Take(take))));

    /// <summary>A page of the members list of a live organization; empty for a deleted or unknown one, or one the caller may not see.</summary>
    public static ValueTask<List<MembershipView>> ListedMembersAsync(this RosterDb db, MembersPage page, CancellationToken ct) =>
        ListedMembers.For(db)(db, page.OrganizationId, page.CallerUserId, page.CallerIsPlatformAdmin, page.Now, page.AfterCreatedAt, page.AfterId,
            page.Status, page.Role, page.SeatType, page.Take).ToListAsync(ct);

    /// <summary>A page of the caller's pending owner_add invitations or join requests; the first page starts after (MinValue, Empty).</summary>
    public sealed record MinePage(Guid UserId, DateTime Now, DateTime AfterCreatedAt, Guid AfterId, int Take)
    {
        public static MinePage For(Guid userId, DateTime now, PageRequest page) => page.HasAfter
            ? new(userId, now, page.AfterTime(0), page.AfterId(1), page.Fetch)
            : new(userId, now, PageRequest.Start, Guid.Empty, page.Fetch);
    }

    private static readonly PerModelQuery<Func<RosterDb, Guid, DateTime, DateTime, Guid, int, IAsyncEnumerable<InvitationView>>> PendingInvitations =
        new(() => CompileInvitations(SeatHolding.LiveInvitationRule));

    // A legacy row with no source is a join request (DESIGN.md's backfill rule).
    private static readonly PerModelQuery<Func<RosterDb, Guid, DateTime, DateTime, Guid, int, IAsyncEnumerable<InvitationView>>> PendingJoinRequests =
        new(() => CompileInvitations((m, now) => m.DeletedAt == null && m.Status == MembershipStatus.Pending
                                                 && (m.Source == MembershipSource.JoinRequest || m.Source == null)));

    /// <summary>The caller's pending owner_add invitations that have not expired, with organization name and inviter.</summary>
    public static ValueTask<List<InvitationView>> PendingInvitationsAsync(this RosterDb db, MinePage page, CancellationToken ct) =>
        PendingInvitations.For(db)(db, page.UserId, page.Now, page.AfterCreatedAt, page.AfterId, page.Take).ToListAsync(ct);

    /// <summary>The caller's pending join requests, with organization name.</summary>
    public static ValueTask<List<InvitationView>> PendingJoinRequestsAsync(this RosterDb db, MinePage page, CancellationToken ct) =>
        PendingJoinRequests.For(db)(db, page.UserId, page.Now, page.AfterCreatedAt, page.AfterId, page.Take).ToListAsync(ct);

    // "waiting" says which pending rows are still waiting: an owner_add past its expiry is not (SeatHolding's rule).
    private static Func<RosterDb, Guid, DateTime, DateTime, Guid, int, IAsyncEnumerable<InvitationView>> CompileInvitations(
        Expression<Func<Membership, DateTime, bool>> waiting) =>
        EF.CompileAsyncQuery(SeatHolding.Inline<Func<RosterDb, Guid, DateTime, DateTime, Guid, int, IQueryable<InvitationView>>>(
            (db, userId, now, afterCreatedAt, afterId, take) =>
            (from m in db.Memberships.AsNoTracking()
            where m.UserId == userId && SeatHolding.Is(waiting, m, now)
                  && (m.CreatedAt > afterCreatedAt || (m.CreatedAt == afterCreatedAt && m.Id > afterId))
            join o in db.Organizations on m.OrganizationId equals o.Id
            where o.DeletedAt == null // an invitation to a deleted organization is no longer waiting for anyone
            join u in db.Users on m.UserId equals u.Id into users
            from u in users.DefaultIfEmpty()
            join a in db.Users on m.AddedBy equals a.Id into adders
            from a in adders.DefaultIfEmpty()
            orderby m.CreatedAt, m.Id
            select new InvitationRow { Membership = m, User = u, OrganizationName = o.Name, AddedByName = a == null ? null : (a.Name ?? a.Email) })
            .Select(ToInvitationView).Take(take)));

    private sealed class InvitationRow : MembershipWithUser
    {
        public required string OrganizationName { get; init; }
        public string? AddedByName { get; init; }
    }

    /// <summary><see cref="ToView"/> itself (not a copy of its fields), with the organization's and inviter's names.</summary>
    private static readonly Expression<Func<InvitationRow, InvitationView>> ToInvitationView = ComposeInvitationView();

    private static Expression<Func<InvitationRow, InvitationView>> ComposeInvitationView()
    {
        var row = Expression.Parameter(typeof(InvitationRow), "x");
        var view = new ParameterSwap(ToView.Parameters[0], row).Visit(ToView.Body);
        var constructor = typeof(InvitationView).GetConstructor([typeof(MembershipView), typeof(string), typeof(string)])!;
        return Expression.Lambda<Func<InvitationRow, InvitationView>>(
            Expression.New(constructor, view,
                Expression.Property(row, nameof(InvitationRow.OrganizationName)),
                Expression.Property(row, nameof(InvitationRow.AddedByName))),
            row);
    }

    private sealed class ParameterSwap(ParameterExpression from, Expression to) : ExpressionVisitor
    {
        protected override Expression VisitParameter(ParameterExpression node) => node == from ? to : base.VisitParameter(node);
    }
}
