using System.Net;
using Microsoft.EntityFrameworkCore;
using Roster.Features.Notifications;
using Roster.Features.WebhookIngest;
using Roster.Infrastructure.Data;

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

    public async Task<string> SendAsync(NotificationOutboxRow row, CancellationToken ct)
    {
        var write = Outbox.Read<OutboundMembershipWrite>(row);
        var membership = await db.Memberships.AsNoTracking().FirstOrDefaultAsync(m => m.Id == write.MembershipId, ct);
        try
        {
            return row.Kind switch
            {
                OutboundKinds.CreateMembership => await CreateAsync(write, membership, ct),
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

    private async Task<string> CreateAsync(OutboundMembershipWrite write, Membership? membership, CancellationToken ct)
    {
        if (membership is not { DeletedAt: null, Status: MembershipStatus.Active }) return "nothing to create: the membership is no longer active";
        if (membership.WorkosMembershipId is not null) return $"already linked to {membership.WorkosMembershipId}";

        string workosMembershipId;
        try
        {
            workosMembershipId = (await workos.CreateMembershipAsync(write.WorkosUserId, write.WorkosOrganizationId, membership.Role, ct)).Id!;
        }
        catch (WorkOsApiException ex) when (ex.Status == HttpStatusCode.Conflict)
        {
            // WorkOS already has it (an earlier try got through before an error): link the existing one.
            workosMembershipId = await FindInWorkOsAsync(write, ct)
                ?? throw new OutboxSendException($"WorkOS says the membership exists but does not list it: {ex.Message}", isTransient: true, inner: ex);
        }
        // WorkOS may hand back a membership a removed (tombstoned) row of this person still names: the live row takes it over.
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.Memberships.Where(m => m.WorkosMembershipId == workosMembershipId && m.DeletedAt != null)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.WorkosMembershipId, (string?)null), ct);
        await db.Memberships.Where(m => m.Id == membership.Id && m.WorkosMembershipId == null)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.WorkosMembershipId, workosMembershipId), ct);
        await tx.CommitAsync(ct);
        return $"created WorkOS membership {workosMembershipId}";
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
        await workos.UpdateMembershipRoleAsync(workosMembershipId, membership.Role, ct);
        return $"set role {membership.Role} on WorkOS membership {workosMembershipId}";
    }

    private async Task<string?> FindInWorkOsAsync(OutboundMembershipWrite write, CancellationToken ct) =>
        (await workos.ListMembershipsAsync(write.WorkosOrganizationId, write.WorkosUserId, null, ct)).Data.FirstOrDefault()?.Id;
}
