using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Roster.Infrastructure.Data;
using Roster.Tests.Notifications;
using Roster.Tests.Support;

namespace Roster.Tests.Reliability;

/// <summary>
/// A Roster host on a database someone else owns (a private cluster, or a database two hosts share). It is built and
/// disposed by its fixture, which never lets <see cref="RosterApp"/> drop the database behind another host's back.
/// Logs go to <see cref="Logs"/> instead of the console: the fault tests provoke a lot of expected errors.
/// </summary>
public sealed class ReliabilityHost(StorageOptions storage, IReadOnlyDictionary<string, string?>? settings = null,
    Action<IServiceCollection>? services = null) : RosterApp(storage.Provider)
{
    public CapturedLogs Logs { get; } = new();

    protected override StorageOptions CreateStorage() => storage;

    protected override IReadOnlyDictionary<string, string?> Settings
    {
        get
        {
            var all = new Dictionary<string, string?>
            {
                ["Logging:LogLevel:Default"] = "Warning",
                ["Logging:Console:LogLevel:Default"] = "None",
                // The change sequencer and webhook dispatcher write in transactions of their own, in the background: off
                // here, so what the fault injector counts and what these tests measure is the webhook traffic alone.
                ["Changes:SequencerEnabled"] = "false",
                ["Webhooks:DispatcherEnabled"] = "false",
            };
            foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) all[key] = value;
            return all;
        }
    }

    protected override void ConfigureServices(IServiceCollection collection)
    {
        collection.AddSingleton<ILoggerProvider>(Logs);
        services?.Invoke(collection);
    }

    /// <summary>Builds the host (Program.cs runs, migrations included) without handing it to xunit's lifetime.</summary>
    public async Task<ReliabilityHost> StartAsync()
    {
        await ((IAsyncLifetime)this).InitializeAsync();
        return this;
    }

    /// <summary>The error lines the host logged, for failure messages.</summary>
    public string Errors(int max = 5) =>
        string.Join("\n", Logs.Lines.Where(l => l.StartsWith("Error", StringComparison.Ordinal) || l.StartsWith("Critical", StringComparison.Ordinal))
            .OrderBy(l => l.Contains("failed with 503", StringComparison.Ordinal)) // the unexpected ones first
            .Take(max));
}
