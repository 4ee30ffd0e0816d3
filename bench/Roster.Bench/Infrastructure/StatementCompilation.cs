using System.Diagnostics;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Roster.Bench.Infrastructure;

/// <summary>One statement a route ran and what SQLite takes to compile it.</summary>
public sealed record StatementCompile(string Route, string Statement, int Characters, double Microseconds);

/// <summary>
/// What SQLite spends compiling the statements of one operation, against the floor's. Microsoft.Data.Sqlite compiles
/// a command's SQL every time the command runs (sqlite3_prepare_v2; it keeps no statement cache across commands,
/// dotnet/efcore#14044) and EF Core creates a command per execution, so on SQLite every event and every read pays the
/// compilation of each statement it sends — for ingest inside the one writer's turn. PostgreSQL does not pay it per
/// execution: Npgsql prepares the service's statements automatically (Max Auto Prepare).
/// The statements are the service's own: a short extra run of the built service with EF Core's command log on
/// (JSON console, with the request scope), a few requests of the measured kinds, then each statement compiled
/// <see cref="Repetitions"/> times on the benchmark's database (prepare and finalize, no execution).
/// </summary>
public static class StatementCompilation
{
    public const int Repetitions = 300;

    /// <summary>The service's environment for the capture run: console log entries as JSON lines, with their scopes.</summary>
    public static IReadOnlyDictionary<string, string> CaptureEnvironment { get; } = new Dictionary<string, string>
    {
        ["Logging__Console__FormatterName"] = "json",
        ["Logging__Console__FormatterOptions__IncludeScopes"] = "true",
    };

    /// <summary>
    /// EF Core's executed commands at Information, as a command-line setting: the service is started through /bin/sh,
    /// which drops environment variables whose names are not shell identifiers (the category name has dots).
    /// </summary>
    public const string CaptureArguments = "--Logging:LogLevel:Microsoft.EntityFrameworkCore.Database.Command=Information";

    /// <summary>
    /// The commands the service executed for each request whose path starts with <paramref name="pathPrefix"/>, one list
    /// per request (its RequestId scope) in the order the requests first ran a command; background services' commands
    /// carry no request scope and are left out.
    /// </summary>
    public static List<List<string>> CapturedByRequest(string logFile, string pathPrefix)
    {
        var requests = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var line in File.ReadLines(logFile))
        {
            if (!line.StartsWith('{')) continue;
            JsonDocument entry;
            try { entry = JsonDocument.Parse(line); }
            catch (JsonException) { continue; } // the line the service is writing right now
            using var _ = entry;
            var root = entry.RootElement;
            if (!root.TryGetProperty("EventId", out var id) || id.GetInt32() != 20101) continue; // RelationalEventId.CommandExecuted
            if (!root.TryGetProperty("State", out var state) || !state.TryGetProperty("commandText", out var text)) continue;
            if (!root.TryGetProperty("Scopes", out var scopes) || scopes.ValueKind != JsonValueKind.Array) continue;
            var request = scopes.EnumerateArray().FirstOrDefault(s => s.ValueKind == JsonValueKind.Object && s.TryGetProperty("RequestPath", out var p) &&
                                                                     p.GetString()?.StartsWith(pathPrefix, StringComparison.Ordinal) == true);
            if (request.ValueKind != JsonValueKind.Object || !request.TryGetProperty("RequestId", out var requestId)) continue;
            var key = requestId.GetString()!;
            if (!requests.TryGetValue(key, out var statements))
            {
                requests[key] = statements = [];
                order.Add(key);
            }
            statements.Add(text.GetString()!);
        }
        return order.Select(k => requests[k]).ToList();
    }

    /// <summary>Waits (up to 30 s) until the service's log holds <paramref name="requests"/> requests' commands (the console logger writes from a queue).</summary>
    public static async Task<List<List<string>>> AwaitCapturedAsync(string logFile, string pathPrefix, int requests)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var captured = CapturedByRequest(logFile, pathPrefix);
            if (captured.Count >= requests) return captured;
            if (DateTime.UtcNow > deadline)
                throw new InvalidOperationException($"The service's log {logFile} holds the commands of {captured.Count} requests to {pathPrefix}, not {requests}.");
            await Task.Delay(200);
        }
    }

    /// <summary>Mean microseconds SQLite takes to compile <paramref name="sql"/> (all of its statements) on this database.</summary>
    public static double Microseconds(string connectionString, string sql)
    {
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        Compile(connection, sql); // warm: schema loaded, page cache filled
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < Repetitions; i++) Compile(connection, sql);
        return watch.Elapsed.TotalMicroseconds / Repetitions;
    }

    private static void Compile(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Prepare();
    }

    public static List<StatementCompile> Measure(string connectionString, string route, IEnumerable<string> statements) =>
        statements.Select(s => new StatementCompile(route, Shorten(s), s.Length, Microseconds(connectionString, s))).ToList();

    private static string Shorten(string sql)
    {
        var flat = string.Join(' ', sql.Split((char[])['\r', '\n', '\t', ' '], StringSplitOptions.RemoveEmptyEntries));
        return flat.Length <= 90 ? flat : flat[..87] + "…";
    }
}
