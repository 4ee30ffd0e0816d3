namespace Roster.Infrastructure.Seats;

/// <summary>The outbox kinds the seat rules queue (delivered by the Slack sender, Features/Notifications).</summary>
public static class NotificationKinds
{
    public const string MembershipRefused = "membership_refused";
    public const string SeatWarning = "seat_warning";
}

/// <summary>
/// Someone WorkOS added to an organization whose seats of that type were all taken: refused when the webhook came
/// (<see cref="Via"/> null), or denied when they signed in (<see cref="Via"/> = "sign_in", Features/Actions).
/// </summary>
public sealed record MembershipRefusedNotification(
    Guid OrganizationId,
    string? WorkosOrganizationId,
    string OrganizationName,
    string WorkosUserId,
    string? Email,
    string? Name,
    string SeatType,
    int Limit,
    int Used,
    string EventId,
    string? Via = null);

/// <summary>An organization's use of a seat type rose past a threshold (80 or 100 percent).</summary>
public sealed record SeatWarningNotification(
    Guid OrganizationId,
    string? WorkosOrganizationId,
    string OrganizationName,
    string SeatType,
    int ThresholdPercent,
    int Limit,
    int Used);
