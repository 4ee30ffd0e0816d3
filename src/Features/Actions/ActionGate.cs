using Microsoft.EntityFrameworkCore;
using Roster.Features.WebhookIngest;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Seats;
using Roster.Infrastructure.WorkOs;

namespace Roster.Features.Actions;

/// <summary>A verdict, the message a denied person sees, and why (for the log and the metric).</summary>
public sealed record ActionDecision(string Verdict, string? Message, string Reason)
{
    public static ActionDecision Allow(string reason) => new(Verdicts.Allow, null, reason);
    public static ActionDecision Deny(string message, string reason) => new(Verdicts.Deny, message, reason);
}

/// <summary>
/// The seat cap at the door. A sign-in into an organization goes through the same seat gate as the webhook that would
/// mirror its membership (<see cref="MembershipEvents.TakeSeatAsync"/>, under the organization's seat lock), so the
/// person either holds a seat when they arrive or does not arrive (locked through <see cref="SeatGate"/>). One short transaction; nothing outside the database.
/// </summary>
public sealed class ActionGate(RosterDb db, WebhookContext ctx, SeatGate seatGate, SeatOptions seats, TimeProvider clock,
    ILogger<ActionGate> logger)
{
    /// <summary>Tries of one sign-in whose transaction lost a race to create the same placeholder organization.</summary>
    private const int MaxAttempts = 3;

    public Task<ActionDecision> DecideAsync(ActionContext context, CancellationToken ct) => context switch
    {
        AuthenticationContext auth => SignInAsync(auth, ct),
        RegistrationContext registration => RegistrationAsync(registration, ct),
        _ => throw new ArgumentOutOfRangeException(nameof(context)),
    };

    private async Task<ActionDecision> SignInAsync(AuthenticationContext context, CancellationToken ct)
    {
        if (context.OrganizationId is null) return ActionDecision.Allow("no_organization");
        // WorkOS itself keeps an inactive member out, and a pending one is an invitation whose seat is staged (or checked)
        // through invitation and membership events: only an active membership is one that needs a seat now.
        if (context.Membership is { Status: { } status } && status != MembershipStatus.Active)
            return ActionDecision.Allow($"membership_{status}");

        // Concurrent first sign-ins into an organization Roster had not seen race to create its placeholder: the loser tries again.
        return await db.RetryWhileLosingCreateRaceAsync(MaxAttempts, async () =>
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var decision = await SignInOnceAsync(context, ct);
            await tx.CommitAsync(ct);
            return decision;
        });
    }

    private async Task<ActionDecision> SignInOnceAsync(AuthenticationContext context, CancellationToken ct)
    {
        var now = ctx.Now;
        var data = context.Membership ?? new WorkOsMembership(null, context.User.Id, context.OrganizationId, context.OrganizationName,
            MembershipStatus.Active, null, null, null, null);
        // The organization as the webhook would find or make it, so the membership event that follows lands on the same row.
        var organization = await ctx.EnsureOrganizationAsync(context.OrganizationId!, context.OrganizationName, ct);
        if (organization.DeletedAt is not null) return ActionDecision.Allow("organization_deleted");
        // The lock reads the plan with it, so a plan change committed meanwhile is the limit this sign-in is held to.
        await seatGate.LockAsync(organization, ct);
        // The person's lock, in the order the membership webhook takes them: their user.created (which links their
        // memberships) cannot commit between our read of the user and the row we mirror for them.
        await db.LockAsync(MirrorLocks.User, context.User.Id, ct);

        var user = await ctx.LiveUserAsync(context.User.Id, ct);
        var row = await MembershipEvents.FindAsync(db, organization.Id, data, user, ct);
        if (row is { DeletedAt: not null })
            return ActionDecision.Deny(
                $"Your membership in {organization.Name} was removed. Ask an admin of {organization.Name} to add you again.", "membership_removed");
        if (row is { Status: MembershipStatus.Active }) return ActionDecision.Allow("member");
        // They must be able to reach the consent page; only they can accept it (DESIGN §1), so it stays pending.
        if (row is { Status: MembershipStatus.Pending, Source: MembershipSource.OwnerAdd }) return ActionDecision.Allow("pending_owner_add");

        if (row is null)
        {
            // A live row of the person under another WorkOS membership: one that holds a seat is theirs already.
            if (await HoldsSeatAsync(organization.Id, user?.Id, context.User.Id, ct)) return ActionDecision.Allow("member");
            if (data.Id is not null && await MembershipEvents.SupersededAsync(ctx, organization.Id, data, user, EventTime(data), ct) is not null)
                return ActionDecision.Allow("newer_membership_seen");
        }

        // Refused by the webhook, never seen, inactive, or a join request overtaken: the seat is taken now, or not at all.
        var email = user?.Email ?? (context.User.Email is { } e ? User.NormalizeEmail(e) : null);
        var taken = await MembershipEvents.TakeSeatAsync(ctx, data, organization, user, row, email, EventTime(data), null, ct);
        if (taken.Refused is not { } usage)
        {
            logger.LogInformation("Sign-in {ActionId}: took a {SeatType} seat in organization {OrganizationId} for WorkOS user {WorkosUserId}",
                context.Id, taken.Row!.SeatType, organization.Id, context.User.Id);
            return ActionDecision.Allow(taken.Staged ? "seat_staged" : "seat_taken");
        }

        var window = TimeSpan.FromMinutes(Math.Max(0, seats.DenialNotifyMinutes));
        var since = now - window;
        var notifiedRecently = await db.MembershipRefusals.AnyAsync(r => r.OrganizationId == organization.Id && r.WorkosUserId == context.User.Id
            && r.Kind == RefusalKinds.SignIn && r.Notified && r.At > since, ct);
        SeatRefusals.Record(db, new SeatRefusals.Refused(organization, RefusalKinds.SignIn, context.User.Id, data.Id, email,
            user?.Name ?? context.User.Name, usage, context.Id), now, notify: !notifiedRecently);
        await db.SaveChangesAsync(ct);
        logger.LogWarning(
            "Denied sign-in {ActionId} of WorkOS user {WorkosUserId} to organization {OrganizationId} ({WorkosOrganizationId}): " +
            "{SeatType} seats full ({Used}/{Limit}); admins notified: {Notified}",
            context.Id, context.User.Id, organization.Id, organization.WorkosOrganizationId, usage.SeatType, usage.Used, usage.Limit, !notifiedRecently);
        return ActionDecision.Deny(NoSeatMessage(organization.Name, "sign in to"), "seat_limit_reached");
    }

    private async Task<ActionDecision> RegistrationAsync(RegistrationContext context, CancellationToken ct)
    {
        if (context.InvitationOrganizationId is null) return ActionDecision.Allow("no_invitation");
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var organization = await db.Organizations.AsNoTracking()
            .FirstOrDefaultAsync(o => o.WorkosOrganizationId == context.InvitationOrganizationId && o.DeletedAt == null, ct);
        if (organization is null) return ActionDecision.Allow("organization_unknown");

        // The seat staged when the invitation was made (invitation.created) is this person's: no second check.
        var now = ctx.Now;
        var emails = new[] { context.Email, context.InvitationEmail }.OfType<string>().Select(User.NormalizeEmail).Distinct().ToArray();
        var staged = await db.SeatReservations.AnyAsync(r => r.OrganizationId == organization.Id && r.ExpiresAt > now
            && r.Source != SeatReservationSources.Outbound
            && ((context.InvitationId != null && r.WorkosInvitationId == context.InvitationId) || (r.Email != null && emails.Contains(r.Email))), ct);
        if (staged) return ActionDecision.Allow("seat_staged");

        // The membership this invitation leads to would take a webhook seat; without a free one it would be refused.
        var seat = await seatGate.CheckAsync(organization, seats.WebhookSeatType, ct);
        await tx.CommitAsync(ct);
        if (seat.Granted) return ActionDecision.Allow("seat_free");
        var usage = seat.Usage;
        logger.LogWarning(
            "Denied registration {ActionId} through invitation {InvitationId} to organization {OrganizationId}: {SeatType} seats full ({Used}/{Limit})",
            context.Id, context.InvitationId, organization.Id, usage.SeatType, usage.Used, usage.Limit);
        return ActionDecision.Deny(NoSeatMessage(organization.Name, "join"), "seat_limit_reached");
    }

    /// <summary>What a person kept out sees on the WorkOS page: which organization, and what has to happen.</summary>
    public static string NoSeatMessage(string organizationName, string verb) =>
        $"{organizationName} has no free seats, so you cannot {verb} it right now. An admin of {organizationName} must free a seat or buy more seats; then try again.";

    private DateTime EventTime(WorkOsMembership data) => (data.UpdatedAt ?? clock.GetUtcNow().UtcDateTime).ToUniversalTime();

    private Task<bool> HoldsSeatAsync(Guid organizationId, Guid? userId, string workosUserId, CancellationToken ct) =>
        db.Memberships.AnyAsync(m => m.OrganizationId == organizationId && m.DeletedAt == null
            && ((userId != null && m.UserId == userId) || m.WorkosUserId == workosUserId)
            && (m.Status == MembershipStatus.Active || (m.Status == MembershipStatus.Pending && m.Source == MembershipSource.OwnerAdd)), ct);
}
