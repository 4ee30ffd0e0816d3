using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace Roster.Infrastructure.Auth;

/// <summary>
/// The key local tokens are signed with. A configured key is used anywhere; in Development with none
/// configured, one is created once under .roster/ in the working folder, so the service and the
/// dev-token command started from the same folder agree.
/// </summary>
public static class DevSigningKey
{
    public const string LocalKeyPath = ".roster/dev-signing-key.pem";

    public static RsaSecurityKey? Resolve(AuthOptions options, IHostEnvironment environment)
    {
        if (!string.IsNullOrWhiteSpace(options.DevSigningKey)) return TryParse(options.DevSigningKey);
        if (!environment.IsDevelopment()) return null;
        return LoadOrCreate(Path.Combine(Directory.GetCurrentDirectory(), LocalKeyPath));
    }

    /// <summary>The key, or null when the text is not one (start-time validation reports that, naming the key).</summary>
    public static RsaSecurityKey? TryParse(string configured)
    {
        try { return Parse(configured); }
        catch (Exception ex) when (ex is CryptographicException or FormatException or ArgumentException) { return null; }
    }

    public static RsaSecurityKey Parse(string configured)
    {
        var rsa = RSA.Create();
        var text = configured.Trim();
        if (text.StartsWith("-----BEGIN", StringComparison.Ordinal))
            rsa.ImportFromPem(text);
        else
            rsa.ImportPkcs8PrivateKey(Convert.FromBase64String(text), out _);
        return WithKeyId(rsa);
    }

    private static RsaSecurityKey LoadOrCreate(string path)
    {
        if (File.Exists(path)) return Parse(File.ReadAllText(path));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var rsa = RSA.Create(2048);
        var pem = rsa.ExportPkcs8PrivateKeyPem();
        try
        {
            // CreateNew: if another process wrote the key first, use theirs.
            using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            using var writer = new StreamWriter(stream);
            writer.Write(pem);
        }
        catch (IOException) when (File.Exists(path))
        {
        }
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return Parse(File.ReadAllText(path));
    }

    private static RsaSecurityKey WithKeyId(RSA rsa)
    {
        var key = new RsaSecurityKey(rsa);
        key.KeyId = Base64UrlEncoder.Encode(key.ComputeJwkThumbprint());
        return key;
    }
}
