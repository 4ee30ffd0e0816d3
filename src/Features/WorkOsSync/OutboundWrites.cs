using System.Net;
using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.WorkOs;
using Roster.Infrastructure.Outbox;

namespace Roster.Features.WorkOsSync;

public static class OutboundKinds
{
    public const string CreateMembership = "workos_create_membership";
    public const string DeleteMembership = "workos_delete_membership";
    public const string UpdateMembershipRole = "workos_update_membership_role";
}

public sealed record OutboundMembershipWrite(Guid MembershipId, string WorkosOrganizationId, string WorkosUserId);

/// <summary>
/// Changes made in Roster that WorkOS must hear about (a membership becoming active, removed, or changing role).
/// They travel through the outbox, committed with the local change, so a WorkOS outage delays them but loses none.
/// Without a WorkOS API key Roster runs standalone and nothing is queued.
/// </summary>
public static class OutboundWrites
{
    public static readonly TimeSpan EchoWindow = TimeSpan.FromDays(7);

    /// <summary>
    /// Queues the WorkOS membership for a membership that just became active, and leaves a marker reservation so the
    /// organization_membership.created webhook that echoes it is recognised (it holds no seat: the local row does).
    /// </summary>
    public static void MembershipActivated(RosterDb db, WorkOsOptions options, Organization organization, Membership membership, DateTime now)
    {
        if (Write(options, organization, membership) is not { } write) return;
        Outbox.Enqueue(db, OutboundKinds.CreateMembership, $"{OutboundKinds.CreateMembership}:{membership.Id}", write, now);
        db.SeatReservations.Add(new SeatReservation
        {
            Id = Guid.CreateVersion7(),
            OrganizationId = organization.Id,
            WorkosUserId = write.WorkosUserId,
            SeatType = membership.SeatType,
            Source = SeatReservationSources.Outbound,
            ExpiresAt = now.Add(EchoWindow),
            CreatedAt = now,
        });
    }

    public static void MembershipRemoved(RosterDb db, WorkOsOptions options, Organization organization, Membership membership, DateTime now)
    {
        if (membership.Status != MembershipStatus.Active || Write(options, organization, membership) is not { } write) return;
        Outbox.Enqueue(db, OutboundKinds.DeleteMembership, $"{OutboundKinds.DeleteMembership}:{membership.Id}", write, now);
    }

    public static void RoleChanged(RosterDb db, WorkOsOptions options, Organization organization, Membership membership, DateTime now)
    {
        if (membership.Status != MembershipStatus.Active || Write(options, organization, membership) is not { } write) return;
        Outbox.Enqueue(db, OutboundKinds.UpdateMembershipRole, $"{OutboundKinds.UpdateMembershipRole}:{membership.Id}:{Guid.CreateVersion7()}", write, now);
    }

    private static OutboundMembershipWrite? Write(WorkOsOptions options, Organization organization, Membership membership) =>
        options.IsApiConfigured && organization.WorkosOrganizationId is { } org && membership.WorkosUserId is { } user
            ? new OutboundMembershipWrite(membership.Id, org, user)
            : null;
}

/// <summary>
/// Carries the queued writes to WorkOS. Each reads the membership as it is now, so a write that waited (WorkOS down)
/// sends the current role, and one overtaken by later changes (removed before it was created) does nothing.
/// </summary>
public sealed class WorkOsOutboundSender(RosterDb db, WorkOsClient workos, WorkOsOptions options) : IOutboxSender
{
    public IReadOnlyCollection<string> Kinds { get; } = [OutboundKinds.CreateMembership, OutboundKinds.DeleteMembership, OutboundKinds.UpdateMembershipRole];

    public bool IsConfigured => options.IsApiConfigured;

    public string ConfiguredBy => "WorkOS:ApiKey";

    /// <summary>The Idempotency-Key of a create: one per outbox row, the same on every try of it.</summary>
    public static string IdempotencyKey(NotificationOutboxRow row) => $"roster-outbox-{row.Id:N}";

    public async Task<string> SendAsync(NotificationOutboxRow row, CancellationToken ct)
    {
        var write = Outbox.Read<OutboundMembershipWrite>(row);
        var membership = await db.Memberships.AsNoTracking().FirstOrDefaultAsync(m => m.Id == write.MembershipId, ct);
        try
        {
            return row.Kind switch
            {
                OutboundKinds.CreateMembership => await CreateAsync(row, write, membership, ct),
                OutboundKinds.DeleteMembership => await DeleteAsync(write, membership, ct),
                _ => await UpdateRoleAsync(write, membership, ct),
            };
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

    private async Task<string> CreateAsync(NotificationOutboxRow row, OutboundMembershipWrite write, Membership? membership, CancellationToken ct)
    {
        if (membership is not { DeletedAt: null, Status: MembershipStatus.Active }) return "nothing to create: the membership is no longer active";
        if (membership.WorkosMembershipId is not null) return $"already linked to {membership.WorkosMembershipId}";

        var slugs = await RoleSlugsAsync(membership, write, ct);
        string workosMembershipId;
        try
        {
            workosMembershipId = (await workos.CreateMembershipAsync(write.WorkosUserId, write.WorkosOrganizationId, slugs, IdempotencyKey(row), ct)).Id!;
        }
        catch (WorkOsApiException ex) when (IsRefusal(ex))
        {
            // WorkOS does not document how it answers a create for someone who already has a membership there (its SDK
            // lists 400, 404 and 422): whatever the refusal, an existing membership of any status is linked, not failed on.
            workosMembershipId = await FindInWorkOsAsync(write, ct)
                ?? throw (ex.Status == HttpStatusCode.Conflict
                    ? new OutboxSendException($"WorkOS says the membership exists but does not list it: {ex.Message}", isTransient: true, inner: ex)
                    : await ExplainRefusalAsync(ex, write, membership, slugs, ct));
        }
        // WorkOS may hand back a membership a removed (tombstoned) row of this person still names: the live row takes it over.
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.Memberships.Where(m => m.WorkosMembershipId == workosMembershipId && m.DeletedAt != null)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.WorkosMembershipId, (string?)null), ct);
        await db.Memberships.Where(m => m.Id == membership.Id && m.WorkosMembershipId == null)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.WorkosMembershipId, workosMembershipId), ct);
        await tx.CommitAsync(ct);
        return $"created WorkOS membership {workosMembershipId} with roles {string.Join(", ", slugs)}";
    }

    private async Task<string> DeleteAsync(OutboundMembershipWrite write, Membership? membership, CancellationToken ct)
    {
        // If the person is back (a newer live membership), the old removal must not take away the new one.
        var backAgain = await db.Memberships.AnyAsync(m => m.Id != write.MembershipId && m.DeletedAt == null && m.Status == MembershipStatus.Active
            && m.WorkosUserId == write.WorkosUserId
            && db.Organizations.Any(o => o.Id == m.OrganizationId && o.WorkosOrganizationId == write.WorkosOrganizationId), ct);
        if (backAgain) return "nothing to delete: the person has a newer membership";
        var workosMembershipId = membership?.WorkosMembershipId ?? await FindInWorkOsAsync(write, ct);
        if (workosMembershipId is null) return "nothing to delete: WorkOS has no such membership";
        return await workos.DeleteMembershipAsync(workosMembershipId, ct)
            ? $"deleted WorkOS membership {workosMembershipId}"
            : $"WorkOS membership {workosMembershipId} was already gone";
    }

    private async Task<string> UpdateRoleAsync(OutboundMembershipWrite write, Membership? membership, CancellationToken ct)
    {
        if (membership is not { DeletedAt: null, Status: MembershipStatus.Active }) return "nothing to update: the membership is no longer active";
        var workosMembershipId = membership.WorkosMembershipId ?? await FindInWorkOsAsync(write, ct)
            ?? throw new OutboxSendException("the WorkOS membership does not exist yet", isTransient: true);
        var slugs = await RoleSlugsAsync(membership, write, ct);
        try
        {
            await workos.UpdateMembershipRolesAsync(workosMembershipId, slugs, ct);
        }
        catch (WorkOsApiException ex) when (IsRefusal(ex) && ex.Status is not (HttpStatusCode.NotFound or HttpStatusCode.Conflict))
        {
            throw await ExplainRefusalAsync(ex, write, membership, slugs, ct);
        }
        return $"set roles {string.Join(", ", slugs)} on WorkOS membership {workosMembershipId}";
    }

    /// <summary>
    /// The roles WorkOS should hold for the member: Roster's role (through <see cref="WorkOsOptions.RoleSlugs"/>) in place of
    /// whichever owner/admin/member-family role they had, and every other role WorkOS gave them (mirrored from its
    /// membership events, e.g. <c>org-billing-admin</c>) kept, since a WorkOS role update replaces all roles.
    /// </summary>
    private async Task<IReadOnlyList<string>> RoleSlugsAsync(Membership membership, OutboundMembershipWrite write, CancellationToken ct)
    {
        var primary = options.RoleSlugFor(membership.Role);
        var rosterFamily = new[] { Roles.Owner, Roles.Admin, Roles.Member, membership.Role }
            .SelectMany(r => new[] { r, options.RoleSlugFor(r) }).ToHashSet(StringComparer.Ordinal);
        var urns = await db.RoleAssignments.AsNoTracking()
            .Where(a => a.OrganizationId == membership.OrganizationId && a.WorkosUserId == write.WorkosUserId && a.DeletedAt == null)
            .Select(a => a.RoleUrn).ToListAsync(ct);
        if (urns.Count == 0) return [primary];
        var globals = await db.GlobalRoles.AsNoTracking().Where(r => r.DeletedAt == null).Select(r => new { r.Id, r.WorkosSlug }).ToListAsync(ct);
        var own = await db.OrganizationRoles.AsNoTracking().Where(r => r.OrganizationId == membership.OrganizationId && r.DeletedAt == null)
            .Select(r => new { r.Id, r.WorkosSlug }).ToListAsync(ct);
        var slugByUrn = globals.Select(r => (Urn: RoleUrn.Global(r.Id), Slug: r.WorkosSlug))
            .Concat(own.Select(r => (Urn: RoleUrn.Organization(r.Id), Slug: r.WorkosSlug))).ToDictionary(r => r.Urn, r => r.Slug, StringComparer.Ordinal);
        var others = urns.Select(u => slugByUrn.GetValueOrDefault(u)).OfType<string>()
            .Where(s => !rosterFamily.Contains(s)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        return [primary, .. others];
    }

    /// <summary>A 4xx about the request itself (401/403 are configuration and 429 is transient: those are not).</summary>
    private static bool IsRefusal(WorkOsApiException ex) =>
        (int)ex.Status is >= 400 and < 500 && ex.Status is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.TooManyRequests);

    /// <summary>
    /// A refused write, named: when a role slug it sent is not a WorkOS role of the organization, the error says which and
    /// which setting maps it, and the row fails (it cannot succeed until someone changes the map or WorkOS's roles).
    /// </summary>
    private async Task<OutboxSendException> ExplainRefusalAsync(WorkOsApiException ex, OutboundMembershipWrite write, Membership membership,
        IReadOnlyList<string> slugs, CancellationToken ct)
    {
        IReadOnlySet<string>? known = null;
        try
        {
            known = await workos.ListOrganizationRoleSlugsAsync(write.WorkosOrganizationId, ct);
        }
        catch (Exception lookup) when (lookup is WorkOsApiException or HttpRequestException)
        {
            // The refusal itself is still reported below.
        }
        if (known is not null && slugs.Where(s => !known.Contains(s)).ToList() is { Count: > 0 } unknown)
        {
            var primary = options.RoleSlugFor(membership.Role);
            var hint = unknown.Contains(primary)
                ? $"Roster's role '{membership.Role}' is written as '{primary}'; set WorkOS__RoleSlugs__{membership.Role} to one of WorkOS's roles, or create that role in WorkOS"
                : "create the role in WorkOS again or remove it from the member there";
            return new OutboxSendException(
                $"unknown WorkOS role slug {string.Join(", ", unknown.Select(u => $"'{u}'"))} in {write.WorkosOrganizationId} " +
                $"(WorkOS has: {string.Join(", ", known.Order(StringComparer.Ordinal))}): {hint}. WorkOS answered {(int)ex.Status} {ex.Code}: {ex.Message}",
                isTransient: false, inner: ex);
        }
        return new OutboxSendException($"WorkOS {(int)ex.Status} {ex.Code}: {ex.Message}", isTransient: false, inner: ex);
    }

    /// <summary>The person's membership in the organization whatever its status (a removal must find an inactive or pending one too).</summary>
    private async Task<string?> FindInWorkOsAsync(OutboundMembershipWrite write, CancellationToken ct) =>
        (await workos.ListMembershipsAsync(write.WorkosOrganizationId, write.WorkosUserId, null, ct, WorkOsClient.AllMembershipStatuses)).Data.FirstOrDefault()?.Id;
}
