namespace Roster.Infrastructure.Changes;

/// <summary>A platform admin's subscription: where Roster sends which changes, signed with its secret.</summary>
public sealed class WebhookSubscription
{
    public Guid Id { get; set; }
    public required string Url { get; set; }

    /// <summary>JSON array of change types; empty means every type.</summary>
    public string Types { get; set; } = "[]";

    /// <summary>Only this organization's changes, when set.</summary>
    public Guid? OrganizationId { get; set; }

    public string? Description { get; set; }

    /// <summary>The signing secret (<c>whsec_</c> + base64 of 32 random bytes), shown once when made or rotated.</summary>
    public required string Secret { get; set; }

    /// <summary>The secret before the last rotation, which also signs until <see cref="PreviousSecretExpiresAt"/>.</summary>
    public string? PreviousSecret { get; set; }
    public DateTime? PreviousSecretExpiresAt { get; set; }

    public DateTime? DisabledAt { get; set; }
    public string? DisabledReason { get; set; }

    /// <summary>When deliveries started failing without a success since (null while they succeed).</summary>
    public DateTime? FailingSince { get; set; }

    public DateTime? DeletedAt { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

public static class DeliveryStatus
{
    public const string Pending = "pending";
    public const string Sent = "sent";
    public const string Failed = "failed";
}

/// <summary>
/// One change to send to one subscription, and the log of its attempts. Deliveries of one (subscription, organization)
/// form a line in <see cref="Ordinal"/> order: only the first pending one of a line is ever sent.
/// </summary>
public sealed class WebhookDelivery
{
    public Guid Id { get; set; }
    public Guid SubscriptionId { get; set; }
    public Guid ChangeId { get; set; }
    public Guid OrganizationId { get; set; }
    public long Position { get; set; }
    public long Ordinal { get; set; }

    /// <summary>Made by a replay (an operator's POST …/replay), not by the change's first fan-out.</summary>
    public bool Replay { get; set; }

    public string Status { get; set; } = DeliveryStatus.Pending;
    public int Attempts { get; set; }
    public DateTime NextAttemptAt { get; set; }
    public DateTime? LastAttemptAt { get; set; }
    public int? ResponseCode { get; set; }
    public int? LatencyMs { get; set; }
    public string? LastError { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? CompletedAt { get; set; }
}
