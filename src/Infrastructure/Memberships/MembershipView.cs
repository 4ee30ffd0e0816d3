using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;

namespace Roster.Infrastructure.Memberships;

/// <summary>The Membership representation of DESIGN.md section 5.</summary>
public sealed record MembershipView(
    Guid Id,
    Guid OrganizationId,
    Guid? UserId,
    string? Email,
    string? Name,
    string Role,
    string Status,
    string? Source,
    string SeatType,
    Guid? AddedBy,
    DateTime CreatedAt,
    DateTime UpdatedAt);

/// <summary>A pending owner_add as the invitee sees it.</summary>
public sealed record InvitationView(
    Guid Id,
    Guid OrganizationId,
    Guid? UserId,
    string? Email,
    string? Name,
    string Role,
    string Status,
    string? Source,
    string SeatType,
    Guid? AddedBy,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    string OrganizationName,
    string? AddedByName);

/// <summary>A membership and its user (null for a WorkOS member not yet known here), before projection.</summary>
public sealed class MembershipWithUser
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
        x.Membership.AddedBy, x.Membership.CreatedAt, x.Membership.UpdatedAt);

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

    /// <summary>What the members list shows: active members and the owner_add invitations still waiting (join requests are listed elsewhere).</summary>
    public static readonly Expression<Func<Membership, bool>> IsListed = m => m.DeletedAt == null
        && (m.Status == MembershipStatus.Active || (m.Status == MembershipStatus.Pending && m.Source == MembershipSource.OwnerAdd));

    private static readonly PerModelQuery<Func<RosterDb, Guid, IAsyncEnumerable<MembershipView>>> ListedMembers = new(() =>
        EF.CompileAsyncQuery((RosterDb db, Guid organizationId) =>
            (from m in db.Memberships.AsNoTracking().Where(IsListed)
             where m.OrganizationId == organizationId
             join o in db.Organizations on m.OrganizationId equals o.Id
             where o.DeletedAt == null
             join u in db.Users on m.UserId equals u.Id into users
             from u in users.DefaultIfEmpty()
             orderby m.CreatedAt, m.Id
             select new MembershipWithUser { Membership = m, User = u }).Select(ToView)));

    /// <summary>The members list of a live organization (empty for a deleted or unknown one).</summary>
    public static ValueTask<List<MembershipView>> ListedMembersAsync(this RosterDb db, Guid organizationId, CancellationToken ct) =>
        ListedMembers.For(db)(db, organizationId).ToListAsync(ct);

    private static readonly PerModelQuery<Func<RosterDb, Guid, IAsyncEnumerable<InvitationView>>> PendingInvitations =
        new(() => CompileInvitations(m => m.Source == MembershipSource.OwnerAdd));

    // A legacy row with no source is a join request (DESIGN.md's backfill rule).
    private static readonly PerModelQuery<Func<RosterDb, Guid, IAsyncEnumerable<InvitationView>>> PendingJoinRequests =
        new(() => CompileInvitations(m => m.Source == MembershipSource.JoinRequest || m.Source == null));

    /// <summary>The caller's pending owner_add invitations, with organization name and inviter.</summary>
    public static ValueTask<List<InvitationView>> PendingInvitationsAsync(this RosterDb db, Guid userId, CancellationToken ct) =>
        PendingInvitations.For(db)(db, userId).ToListAsync(ct);

    /// <summary>The caller's pending join requests, with organization name.</summary>
    public static ValueTask<List<InvitationView>> PendingJoinRequestsAsync(this RosterDb db, Guid userId, CancellationToken ct) =>
        PendingJoinRequests.For(db)(db, userId).ToListAsync(ct);

    private static Func<RosterDb, Guid, IAsyncEnumerable<InvitationView>> CompileInvitations(Expression<Func<Membership, bool>> kind) =>
        EF.CompileAsyncQuery((RosterDb db, Guid userId) =>
            from m in db.Memberships.AsNoTracking().Where(kind)
            where m.UserId == userId && m.Status == MembershipStatus.Pending && m.DeletedAt == null
            join o in db.Organizations on m.OrganizationId equals o.Id
            where o.DeletedAt == null // an invitation to a deleted organization is no longer waiting for anyone
            join u in db.Users on m.UserId equals u.Id into users
            from u in users.DefaultIfEmpty()
            join a in db.Users on m.AddedBy equals a.Id into adders
            from a in adders.DefaultIfEmpty()
            orderby m.CreatedAt, m.Id
            select new InvitationView(m.Id, m.OrganizationId, m.UserId, u == null ? null : u.Email, u == null ? null : u.Name,
                m.Role, m.Status, m.Source, m.SeatType, m.AddedBy, m.CreatedAt, m.UpdatedAt,
                o.Name, a == null ? null : (a.Name ?? a.Email)));
}
