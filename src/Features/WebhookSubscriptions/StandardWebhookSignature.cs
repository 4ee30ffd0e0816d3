using Roster.Infrastructure.Changes;
using System.Security.Cryptography;
using System.Text;

namespace Roster.Features.WebhookSubscriptions;

/// <summary>
/// Signing per the Standard Webhooks specification: the signed content is <c>{webhook-id}.{webhook-timestamp}.{body}</c>,
/// the key is the base64 part of the <c>whsec_</c> secret, the signature HMAC-SHA256 in base64, sent as
/// <c>webhook-signature: v1,&lt;sig&gt;</c> (space-separated when several secrets sign, as during a rotation's overlap).
/// The contract suite verifies these with the <c>standardwebhooks</c> and <c>svix</c> npm packages.
/// </summary>
public static class StandardWebhookSignature
{
    public const string SecretPrefix = "whsec_";

    public static string NewSecret() => SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public static string Sign(string secret, string id, long timestamp, string body)
    {
        var key = Convert.FromBase64String(secret.StartsWith(SecretPrefix, StringComparison.Ordinal) ? secret[SecretPrefix.Length..] : secret);
        var signature = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}"));
        return "v1," + Convert.ToBase64String(signature);
    }

    /// <summary>The header value: one signature per secret that signs now.</summary>
    public static string Header(IEnumerable<string> secrets, string id, long timestamp, string body) =>
        string.Join(' ', secrets.Select(s => Sign(s, id, timestamp, body)));
}
