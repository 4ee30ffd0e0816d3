namespace Roster.Tests.Notifications;

/// <summary>
/// A clock the test moves by hand. Only "now" is fake: timers and timestamps (elapsed-time measurements, delays)
/// stay real, so awaiting a delay still works.
/// </summary>
public sealed class AdjustableClock : TimeProvider
{
    private long _utcTicks = DateTimeOffset.UtcNow.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _utcTicks), TimeSpan.Zero);

    public DateTime UtcNow => GetUtcNow().UtcDateTime;

    public void Advance(TimeSpan by)
    {
        if (by < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(by), "Time only moves forward.");
        Interlocked.Add(ref _utcTicks, by.Ticks);
    }
}
