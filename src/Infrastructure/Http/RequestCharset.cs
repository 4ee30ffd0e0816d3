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
