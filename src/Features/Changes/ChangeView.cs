using Roster.Infrastructure.Changes;
using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Http.OpenApi;
using Roster.Infrastructure.Memberships;

namespace Roster.Features.Changes;

/// <summary>
/// One change as the feed and outgoing webhooks publish it. <c>membership</c> is the Membership representation after the
/// change (null when the change ended it or there is none: organization changes, refusals); <c>previous</c> what it was
/// before (null when it was just made); <c>membershipId</c> and <c>userId</c> name the membership and person the change is
/// about even when it ended them; <c>position</c> is null for the moment between commit and the sequencer placing it.
/// </summary>
public sealed record ChangeView(
    Guid Id,
    Guid OrganizationId,
    long Sequence,
    long? Position,
    DateTime At,
    [property: OneOf(typeof(ChangeTypes))] string Type,
    Guid? MembershipId,
    Guid? UserId,
    MembershipView? Membership,
    PreviousView? Previous,
    ActorView Actor,
    [property: OneOf(typeof(AuditVia))] string Via);

/// <summary>Role, status and seat type before the change.</summary>
public sealed record PreviousView(string? Role, string? Status, string? SeatType);

/// <summary>Who made the change: a person (<c>user</c>, with their Roster user id), WorkOS (<c>workos</c>) or Roster's own background work (<c>roster</c>).</summary>
public sealed record ActorView([property: OneOf(typeof(ActorKinds))] string Kind, Guid? UserId);

public static class ActorKinds
{
    public const string User = "user";
    public const string WorkOs = "workos";
    public const string Roster = "roster";
}

public static class ChangeViews
{
    /// <summary>Projects rows, reading the people the memberships belong to (email, name) in one more query.</summary>
    public static async Task<List<ChangeView>> ViewAsync(RosterDb db, IReadOnlyList<ChangeRow> rows, CancellationToken ct)
    {
        var snapshots = rows.ToDictionary(r => r.Id, r => ChangeLog.Read<MembershipSnapshot>(r.Membership));
        // Changes keep their person as committed; only rows written before that was kept read the person now.
        var userIds = snapshots.Values.Where(s => s is { UserId: not null, Email: null }).Select(s => s!.UserId!.Value).Distinct().ToList();
        var users = userIds.Count == 0
            ? new Dictionary<Guid, (string Email, string? Name)>()
            : await db.Users.AsNoTracking().Where(u => userIds.Contains(u.Id))
                .Select(u => new { u.Id, u.Email, u.Name }).ToDictionaryAsync(u => u.Id, u => (u.Email, u.Name), ct);
        return rows.Select(r => View(r, snapshots[r.Id], users)).ToList();
    }

    public static ChangeView View(ChangeRow r, MembershipSnapshot? m, IReadOnlyDictionary<Guid, (string Email, string? Name)> users)
    {
        MembershipView? membership = null;
        if (m is not null)
        {
            var user = m.Email is not null ? (m.Email, m.Name) : m.UserId is { } id && users.TryGetValue(id, out var u) ? u : default;
            membership = new MembershipView(m.Id, m.OrganizationId, m.UserId, user.Email, user.Name, m.Role, m.Status, m.Source, m.SeatType,
                m.AddedBy, m.CreatedAt, m.UpdatedAt, m.ExpiresAt);
        }
        var previous = ChangeLog.Read<PreviousState>(r.Previous) is { } p ? new PreviousView(p.Role, p.Status, p.SeatType) : null;
        var actor = r.ActorUserId is { } actorId ? new ActorView(ActorKinds.User, actorId)
            : new ActorView(r.Via == AuditVia.Webhook ? ActorKinds.WorkOs : ActorKinds.Roster, null);
        return new ChangeView(r.Id, r.OrganizationId, r.Sequence, r.Position, r.At, r.Type, r.MembershipId, r.SubjectUserId, membership, previous, actor, r.Via);
    }
}
