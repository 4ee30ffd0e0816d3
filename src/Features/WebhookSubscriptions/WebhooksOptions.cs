using Roster.Infrastructure.Changes;
using Roster.Infrastructure.Configuration;

namespace Roster.Features.WebhookSubscriptions;

/// <summary>Settings of outgoing webhooks (section <c>Webhooks</c>).</summary>
public sealed class WebhooksOptions : IValidatedSettings
{
    /// <summary>A subscription whose deliveries keep failing this long (no success in between) is disabled, and an operator told.</summary>
    public int DisableAfterHours { get; set; } = 72;

    /// <summary>Tries of one delivery before it is given up (recorded, counted by roster.webhooks.given_up) and its line moves on.</summary>
    public int MaxAttempts { get; set; } = 8;

    public int BackoffBaseSeconds { get; set; } = 5;
    public int BackoffMaxSeconds { get; set; } = 3600;

    /// <summary>Timeout of one delivery (connect, send and answer).</summary>
    public int TimeoutSeconds { get; set; } = 10;

    /// <summary>At most this much of a receiver's answer is read (kept for the delivery log).</summary>
    public int MaxResponseBytes { get; set; } = 4096;

    /// <summary>How long the old secret keeps signing after a rotation, unless the rotation says otherwise.</summary>
    public int SecretOverlapHours { get; set; } = 24;

    public bool DispatcherEnabled { get; set; } = true;
    public int PollMilliseconds { get; set; } = 1000;

    /// <summary>Delivery lines sent at once by one dispatcher.</summary>
    public int Concurrency { get; set; } = 8;

    public IEnumerable<string> Problems()
    {
        if (DisableAfterHours is < 1 or > 8760) yield return "Webhooks:DisableAfterHours must be a whole number of hours from 1 to 8760.";
        if (MaxAttempts is < 1 or > 100) yield return "Webhooks:MaxAttempts must be from 1 to 100.";
        if (BackoffBaseSeconds is < 0 or > 86400) yield return "Webhooks:BackoffBaseSeconds must be from 0 to 86400.";
        if (BackoffMaxSeconds < BackoffBaseSeconds || BackoffMaxSeconds > 604800) yield return "Webhooks:BackoffMaxSeconds must be at least BackoffBaseSeconds and at most 604800.";
        if (TimeoutSeconds is < 1 or > 300) yield return "Webhooks:TimeoutSeconds must be from 1 to 300.";
        if (MaxResponseBytes is < 0 or > 1_048_576) yield return "Webhooks:MaxResponseBytes must be from 0 to 1048576.";
        if (SecretOverlapHours is < 0 or > 720) yield return "Webhooks:SecretOverlapHours must be from 0 to 720.";
        if (PollMilliseconds is < 10 or > 600_000) yield return "Webhooks:PollMilliseconds must be from 10 to 600000.";
        if (Concurrency is < 1 or > 64) yield return "Webhooks:Concurrency must be from 1 to 64.";
    }
}
