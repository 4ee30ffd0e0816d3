using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.WebUtilities;

namespace Roster.Infrastructure.Http;

/// <summary>
/// One page of a list: <c>?limit=</c> (default 100, at most 500) and <c>?after=</c>, an opaque cursor naming the last row
/// of the previous page. Every list is keyset-paged on a stable order with an index behind it, so rows added or removed
/// while a client walks the pages never make it skip or repeat a row that was there all along.
/// <para>
/// The cursor is base64url JSON: the list's name, then the sort key of the last row (times as ticks, ids as text). The
/// list's name in it means a cursor of one list handed to another is refused, not misread.
/// </para>
/// </summary>
public sealed class PageRequest
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 500;

    /// <summary>Before every row: the "after" time of a first page, for queries that always carry one.</summary>
    public static readonly DateTime Start = DateTime.SpecifyKind(DateTime.MinValue, DateTimeKind.Utc);

    private readonly string[]? _after;

    private PageRequest(string list, int limit, string[]? after)
    {
        List = list;
        Limit = limit;
        _after = after;
    }

    public string List { get; }
    public int Limit { get; }

    /// <summary>Rows to fetch: one more than the page, to learn whether another page follows.</summary>
    public int Fetch => Limit + 1;

    public bool HasAfter => _after is not null;

    /// <summary>Reads ?limit and ?after for the list named <paramref name="list"/>, whose sort key has <paramref name="keyParts"/> parts.</summary>
    public static (PageRequest? Page, ProblemHttpResult? Problem) Parse(string list, string? limit, string? after, int keyParts)
    {
        var errors = new Dictionary<string, string[]>();
        var size = DefaultLimit;
        if (limit is not null
            && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size < 1 || size > MaxLimit))
            errors["limit"] = [$"limit is a whole number from 1 to {MaxLimit} (default {DefaultLimit})."];

        string[]? key = null;
        if (after is not null && (key = Decode(list, after, keyParts)) is null)
            errors["after"] = ["after is a cursor from this list's Link header (rel=\"next\"); this one is not."];

        return errors.Count > 0 ? (null, Problems.Validation(errors)) : (new PageRequest(list, size, key), null);
    }

    public string AfterText(int part) => Part(part);

    public DateTime AfterTime(int part) => new(long.Parse(Part(part), CultureInfo.InvariantCulture), DateTimeKind.Utc);

    public Guid AfterId(int part) => Guid.Parse(Part(part));

    private string Part(int part) => _after is { } key ? key[part] : throw new InvalidOperationException("The first page has no cursor.");

    /// <summary>
    /// The page of <paramref name="fetched"/> (which holds up to <see cref="Fetch"/> rows), announcing the next page with a
    /// Link header when there is one. <paramref name="key"/> gives a row's sort key (see <see cref="Key"/>).
    /// </summary>
    public PagedOk<T> Page<T>(List<T> fetched, Func<T, object[]> key)
    {
        if (fetched.Count <= Limit) return new PagedOk<T>(fetched, null);
        fetched.RemoveRange(Limit, fetched.Count - Limit);
        return new PagedOk<T>(fetched, Encode(key(fetched[^1])));
    }

    private string Encode(object[] key)
    {
        var parts = new string[key.Length + 1];
        parts[0] = List;
        for (var i = 0; i < key.Length; i++)
        {
            parts[i + 1] = key[i] switch
            {
                DateTime t => t.ToUniversalTime().Ticks.ToString(CultureInfo.InvariantCulture),
                Guid g => g.ToString(),
                string s => s,
                var other => throw new ArgumentException($"A cursor holds times, ids and text, not {other?.GetType().Name ?? "null"}."),
            };
        }
        return WebEncoders.Base64UrlEncode(JsonSerializer.SerializeToUtf8Bytes(parts));
    }

    private static string[]? Decode(string list, string cursor, int keyParts)
    {
        try
        {
            if (cursor.Length is 0 or > 2048) return null;
            var parts = JsonSerializer.Deserialize<string[]>(WebEncoders.Base64UrlDecode(cursor));
            if (parts is null || parts.Length != keyParts + 1 || parts[0] != list || parts.Any(p => p is null || p.Length > 1024)) return null;
            return parts[1..];
        }
        catch (Exception ex) when (ex is FormatException or JsonException or DecoderFallbackException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>Checks that the cursor's parts <paramref name="times"/> are ticks and <paramref name="ids"/> are ids.</summary>
    public ProblemHttpResult? Typed(int[] times, int[] ids)
    {
        if (_after is null) return null;
        var ok = times.All(i => long.TryParse(_after[i], NumberStyles.None, CultureInfo.InvariantCulture, out var t)
                                && t >= DateTime.MinValue.Ticks && t <= DateTime.MaxValue.Ticks)
                 && ids.All(i => Guid.TryParse(_after[i], out _));
        return ok ? null : Problems.Validation("after", "after is a cursor from this list's Link header (rel=\"next\"); this one is not.");
    }

    /// <summary>Reads ?limit and ?after for a list whose key is (time, id) — the common case — checking both parts' types.</summary>
    public static (PageRequest? Page, ProblemHttpResult? Problem) ByTimeAndId(string list, string? limit, string? after)
    {
        var (page, problem) = Parse(list, limit, after, 2);
        return problem is not null ? (null, problem) : page!.Typed([0], [1]) is { } bad ? (null, bad) : (page, null);
    }

    public static object[] Key(params object[] parts) => parts;
}

/// <summary>
/// 200 with a JSON array (the body stays an array, as before paging), and, when more rows follow, the RFC 8288 header
/// <c>Link: &lt;this URL with ?after=cursor&gt;; rel="next"</c> (the request's other query parameters kept).
/// </summary>
public sealed class PagedOk<T>(List<T> items, string? next) : IResult, IEndpointMetadataProvider, IStatusCodeHttpResult, IValueHttpResult,
    IValueHttpResult<List<T>>
{
    public List<T> Value { get; } = items;

    /// <summary>The cursor of the next page, or null on the last page.</summary>
    public string? Next { get; } = next;

    public int? StatusCode => StatusCodes.Status200OK;
    int? IStatusCodeHttpResult.StatusCode => StatusCode;
    object? IValueHttpResult.Value => Value;

    public Task ExecuteAsync(HttpContext http)
    {
        if (Next is not null) http.Response.Headers.Link = $"<{NextUrl(http.Request, Next)}>; rel=\"next\"";
        return TypedResults.Ok(Value).ExecuteAsync(http);
    }

    private static string NextUrl(HttpRequest request, string cursor)
    {
        var query = new QueryBuilder(request.Query
            .Where(p => !string.Equals(p.Key, "after", StringComparison.OrdinalIgnoreCase))
            .SelectMany(p => p.Value.Select(v => new KeyValuePair<string, string>(p.Key, v ?? ""))))
        {
            { "after", cursor },
        };
        return request.PathBase.ToUriComponent() + request.Path.ToUriComponent() + query.ToQueryString().ToUriComponent();
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(List<T>), ["application/json"]));
}
