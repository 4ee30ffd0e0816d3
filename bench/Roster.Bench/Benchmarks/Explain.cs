using System.Text;
using System.Text.RegularExpressions;
using Npgsql;
using Roster.Bench.Infrastructure;

namespace Roster.Bench.Benchmarks;

public sealed record ExplainedQuery(string Query, string Plan, double Milliseconds)
{
    /// <summary>Tables the plan reads with a sequential scan (none of the hot queries should, on a large table).</summary>
    public IReadOnlyList<string> SeqScans => Regex.Matches(Plan, @"Seq Scan on (\w+)").Select(m => m.Groups[1].Value).Distinct().ToList();
}

/// <summary>
/// EXPLAIN (ANALYZE, BUFFERS) of the statements the service itself sends, captured with PostgreSQL's auto_explain:
/// the database is set to preload it with log_min_duration = 0 and log_analyze on, a fresh service process sends a
/// few of each hot request, and the plans are read back from the server log. So the plans are of the exact SQL and
/// parameter values EF Core sent, not of hand-written look-alikes.
/// </summary>
public static partial class Explain
{
    public static async Task<IReadOnlyList<ExplainedQuery>> CaptureAsync(BenchOptions o, Storage storage, Func<Task> traffic)
    {
        if (o.PostgresLog is null || !File.Exists(o.PostgresLog)) return [];
        var database = new NpgsqlConnectionStringBuilder(storage.ConnectionString).Database!;
        await AdminAsync(o, "LOAD 'auto_explain'",
            $"ALTER DATABASE \"{database}\" SET session_preload_libraries = 'auto_explain'",
            $"ALTER DATABASE \"{database}\" SET auto_explain.log_min_duration = 0",
            $"ALTER DATABASE \"{database}\" SET auto_explain.log_analyze = on",
            $"ALTER DATABASE \"{database}\" SET auto_explain.log_buffers = on",
            $"ALTER DATABASE \"{database}\" SET auto_explain.log_format = 'text'");
        var start = new FileInfo(o.PostgresLog).Length;
        try
        {
            await traffic();
        }
        finally
        {
            await AdminAsync(o, $"ALTER DATABASE \"{database}\" RESET ALL");
        }
        await Task.Delay(500); // let the logger flush
        string text;
        await using (var f = new FileStream(o.PostgresLog, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        {
            f.Seek(start, SeekOrigin.Begin);
            using var reader = new StreamReader(f, Encoding.UTF8);
            text = await reader.ReadToEndAsync();
        }
        return Parse(text);
    }

    public static IReadOnlyList<ExplainedQuery> Parse(string log)
    {
        var byQuery = new Dictionary<string, ExplainedQuery>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var entry in EntryStart().Split(log))
        {
            var m = PlanEntry().Match(entry);
            if (!m.Success) continue;
            var lines = m.Groups["body"].Value.Split('\n').Select(l => l.StartsWith('\t') ? l[1..] : l).ToList();
            var planStart = lines.FindIndex(l => l.Contains("(cost=", StringComparison.Ordinal));
            if (planStart < 0) continue;
            var query = string.Join('\n', lines.Take(planStart)).Trim();
            if (query.StartsWith("Query Text:", StringComparison.Ordinal)) query = query["Query Text:".Length..].Trim();
            // Not the service's queries: the migration check at start-up and Npgsql's type loading on a new connection.
            if (query.Contains("roster_schema_migrations", StringComparison.Ordinal) || query.Contains("pg_advisory", StringComparison.Ordinal)
                || query.Contains("pg_catalog", StringComparison.Ordinal) || query.Contains("pg_type", StringComparison.Ordinal)) continue;
            var plan = string.Join('\n', lines.Skip(planStart)).TrimEnd();
            var key = Regex.Replace(query, @"\s+", " ");
            if (!byQuery.ContainsKey(key)) order.Add(key);
            // Keep the last execution: the first ones warm the caches.
            byQuery[key] = new ExplainedQuery(query, plan, double.Parse(m.Groups["ms"].Value, System.Globalization.CultureInfo.InvariantCulture));
        }
        return order.Select(k => byQuery[k]).ToList();
    }

    private static async Task AdminAsync(BenchOptions o, params string[] statements)
    {
        await using var c = new NpgsqlConnection(o.PostgresAdmin);
        await c.OpenAsync();
        foreach (var sql in statements)
        {
            await using var cmd = new NpgsqlCommand(sql, c);
            await cmd.ExecuteNonQueryAsync();
        }
    }

    [GeneratedRegex(@"(?m)^(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)")]
    private static partial Regex EntryStart();

    [GeneratedRegex(@"LOG:\s+duration: (?<ms>[\d.]+) ms\s+plan:\n(?<body>[\s\S]*)")]
    private static partial Regex PlanEntry();
}
