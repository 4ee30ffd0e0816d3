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

public static class MembershipQueries
{
    /// <summary>Live (not tombstoned) memberships with their user's email and name.</summary>
    public static IQueryable<MembershipView> Views(this RosterDb db, IQueryable<Membership> memberships) =>
        from m in memberships
        where m.DeletedAt == null
        join u in db.Users on m.UserId equals u.Id into users
        from u in users.DefaultIfEmpty()
        orderby m.CreatedAt, m.Id
        select new MembershipView(m.Id, m.OrganizationId, m.UserId, u == null ? null : u.Email, u == null ? null : u.Name,
            m.Role, m.Status, m.Source, m.SeatType, m.AddedBy, m.CreatedAt, m.UpdatedAt);

    public static Task<MembershipView> ViewAsync(this RosterDb db, Guid membershipId, CancellationToken ct) =>
        db.Views(db.Memberships.AsNoTracking().Where(m => m.Id == membershipId)).SingleAsync(ct);

    public static IQueryable<InvitationView> InvitationViews(this RosterDb db, IQueryable<Membership> memberships) =>
        from m in memberships
        where m.DeletedAt == null
        join o in db.Organizations on m.OrganizationId equals o.Id
        join u in db.Users on m.UserId equals u.Id into users
        from u in users.DefaultIfEmpty()
        join a in db.Users on m.AddedBy equals a.Id into adders
        from a in adders.DefaultIfEmpty()
        orderby m.CreatedAt, m.Id
        select new InvitationView(m.Id, m.OrganizationId, m.UserId, u == null ? null : u.Email, u == null ? null : u.Name,
            m.Role, m.Status, m.Source, m.SeatType, m.AddedBy, m.CreatedAt, m.UpdatedAt,
            o.Name, a == null ? null : (a.Name ?? a.Email));
}
