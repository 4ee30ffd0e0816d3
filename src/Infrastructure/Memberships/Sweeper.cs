using Roster.Infrastructure.Data;
using Roster.Infrastructure.Http;

namespace Roster.Infrastructure.Memberships;

/// <summary>
/// The background sweep, every <c>Invitations__SweepIntervalSeconds</c> (default 60): ends (tombstones and audits)
/// invitations past their expiry, and deletes idempotency keys past their 24 hours. Seat counts never wait for it
/// (an expired invitation holds nothing from the instant it expires); it makes the history and the tables say so.
/// Several instances may sweep at once: each row is ended by one conditional update, so it is audited once.
/// </summary>
public sealed class Sweeper(IServiceScopeFactory scopes, InvitationOptions options, TimeProvider clock, ILogger<Sweeper> log) : BackgroundService
{
    public sealed record Swept(int Invitations, int IdempotencyKeys);

    /// <summary>One sweep, now.</summary>
    public async Task<Swept> SweepOnceAsync(CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<RosterDb>();
        var invitations = 0;
        for (var round = 0; round < 50; round++)
        {
            var now = clock.GetUtcNow().UtcDateTime;
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var ended = await InvitationExpiry.EndExpiredAsync(db, now, AuditVia.Sync, ct: ct);
            await tx.CommitAsync(ct);
            invitations += ended;
            if (ended < InvitationExpiry.BatchSize) break;
        }
        var keys = await IdempotencyFilter.SweepAsync(db, clock.GetUtcNow().UtcDateTime, ct);
        if (invitations + keys > 0) log.LogInformation("Swept {Invitations} expired invitations and {Keys} expired idempotency keys", invitations, keys);
        return new Swept(invitations, keys);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(Math.Max(1, options.SweepIntervalSeconds));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SweepOnceAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // Typically the database being away; the next round catches up.
                log.LogWarning(ex, "The sweep failed; trying again in {Interval}", interval);
            }
            try
            {
                await Task.Delay(interval, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }
}
