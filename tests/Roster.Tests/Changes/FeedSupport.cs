using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Roster.Features.Changes;
using Roster.Infrastructure.Auth;
using Roster.Tests.Support;

namespace Roster.Tests.Changes;

public static partial class FeedSupport
{
    /// <summary>
    /// A bearer token of a service credential: a machine's (client-credentials style: a sub and permissions, no email, no
    /// name), with only the permission to read every organization's feed — or the <paramref name="permissions"/> given.
    /// </summary>
    public static HttpClient ServiceClient(RosterApp app, params string[] permissions)
    {
        var id = Guid.NewGuid().ToString("N")[..12];
        var token = TokenMinter.Mint(DevSigningKey.Parse(RosterApp.SigningKeyPem),
            new AuthOptions { Issuer = "roster-tests", Audience = "roster-tests-api" },
            new TokenRequest($"client_{id}", null, Permissions: permissions.Length > 0 ? permissions : [ChangesReaderPolicy.Permission]));
        var client = app.ClientFor(null);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>Places every committed change now (what the background sequencer does within a second).</summary>
    public static Task<int> SequenceAsync(this RosterApp app) =>
        app.Services.GetRequiredService<ChangeSequencer>().SequenceAsync(CancellationToken.None);

    /// <summary>Walks a feed from <paramref name="url"/> by its Link headers; returns every change seen.</summary>
    public static async Task<List<JsonNode>> WalkAsync(HttpClient client, string url, int maxPages = 100)
    {
        var seen = new List<JsonNode>();
        string? next = url;
        for (var page = 0; next is not null && page < maxPages; page++)
        {
            using var response = await client.GetAsync(next);
            seen.AddRange((await response.ShouldBe(HttpStatusCode.OK)).AsArray().Select(n => n!));
            next = response.Headers.TryGetValues("Link", out var links) ? NextLink().Match(links.Single()).Groups[1].Value : null;
        }
        return seen;
    }

    [GeneratedRegex("<([^>]+)>; rel=\"next\"")]
    public static partial Regex NextLink();

    public static long Long(this JsonNode node, string property) => node[property]!.GetValue<long>();
}
