using Roster.Infrastructure.Configuration;

namespace Roster.Infrastructure.Outbox;

/// <summary>The outbox dispatcher (configuration section <c>Notifications</c>).</summary>
public sealed class NotificationOptions : IValidatedSettings
{
    /// <summary>Tries per notification, the first included; a row that still fails then is marked failed.</summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>How long the background loop sleeps when nothing was due.</summary>
    public double PollSeconds { get; set; } = 5;

    /// <summary>Run the background loop. It also needs <c>Slack:BotToken</c>; without one, rows stay pending.</summary>
    public bool DispatcherEnabled { get; set; } = true;

    /// <summary>Rows one dispatcher claims at a time.</summary>
    public int BatchSize { get; set; } = 20;

    /// <summary>
    /// How long a claim keeps other dispatchers off a row. It must outlast sending one batch; a dispatcher that
    /// has used half of it hands the rest of its batch back unsent.
    /// </summary>
    public double LeaseSeconds { get; set; } = 600;

    /// <summary>Wait after the first failed try; it doubles per try (with jitter) up to <see cref="BackoffMaxSeconds"/>.</summary>
    public double BackoffBaseSeconds { get; set; } = 60;

    public double BackoffMaxSeconds { get; set; } = 3600;

    public TimeSpan PollInterval => TimeSpan.FromSeconds(PollSeconds);
    public TimeSpan Lease => TimeSpan.FromSeconds(LeaseSeconds);

    public IEnumerable<string> Problems()
    {
        if (MaxAttempts < 1) yield return "Notifications:MaxAttempts must be at least 1.";
        if (!(PollSeconds > 0)) yield return "Notifications:PollSeconds must be greater than 0.";
        if (BatchSize is < 1 or > 500) yield return "Notifications:BatchSize must be between 1 and 500.";
        if (!(LeaseSeconds >= 10)) yield return "Notifications:LeaseSeconds must be at least 10.";
        if (!(BackoffBaseSeconds > 0) || !(BackoffMaxSeconds >= BackoffBaseSeconds))
            yield return "Notifications:BackoffBaseSeconds must be positive and not above Notifications:BackoffMaxSeconds.";
    }
}
