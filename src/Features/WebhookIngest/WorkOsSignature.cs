using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Roster.Features.WebhookIngest;

/// <summary>
/// Verifies <c>WorkOS-Signature: t=&lt;unix ms&gt;, v1=&lt;hex HMAC-SHA256(secret, "&lt;t&gt;.&lt;raw body&gt;")&gt;</c> over the
/// raw bytes, before anything is parsed, in constant time.
/// </summary>
public static class WorkOsSignature
{
    public static bool IsValid(string? header, ReadOnlySpan<byte> body, string? secret, DateTimeOffset now, TimeSpan tolerance)
    {
        if (string.IsNullOrEmpty(secret) || string.IsNullOrWhiteSpace(header)) return false;

        string? timestamp = null;
        var signatures = new List<byte[]>();
        foreach (var part in header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=');
            if (eq <= 0) continue;
            var value = part[(eq + 1)..];
            switch (part[..eq])
            {
                case "t": timestamp = value; break;
                case "v1" when value.Length == 64 && IsHex(value): signatures.Add(Convert.FromHexString(value)); break;
            }
        }
        if (timestamp is null || signatures.Count == 0) return false;
        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var ms)) return false;
        var signedAt = DateTimeOffset.FromUnixTimeMilliseconds(Math.Clamp(ms, 0, 253402300799999));
        if ((now - signedAt).Duration() > tolerance) return false;

        var expected = Compute(secret, timestamp, body);
        var matched = false;
        // Check every candidate so the time taken does not depend on which one matched.
        foreach (var candidate in signatures) matched |= CryptographicOperations.FixedTimeEquals(candidate, expected);
        return matched;
    }

    public static byte[] Compute(string secret, string timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes(timestamp + ".");
        var message = new byte[prefix.Length + body.Length];
        prefix.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(prefix.Length));
        return HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), message);
    }

    public static string Header(string secret, DateTimeOffset at, ReadOnlySpan<byte> body)
    {
        var t = at.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        return $"t={t}, v1={Convert.ToHexStringLower(Compute(secret, t, body))}";
    }

    private static bool IsHex(string value)
    {
        foreach (var c in value)
            if (!char.IsAsciiHexDigit(c)) return false;
        return true;
    }
}
