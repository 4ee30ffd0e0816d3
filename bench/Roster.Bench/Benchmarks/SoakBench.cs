using System.Diagnostics;
using Roster.Bench.Infrastructure;

namespace Roster.Bench.Benchmarks;

public sealed record RssSample(double Seconds, long RssBytes, long Completed);

public sealed record SoakResult(string Provider, int Concurrency, double Minutes, string Mix, LoadResult Load, IReadOnlyList<RssSample> Samples, long StartRss)
{
    /// <summary>Mean RSS over the samples taken during minute <paramref name="minute"/> (1-based) of the soak.</summary>
    public double MinuteMean(int minute) =>
        Samples.Where(s => s.Seconds >= (minute - 1) * 60 && s.Seconds < minute * 60).Select(s => (double)s.RssBytes).DefaultIfEmpty(double.NaN).Average();

    public int LastMinute => Math.Max(1, (int)Math.Ceiling(Minutes - 1e-9));
    public double Growth => MinuteMean(LastMinute) / MinuteMean(1) - 1;
}

/// <summary>
/// Benchmark 4: a soak of mixed traffic against one service process, sampling its RSS (VmRSS of /proc/&lt;pid&gt;/status)
/// every 2 s. Mix per request: 40% webhook membership.created (new user, applied), 30% members list, 30% pending
/// invitations. Reads go to organizations 0–499 and webhooks to 500–999, so the lists read stay the same size and
/// the traffic is steady rather than growing. The soak measures the steady state: the service is warmed until its JIT
/// settles, then for a minute at the soak's own concurrency (quick: 10 s) so the connection, prepared-statement, DbContext
/// and thread pools have grown to what that concurrency needs before minute 1 is sampled.
/// </summary>
public static class SoakBench
{
    public static async Task<SoakResult> RunAsync(BenchOptions o, BenchSecrets secrets, string provider, Action<string> log)
    {
        var concurrency = o.SoakConcurrency;
        var db = await SeededDatabase.CreateAsync(o, secrets, provider, "bench_soak", 1_000);
        await using var app = await RosterProcess.StartAsync(o, secrets, db.Storage, $"soak-{provider}");
        using var client = Http.Client(app.BaseAddress, concurrency);
        var callers = new SeededCallers(db.Shape, secrets, 400, seed: 4, firstOrg: 0, orgCount: 500);
        await callers.VerifyAsync(client);
        var tag = Guid.NewGuid().ToString("N")[..8];
        long counter = 0, completed = 0;
        Operation mixed = async (_, ct) =>
        {
            var pick = Random.Shared.Next(100);
            bool ok;
            if (pick < 40)
            {
                var n = Interlocked.Increment(ref counter);
                var org = SeedShape.WorkosOrganizationId(500 + Random.Shared.Next(500));
                ok = await Webhooks.DeliverAsync(client, secrets.WebhookSecret,
                    Webhooks.MembershipCreated(Webhooks.NextEventId(), $"om_soak_{tag}_{n}", $"user_soak_{tag}_{n}", org, "Org", DateTime.UtcNow), "applied", ct);
            }
            else
            {
                var c = pick < 70 ? callers.AnyMember() : callers.AnyInvitee();
                ok = await Http.GetOkAsync(client, c.Path, c.Token, ct);
            }
            Interlocked.Increment(ref completed);
            return ok;
        };

        await LoadDriver.WarmServiceAsync(concurrency, TimeSpan.FromSeconds(o.Quick ? 3 : 8), o.MaxWarmup / 2, mixed, app.Pid);
        await LoadDriver.WarmAsync(concurrency, TimeSpan.FromSeconds(o.Quick ? 10 : 60), mixed);
        var startRss = app.RssBytes();
        log($"soak/{provider}: {o.SoakMinutes} min of mixed traffic, {concurrency} connections; RSS after warm-up {startRss / 1048576.0:0} MB");
        var samples = new List<RssSample>();
        var duration = TimeSpan.FromMinutes(o.SoakMinutes);
        using var stop = new CancellationTokenSource();
        completed = 0;
        var clock = Stopwatch.StartNew();
        var sampler = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(2));
            try
            {
                do
                {
                    samples.Add(new RssSample(clock.Elapsed.TotalSeconds, app.RssBytes(), Interlocked.Read(ref completed)));
                    if (samples.Count % 30 == 0)
                        log($"soak/{provider}: {clock.Elapsed.TotalMinutes:0.0} min, RSS {samples[^1].RssBytes / 1048576.0:0} MB, {samples[^1].Completed:N0} requests");
                }
                while (await timer.WaitForNextTickAsync(stop.Token));
            }
            catch (OperationCanceledException)
            {
            }
        });
        var load = await LoadDriver.RunAsync("mixed", concurrency, duration, mixed);
        await stop.CancelAsync();
        await sampler;
        return new SoakResult(db.Storage.Label, concurrency, o.SoakMinutes, "40% webhook created · 30% members list · 30% pending invitations", load, samples, startRss);
    }
}
