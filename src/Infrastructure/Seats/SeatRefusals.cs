using Roster.Infrastructure.Data;
using Roster.Infrastructure.Outbox;

namespace Roster.Infrastructure.Seats;

/// <summary>
/// Records that someone was kept out over the seat cap — a WorkOS add the webhook did not mirror, or a sign-in denied
/// at the door — and queues the admins' <c>membership_refused</c> notification, in the caller's transaction. Both
/// paths write the same row and the same notification, so the refusals list and Slack read them alike.
/// </summary>
public static class SeatRefusals
{
    public sealed record Refused(
        Organization Organization,
        string Kind,
        string WorkosUserId,
        string? WorkosMembershipId,
        string? Email,
        string? Name,
        SeatUsage Usage,
        string EventId);

    /// <param name="notify">False when the admins were told about this person and organization recently (sign-in denials are throttled).</param>
    public static MembershipRefusal Record(RosterDb db, Refused refused, DateTime now, bool notify = true)
    {
        var organization = refused.Organization;
        var row = new MembershipRefusal
        {
            Id = Guid.CreateVersion7(),
            OrganizationId = organization.Id,
            WorkosOrganizationId = organization.WorkosOrganizationId,
            WorkosUserId = refused.WorkosUserId,
            WorkosMembershipId = refused.WorkosMembershipId,
            SeatType = refused.Usage.SeatType,
            Reason = "seat_limit_reached",
            EventId = refused.EventId,
            At = now,
            Kind = refused.Kind,
            Email = refused.Email,
            Name = refused.Name,
            Used = refused.Usage.Used,
            SeatLimit = refused.Usage.Limit,
            Notified = notify,
        };
        db.MembershipRefusals.Add(row);
        Roster.Infrastructure.Changes.ChangeLog.Stage(db, organization.Id, Roster.Infrastructure.Changes.ChangeTypes.MembershipRefused, now, actor: null,
            refused.Kind == RefusalKinds.SignIn ? AuditVia.Api : AuditVia.Webhook);
        if (notify)
        {
            // Keyed by the event (or action) id: a refusal is told once however often its transaction is retried.
            Outbox.Outbox.Enqueue(db, NotificationKinds.MembershipRefused, $"{NotificationKinds.MembershipRefused}:{refused.EventId}",
                new MembershipRefusedNotification(organization.Id, organization.WorkosOrganizationId, organization.Name, refused.WorkosUserId,
                    refused.Email, refused.Name, refused.Usage.SeatType, refused.Usage.Limit, refused.Usage.Used, refused.EventId,
                    refused.Kind == RefusalKinds.SignIn ? RefusalKinds.SignIn : null),
                now);
        }
        return row;
    }
}
