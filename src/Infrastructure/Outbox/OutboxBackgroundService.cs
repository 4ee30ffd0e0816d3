namespace Roster.Infrastructure.Outbox;

/// <summary>Runs the dispatcher in a loop: straight on while batches come back full, else a nap of PollSeconds.</summary>
public sealed class OutboxBackgroundService(
    OutboxDispatcher dispatcher,
    NotificationOptions options,
    TimeProvider clock,
    ILogger<OutboxBackgroundService> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        log.LogInformation("Notification dispatcher started (poll every {PollSeconds} s, up to {MaxAttempts} attempts)",
            options.PollSeconds, options.MaxAttempts);
        while (!stoppingToken.IsCancellationRequested)
        {
            var claimed = 0;
            try
            {
                claimed = await dispatcher.DispatchDueAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // Typically the database being away; the rows wait in the outbox.
                log.LogWarning(ex, "Notification dispatch failed; trying again in {PollSeconds} s", options.PollSeconds);
            }

            if (claimed >= options.BatchSize) continue;
            try
            {
                await Task.Delay(options.PollInterval, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }
}

/// <summary>Says once, at start, why notifications are not being sent.</summary>
internal sealed class NotificationsDisabledNotice(ILogger<NotificationsDisabledNotice> log, string reason) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        log.LogInformation("Notification dispatcher not running: {Reason}. Notifications stay pending in the outbox.", reason);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
