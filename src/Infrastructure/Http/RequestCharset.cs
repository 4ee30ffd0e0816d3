using System.Text;
using Microsoft.Net.Http.Headers;

namespace Roster.Infrastructure.Http;

public static class RequestCharset
{
    /// <summary>
    /// Refuses (415 unsupported_media_type) a JSON body whose Content-Type names a charset .NET does not know, before an
    /// endpoint reads it: the framework's JSON reader throws InvalidOperationException for one, which was a 500.
    /// </summary>
    public static IApplicationBuilder UseKnownRequestCharsets(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        if (MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var type) && type.Charset.HasValue && IsJson(type)
            && !IsKnown(type.Charset.Value!))
        {
            http.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = http,
                ProblemDetails =
                {
                    Status = StatusCodes.Status415UnsupportedMediaType,
                    Title = "Send the body as application/json.",
                    Detail = "The Content-Type names a charset that is not known; send UTF-8.",
                    Extensions = { ["code"] = ErrorCodes.UnsupportedMediaType },
                },
            });
            return;
        }
        await next(http);
    });

    /// <summary>Bodies at most this large are checked for UTF-8 here; the endpoints' own limits stop larger ones.</summary>
    private const int MaxCheckedBytes = 1024 * 1024;

    /// <summary>
    /// Refuses (400 validation_failed) a JSON body that is not valid UTF-8. The framework's reader only decodes the
    /// strings it binds, so bad bytes in a field an endpoint ignores (<c>{"a":"\xff\xfe"}</c>) slipped through as a
    /// well-formed request (DESIGN §5: malformed is 400). Runs after authentication and authorization, so a caller who
    /// may not call the route still learns only that. The WorkOS webhook checks its raw body itself, after the signature.
    /// </summary>
    public static IApplicationBuilder UseValidUtf8JsonBodies(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        var request = http.Request;
        if (http.GetEndpoint() is not null && HasBody(request) && MediaTypeHeaderValue.TryParse(request.ContentType, out var type) && IsJson(type)
            && (!type.Charset.HasValue || IsUtf8(type.Charset.Value!))
            && !request.Path.StartsWithSegments("/webhooks", StringComparison.OrdinalIgnoreCase))
        {
            request.EnableBuffering();
            var (bytes, complete) = await ReadUpToAsync(request.Body, MaxCheckedBytes, http.RequestAborted);
            request.Body.Position = 0;
            if (complete && !System.Text.Unicode.Utf8.IsValid(bytes))
            {
                await Problems.Validation("body", "The body is not valid UTF-8.").ExecuteAsync(http);
                return;
            }
        }
        await next(http);
    });

    private static bool HasBody(HttpRequest request) =>
        request.ContentLength > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0);

    private static bool IsUtf8(string charset) => charset.Trim('"').Equals("utf-8", StringComparison.OrdinalIgnoreCase)
                                                  || charset.Trim('"').Equals("utf8", StringComparison.OrdinalIgnoreCase);

    private static async Task<(byte[] Bytes, bool Complete)> ReadUpToAsync(Stream body, int max, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > max) return ([], false);
            buffer.Write(chunk, 0, read);
        }
        return (buffer.ToArray(), true);
    }

    private static bool IsJson(MediaTypeHeaderValue type) =>
        type.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
        || type.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase);

    // As the framework's reader decides: UTF-8 (quoted or not), else whatever Encoding.GetEncoding knows.
    private static bool IsKnown(string charset)
    {
        if (charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || charset.Equals("\"utf-8\"", StringComparison.OrdinalIgnoreCase)) return true;
        try
        {
            _ = Encoding.GetEncoding(charset);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
