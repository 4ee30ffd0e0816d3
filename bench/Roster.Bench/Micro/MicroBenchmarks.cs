using System.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Roster.Bench.Infrastructure;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Seats;
using Roster.Migrations;
using Roster.Infrastructure.WorkOs;

namespace Roster.Bench.Micro;

/// <summary>WorkOsSignature.IsValid over a 1 KB and a 64 KB body (parse header, HMAC-SHA256, constant-time compare).</summary>
[MemoryDiagnoser]
public class SignatureBenchmarks
{
    private const string Secret = "whsec_micro_benchmark_secret_0123456789";
    private byte[] _body = [];
    private string _header = "";
    private DateTimeOffset _now;

    [Params(1024, 65536)]
    public int BodyBytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var sb = new StringBuilder("{\"id\":\"event_01\",\"event\":\"organization_membership.created\",\"data\":{\"pad\":\"");
        while (sb.Length < BodyBytes - 3) sb.Append((char)('a' + sb.Length % 26));
        sb.Append("\"}}");
        _body = Encoding.UTF8.GetBytes(sb.ToString());
        _now = DateTimeOffset.UtcNow;
        _header = WorkOsSignature.Header(Secret, _now, _body);
    }

    [Benchmark]
    public bool IsValid() => WorkOsSignature.IsValid(_header, _body, Secret, _now, TimeSpan.FromSeconds(180));
}

/// <summary>
/// The seat check: the in-memory decision (PlanCatalog limit + SeatUsage.HasRoom), and SeatLedger.UsageAsync — the
/// two counting queries through EF Core — for one organization of a seeded database (10 memberships, 1,000 in all).
/// </summary>
[MemoryDiagnoser]
public class SeatLedgerBenchmarks
{
    public static BenchOptions? Options;
    public static IEnumerable<string> Providers() =>
        Options?.HasPostgres == true ? ["SQLite", "PostgreSQL"] : ["SQLite"];

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, StorageOptions> Prepared = new();
    private PlanCatalog _plans = null!;
    private RosterDb _db = null!;
    private SeatLedger _ledger = null!;
    private readonly Guid _organization = SeedShape.OrganizationId(7);

    [ParamsSource(nameof(Providers))]
    public string Provider { get; set; } = "SQLite";

    [GlobalSetup]
    public void Setup()
    {
        var o = Options ?? throw new InvalidOperationException("Options not set.");
        var configuration = new ConfigurationBuilder().AddJsonFile(Path.Combine(o.RepoRoot, "src", "appsettings.json")).Build();
        var seats = configuration.GetSection("Seats").Get<SeatOptions>() ?? new SeatOptions();
        _plans = new PlanCatalog(configuration, seats);

        // One database per provider for the whole run: GlobalSetup runs once per benchmark case.
        var options = Prepared.GetOrAdd(Provider, provider =>
        {
            var storage = provider == "SQLite"
                ? Storage.CreateSqlite(o, "bench_micro")
                : Storage.CreatePostgresAsync(o, "bench_micro").GetAwaiter().GetResult();
            var storageOptions = new StorageOptions
            {
                Provider = storage.IsPostgres ? StorageProvider.Postgres : StorageProvider.Sqlite,
                ConnectionString = storage.ConnectionString,
            };
            new MigrationRunner(storageOptions, NullLogger<MigrationRunner>.Instance).MigrateAsync().GetAwaiter().GetResult();
            Seeder.SeedAsync(storage, new SeedShape(100)).GetAwaiter().GetResult();
            return storageOptions;
        });

        var builder = new DbContextOptionsBuilder<RosterDb>();
        StorageRegistration.ConfigureProvider(builder, options, null);
        _db = new RosterDb(builder.Options);
        _ledger = new SeatLedger(_db, _plans, TimeProvider.System);
    }

    [GlobalCleanup]
    public void Cleanup() => _db.Dispose();

    [Benchmark(Description = "HasRoom (plan limit + SeatUsage, in memory)")]
    public bool HasRoom()
    {
        var limit = _plans.LimitFor("company_icl", "community_only");
        return new SeatUsage("community_only", limit, 37, 4).HasRoom;
    }

    [Benchmark(Description = "SeatLedger.UsageAsync (one seat type, 2 queries)")]
    public async Task<bool> UsageOneSeatType() =>
        (await _ledger.UsageAsync(_organization, "company_leader", "community_only", CancellationToken.None)).HasRoom;

    [Benchmark(Description = "SeatLedger.UsageAsync (all seat types, seats endpoint)")]
    public async Task<int> UsageAllSeatTypes() =>
        (await _ledger.UsageAsync(_organization, "company_leader", CancellationToken.None)).Count(u => u.HasRoom);
}
