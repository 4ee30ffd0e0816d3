using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Roster.Infrastructure.WorkOs;

/// <summary>
/// Verifies <c>WorkOS-Signature: t=&lt;unix ms&gt;, v1=&lt;hex HMAC-SHA256(secret, "&lt;t&gt;.&lt;raw body&gt;")&gt;</c> over the
/// raw bytes, before anything is parsed, in constant time — by the rule of WorkOS's own SDK (<c>@workos-inc/node</c>
/// 11.0.0, <c>SignatureProvider.verifyHeader</c>): the first comma-separated part carries the timestamp and the second the
/// signature (later parts are ignored), the signature is compared as lower-case hex, and only a timestamp older than the
/// tolerance is refused — one ahead of our clock is accepted, as the SDK accepts it. Stricter than the SDK only where
/// its leniency is a hole (README, "Signature rule"): the parts must be named <c>t</c> and <c>v1</c>, and the timestamp
/// must be digits (the SDK's <c>parseInt</c> lets a non-numeric one through its age check, which would switch off replay
/// protection).
/// </summary>
public static class WorkOsSignature
{
    public static bool IsValid(string? header, ReadOnlySpan<byte> body, string? secret, DateTimeOffset now, TimeSpan tolerance)
    {
        if (string.IsNullOrEmpty(secret) || string.IsNullOrWhiteSpace(header)) return false;

        var parts = header.Split(',');
        if (parts.Length < 2) return false;
        if (Value(parts[0], "t") is not { Length: > 0 and <= 18 } timestamp || !timestamp.All(char.IsAsciiDigit)) return false;
        if (Value(parts[1], "v1") is not { Length: 64 } hex || !hex.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f')) return false;
        var ms = long.Parse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture);
        if (ms < now.ToUnixTimeMilliseconds() - (long)tolerance.TotalMilliseconds) return false;

        return CryptographicOperations.FixedTimeEquals(Convert.FromHexString(hex), Compute(secret, timestamp, body));
    }

    /// <summary>The value of <c>name=value</c> (leading spaces allowed, as after ", "); null when the part has another name.</summary>
    private static string? Value(string part, string name)
    {
        var trimmed = part.TrimStart(' ');
        return trimmed.Length > name.Length && trimmed.StartsWith(name, StringComparison.Ordinal) && trimmed[name.Length] == '='
            ? trimmed[(name.Length + 1)..]
            : null;
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
}
