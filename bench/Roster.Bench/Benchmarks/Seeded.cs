using System.Text.Json;
using Roster.Bench.Infrastructure;

namespace Roster.Bench.Benchmarks;

/// <summary>A database migrated by the service's own runner (`Roster migrate`) and then bulk-seeded.</summary>
public sealed record SeededDatabase(Storage Storage, SeedShape Shape, double SeedSeconds)
{
    public static async Task<SeededDatabase> CreateAsync(BenchOptions o, BenchSecrets secrets, string provider, string name, int organizations)
    {
        var storage = await Storage.CreateAsync(o, provider, name);
        await RosterProcess.RunCommandAsync(o, secrets, storage, "migrate");
        var shape = new SeedShape(organizations);
        var seconds = await Seeder.SeedAsync(storage, shape);
        return new SeededDatabase(storage, shape, seconds);
    }
}

/// <summary>Real tokens (RS256, the service's configured key) for a random sample of seeded organizations.</summary>
public sealed class SeededCallers
{
    public SeededCallers(SeedShape shape, BenchSecrets secrets, int sample, int seed, int firstOrg = 0, int? orgCount = null)
    {
        var rng = new Random(seed);
        var count = orgCount ?? shape.Organizations - firstOrg;
        var picks = Enumerable.Range(0, Math.Min(sample, count)).Select(_ => firstOrg + rng.Next(count)).Distinct().ToArray();
        Members = picks.Select(i =>
        {
            var owner = shape.OwnerOf(i);
            return new Caller($"api/organizations/{SeedShape.OrganizationId(i)}/members",
                secrets.Token(SeedShape.WorkosUserId(owner), SeedShape.Email(owner), SeedShape.Name(owner)));
        }).ToArray();
        Invitees = picks.Select(i =>
        {
            var invitee = shape.InviteeOf(i);
            return new Caller("api/membership-requests/mine/pending",
                secrets.Token(SeedShape.WorkosUserId(invitee), SeedShape.Email(invitee), SeedShape.Name(invitee)));
        }).ToArray();
    }

    /// <summary>Owners listing their organization's members.</summary>
    public Caller[] Members { get; }

    /// <summary>Invitees listing their pending owner_add invitations.</summary>
    public Caller[] Invitees { get; }

    public Caller AnyMember() => Members[Random.Shared.Next(Members.Length)];
    public Caller AnyInvitee() => Invitees[Random.Shared.Next(Invitees.Length)];

    /// <summary>Checks the seeded data reads back as intended: 9 listed members (8 active + 1 invitation), 1 invitation.</summary>
    public async Task VerifyAsync(HttpClient client)
    {
        await Expect(client, Members[0], 9);
        await Expect(client, Invitees[0], 1);
    }

    private static async Task Expect(HttpClient client, Caller caller, int? items)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, caller.Path);
        request.Headers.Authorization = new("Bearer", caller.Token);
        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"GET {caller.Path}: {(int)response.StatusCode} {body}");
        if (items is { } n && JsonDocument.Parse(body).RootElement.GetArrayLength() != n)
            throw new InvalidOperationException($"GET {caller.Path}: expected {n} items, got {body}");
    }
}

public sealed record Caller(string Path, string Token);
