using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Roster.Features.Actions;

public static class Verdicts
{
    public const string Allow = "Allow";
    public const string Deny = "Deny";
}

/// <summary>
/// The signed answer to a WorkOS action, byte for byte what the official Node SDK's <c>actions.signResponse</c> builds
/// (serialized with <c>JSON.stringify</c>): <c>{"object":"&lt;type&gt;_action_response","payload":{"timestamp":&lt;ms&gt;,"verdict":"…"
/// [,"error_message":"…"]},"signature":"&lt;hex HMAC-SHA256(secret, "&lt;timestamp&gt;.&lt;payload JSON&gt;")&gt;"}</c>. WorkOS checks the
/// signature over the payload's JSON text, so the text must be JavaScript's, escapes included (see <see cref="JsString"/>).
/// </summary>
public static class ActionResponse
{
    public static byte[] Sign(string actionType, string verdict, string? errorMessage, long timestampMs, string secret)
    {
        var timestamp = timestampMs.ToString(CultureInfo.InvariantCulture);
        var payload = new StringBuilder("{\"timestamp\":").Append(timestamp).Append(",\"verdict\":").Append(JsString(verdict));
        // signResponse keeps a message only on a Deny, and only a non-empty one (JavaScript truthiness).
        if (verdict == Verdicts.Deny && !string.IsNullOrEmpty(errorMessage)) payload.Append(",\"error_message\":").Append(JsString(errorMessage));
        payload.Append('}');

        var signature = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{payload}")));
        var response = $"{{\"object\":{JsString(actionType + "_action_response")},\"payload\":{payload},\"signature\":{JsString(signature)}}}";
        return Encoding.UTF8.GetBytes(response);
    }

    /// <summary>
    /// A string literal exactly as ECMAScript's JSON.stringify writes it (QuoteJSONString): <c>"</c> and <c>\</c> escaped,
    /// \b \t \n \f \r by name, other controls below U+0020 and lone surrogates as lowercase \uXXXX, everything else
    /// (non-ASCII, &lt; &gt; &amp; ') as itself. System.Text.Json escapes more, which would change the signed bytes.
    /// </summary>
    public static string JsString(string value)
    {
        var json = new StringBuilder(value.Length + 2).Append('"');
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            switch (c)
            {
                case '"': json.Append("\\\""); break;
                case '\\': json.Append("\\\\"); break;
                case '\b': json.Append("\\b"); break;
                case '\t': json.Append("\\t"); break;
                case '\n': json.Append("\\n"); break;
                case '\f': json.Append("\\f"); break;
                case '\r': json.Append("\\r"); break;
                default:
                    if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])) json.Append(c).Append(value[++i]);
                    else if (c < 0x20 || char.IsSurrogate(c)) json.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else json.Append(c);
                    break;
            }
        }
        return json.Append('"').ToString();
    }
}
