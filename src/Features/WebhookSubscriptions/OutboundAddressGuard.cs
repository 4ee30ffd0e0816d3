using Roster.Infrastructure.Changes;
using System.Net;
using System.Net.Sockets;

namespace Roster.Features.WebhookSubscriptions;

/// <summary>
/// Keeps outgoing webhooks from being turned against the network Roster runs in: the address a target resolves to is
/// checked when the connection is made (not when the subscription was saved, so a name re-pointed later is caught),
/// and loopback, link-local, private, carrier-grade NAT, multicast and unspecified addresses are refused outside
/// Development. The client never follows redirects and uses no proxy (which would connect on its behalf, unchecked).
/// </summary>
public static class OutboundAddressGuard
{
    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.IPv6None))
            return false;
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return !(b[0] == 0 || b[0] == 10 || b[0] == 127
                     || (b[0] == 100 && b[1] >= 64 && b[1] <= 127)   // carrier-grade NAT
                     || (b[0] == 169 && b[1] == 254)                 // link-local (cloud metadata)
                     || (b[0] == 172 && b[1] >= 16 && b[1] <= 31)
                     || (b[0] == 192 && b[1] == 168)
                     || (b[0] == 192 && b[1] == 0 && b[2] == 0)      // IETF protocol assignments
                     || (b[0] == 198 && (b[1] == 18 || b[1] == 19))  // benchmarking
                     || b[0] >= 224);                                // multicast, reserved, broadcast
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var b = address.GetAddressBytes();
            return !(address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast
                     || (b[0] & 0xfe) == 0xfc                          // unique local fc00::/7
                     || (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)); // documentation
        }
        return false;
    }

    /// <summary>The handler of the webhook client: connects only to addresses <paramref name="allowAny"/> or <see cref="IsPublic"/> allows.</summary>
    public static SocketsHttpHandler Handler(bool allowAny) => new()
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        UseCookies = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        ConnectCallback = async (context, ct) =>
        {
            var host = context.DnsEndPoint.Host;
            var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
            var allowed = addresses.Where(a => allowAny || IsPublic(a)).ToList();
            if (allowed.Count == 0)
                throw new BlockedAddressException($"{host} resolves to {string.Join(", ", addresses.Select(a => a.ToString()))}, which outgoing webhooks may not reach (loopback, link-local or private)");
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(allowed[0], context.DnsEndPoint.Port, ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };
}

public sealed class BlockedAddressException(string message) : IOException(message);
