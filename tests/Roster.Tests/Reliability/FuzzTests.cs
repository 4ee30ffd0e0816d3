using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;
using Roster.Infrastructure.Auth;
using Roster.Tests.Features;
using Roster.Tests.Support;
using Xunit.Abstractions;
using Roster.Infrastructure.WorkOs;
using Roster.Infrastructure.Outbox;
using P = Roster.Tests.Reliability.FuzzGenerators.Placeholders;

namespace Roster.Tests.Reliability;

/// <summary>How a fuzz case authenticates. <see cref="AuthKind.Natural"/> is whoever may call the route (an org's owner, the invitee, a platform admin).</summary>
public enum AuthKind
{
    Natural, Owner, Admin, Member, Outsider, PlatformAdmin, Anonymous, Raw, Expired, OtherKey, WrongAudience, WrongIssuer, Tampered, AlgNone,
    LowercaseScheme, WeirdClaims,
}

public sealed record FuzzAuth(AuthKind Kind, string Raw = "", string Email = "", string Name = "")
{
    public override string ToString() => Kind switch
    {
        AuthKind.Raw => $"Authorization '{FuzzBody.Preview(Raw, 120)}'",
        AuthKind.WeirdClaims => $"a trusted token with email '{FuzzBody.Preview(Email, 80)}' and name '{FuzzBody.Preview(Name, 80)}'",
        _ => Kind.ToString(),
    };
}

public enum SignatureKind { Valid, Missing, Raw, Stale, Future, WrongSecret, ValidAmongJunk, OtherBody }

public sealed record FuzzSignature(SignatureKind Kind, string Raw = "")
{
    public override string ToString() => Kind == SignatureKind.Raw ? $"WorkOS-Signature '{FuzzBody.Preview(Raw, 120)}'" : $"signature {Kind}";
}

/// <summary>One generated request, symbolic where it names the world's ids or people (resolved when it runs).</summary>
public sealed record FuzzCase(string Method, string Route, IReadOnlyList<(string Name, PathId Value)> Path, string Query, FuzzAuth Auth,
    FuzzBody Body, FuzzSignature Signature, IReadOnlyList<(string Name, string Value)> Headers)
{
    public override string ToString() =>
        $"{Method} {Route} [{string.Join(", ", Path.Select(p => $"{p.Name}={p.Value}"))}] query '{FuzzBody.Preview(Query, 120)}' as {Auth}; " +
        $"{Signature}; headers [{string.Join(", ", Headers.Select(h => $"{h.Name}: {FuzzBody.Preview(h.Value, 60)}"))}]; {Body}";
}

/// <summary>The ids fuzz cases point at: a staffed organization (with a WorkOS id), a join request, an invitation, a foreign org.</summary>
public sealed record FuzzWorld(Staffed Org, string WorkosOrgId, Guid JoinRequestId, Guid InvitationId, TestUser NewUser, Guid NewUserId,
    Guid ForeignOrgId, Guid ForeignMembershipId);

/// <summary>
/// Property tests over every mapped route (the route table, POST /webhooks/workos included): random and malformed JSON,
/// mistyped and missing fields, huge strings, unicode, bad path ids and query strings, bad Authorization, Content-Type,
/// Accept and WorkOS-Signature headers. Whatever comes in: never a 5xx; every 4xx is application/problem+json with a
/// non-empty string <c>code</c>; and a 4xx leaves the database exactly as it was.
/// </summary>
public abstract class FuzzTests(RosterApp app, ITestOutputHelper output)
{
    private const string Webhook = "/webhooks/workos";
    private const string Actions = "/webhooks/workos/actions";

    /// <summary>Routes WorkOS signs (each with its own secret) rather than a bearer token.</summary>
    private static bool IsSigned(string route) => route is Webhook or Actions;
    private static readonly AuthOptions Trusted = new() { Issuer = "roster-tests", Audience = "roster-tests-api" };
    private static readonly SecurityKey TrustedKey = DevSigningKey.Parse(RosterApp.SigningKeyPem);
    private static readonly SecurityKey OtherKey = new RsaSecurityKey(RSA.Create(2048));

    private readonly Scenario _s = new(app);
    private readonly HttpClient _client = app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<int, int>> _seen = new();
    private FuzzWorld? _world;
    private int _worldsBuilt;

    // The console's HTML pages (/ and /console/…) answer people in browsers with pages and redirects, signed in by a session
    // cookie and guarded by antiforgery; Console/ConsoleFuzzTests throws the same kinds of malformed input at every one of
    // them (signed out, with a forged cookie, and signed in with a valid antiforgery token) under the same rules.
    private (string Method, string Route)[] Routes =>
        [.. RouteTable.Of(app).Where(r => !RouteTable.IsConsolePage(r.Route))
            .OrderBy(r => r.Route, StringComparer.Ordinal).ThenBy(r => r.Method, StringComparer.Ordinal)];

    [Fact]
    public async Task EveryRouteAnswersMalformedInputWithAProblemAndChangesNothing()
    {
        var routes = Routes;
        Assert.Contains(("POST", Webhook), routes);
        var cases = Gen.Elements(routes).SelectMany(r => CaseFor(r.Method, r.Route, fuzzHeaders: false));
        var seed = PropertyRun.Seed(20261101);
        await PropertyRun.CheckAsync(nameof(EveryRouteAnswersMalformedInputWithAProblemAndChangesNothing), seed,
            maxTest: 300, Prop.ForAll(Arb.From(cases), RunAsync), output);
        // With ~60 routes and 300 draws a seed leaves one out about one time in four (seed 713819206914545908 never drew
        // POST /api/admin/webhook-subscriptions): each route a seed left out gets draws of its own, so every seed feeds
        // every route.
        foreach (var (method, route) in routes.Where(r => !_seen.ContainsKey($"{r.Method} {r.Route}")).ToList())
            await PropertyRun.CheckAsync($"{nameof(EveryRouteAnswersMalformedInputWithAProblemAndChangesNothing)} ({method} {route})", seed,
                maxTest: 10, Prop.ForAll(Arb.From(CaseFor(method, route, fuzzHeaders: false)), RunAsync), output);
        Report();
        // Every route was actually fed (the route table is the generator's input, so a new endpoint is fuzzed without edits).
        var missed = routes.Where(r => !_seen.ContainsKey($"{r.Method} {r.Route}")).ToList();
        Assert.True(missed.Count == 0, "Routes the fuzzer never reached: " + string.Join(", ", missed));
    }

    [Fact]
    public async Task BadHeadersAreAProblemAndChangeNothing()
    {
        var cases = Gen.Elements(Routes).SelectMany(r => CaseFor(r.Method, r.Route, fuzzHeaders: true));
        await PropertyRun.CheckAsync(nameof(BadHeadersAreAProblemAndChangeNothing), PropertyRun.Seed(20261102),
            maxTest: 150, Prop.ForAll(Arb.From(cases), RunAsync), output);
        Report();
    }

    [Fact]
    public async Task SignedWebhookBodiesOfAnyShapeNeverBreakIngest()
    {
        // A valid signature over the body, so what is fuzzed is everything after verification: parsing, shape, handlers.
        var cases = CaseFor("POST", Webhook, fuzzHeaders: false).SelectMany(c =>
            Gen.Frequency((1, Gen.Constant(c.Body)), (3, FuzzGenerators.WebhookEnvelopeWithBadData.Select(json => FuzzBody.Json("envelope", json))))
                .Select(body => c with
                {
                    Method = "POST", Body = body, Signature = new FuzzSignature(SignatureKind.Valid), Auth = new FuzzAuth(AuthKind.Anonymous),
                }));
        await PropertyRun.CheckAsync(nameof(SignedWebhookBodiesOfAnyShapeNeverBreakIngest), PropertyRun.Seed(20261103),
            maxTest: 120, Prop.ForAll(Arb.From(cases), RunAsync), output);
        Report();
    }

    [Fact]
    public async Task SignedActionContextsOfAnyShapeNeverBreakTheGate()
    {
        // Signed with the actions secret, so what is fuzzed is the context's shape and the seat gate behind it.
        var cases = CaseFor("POST", Actions, fuzzHeaders: false).SelectMany(c =>
            Gen.Frequency((1, Gen.Constant(c.Body)), (3, FuzzGenerators.ActionContextWithBadData.Select(json => FuzzBody.Json("action context", json))))
                .Select(body => c with
                {
                    Method = "POST", Body = body, Signature = new FuzzSignature(SignatureKind.Valid), Auth = new FuzzAuth(AuthKind.Anonymous),
                }));
        await PropertyRun.CheckAsync(nameof(SignedActionContextsOfAnyShapeNeverBreakTheGate), PropertyRun.Seed(20261104),
            maxTest: 120, Prop.ForAll(Arb.From(cases), RunAsync), output);
        Report();
        Assert.True(_seen.TryGetValue($"POST {Actions}", out var statuses) && statuses.ContainsKey(200),
            "No fuzzed action context got past verification and parsing to the gate.");
    }

    // ---- generation -------------------------------------------------------------------------------------------------

    private static readonly Regex Parameter = new(@"\{([A-Za-z0-9_]+)\}", RegexOptions.Compiled);

    private static Gen<FuzzCase> CaseFor(string method, string route, bool fuzzHeaders)
    {
        var path = Gen.CollectToList(Parameter.Matches(route).Select(m => m.Groups[1].Value).Select(name => (name switch
        {
            "orgId" => FuzzGenerators.OrgId,
            "membershipId" => FuzzGenerators.MembershipId,
            _ => FuzzGenerators.AnyPathValue,
        }).Select(value => (name, value))));
        var methods = Gen.Frequency((fuzzHeaders ? 8 : 19, Gen.Constant(method)), (1, Gen.Elements("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")));
        var auth = fuzzHeaders ? AnyAuth : Gen.Frequency((18, Gen.Constant(new FuzzAuth(AuthKind.Natural))), (1, Gen.Constant(new FuzzAuth(AuthKind.Anonymous))), (1, RawAuth));
        var signature = IsSigned(route)
            ? (fuzzHeaders ? AnySignature : Gen.Frequency((5, Gen.Constant(new FuzzSignature(SignatureKind.Valid))), (1, AnySignature)))
            : (fuzzHeaders ? Gen.Frequency((5, Gen.Constant(new FuzzSignature(SignatureKind.Missing))), (1, AnySignature)) : Gen.Constant(new FuzzSignature(SignatureKind.Missing)));
        var body = FuzzGenerators.BodyFor(method, route);
        if (fuzzHeaders) body = body.SelectMany(b => ContentType.Select(ct => b.Bytes is null && b.Text is null ? b : b.WithContentType(ct)));
        var headers = fuzzHeaders ? ExtraHeaders : Gen.Constant<IReadOnlyList<(string, string)>>([]);

        return from m in methods
               from p in path
               from q in FuzzGenerators.Query
               from a in auth
               from b in body
               from s in signature
               from h in headers
               select new FuzzCase(m, route, p, q, a, b, s, h);
    }

    private static readonly Gen<FuzzAuth> RawAuth = Gen.Frequency(
        (3, Gen.Elements("", "Bearer", "Bearer ", "Bearer  ", "Bearer garbage", "Bearer a.b.c", "Bearer ....", "Bearer eyJ", "Basic dXNlcjpwYXNz",
            "Token abc", "Bearer null", "Bearer undefined", "bearer", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.", "Negotiate YII=", "Bearer \u00e9\u00e9")),
        (2, FuzzGenerators.Text.Where(t => t.Length < 5000).Select(t => "Bearer " + t)),
        (1, FuzzGenerators.Text.Where(t => t.Length < 5000)),
        (1, FuzzGenerators.Huge.Select(t => "Bearer " + t)))
        .Select(raw => new FuzzAuth(AuthKind.Raw, raw));

    private static readonly Gen<FuzzAuth> AnyAuth = Gen.Frequency(
        (3, Gen.Elements(AuthKind.Natural, AuthKind.Owner, AuthKind.Admin, AuthKind.Member, AuthKind.Outsider, AuthKind.PlatformAdmin).Select(k => new FuzzAuth(k))),
        (2, Gen.Elements(AuthKind.Anonymous, AuthKind.Expired, AuthKind.OtherKey, AuthKind.WrongAudience, AuthKind.WrongIssuer, AuthKind.Tampered,
            AuthKind.AlgNone, AuthKind.LowercaseScheme).Select(k => new FuzzAuth(k))),
        (3, RawAuth),
        (1, Gen.Zip(Gen.Frequency((2, FuzzGenerators.Text), (1, Gen.Elements(P.OwnerEmail, "fuzz@example.com", " FUZZ@Example.com "))), FuzzGenerators.Text)
            .Select(t => new FuzzAuth(AuthKind.WeirdClaims, Email: t.Item1, Name: t.Item2))));

    private static readonly Gen<FuzzSignature> AnySignature = Gen.Frequency(
        (3, Gen.Elements(SignatureKind.Valid, SignatureKind.Missing, SignatureKind.Stale, SignatureKind.Future, SignatureKind.WrongSecret,
            SignatureKind.ValidAmongJunk, SignatureKind.OtherBody).Select(k => new FuzzSignature(k))),
        (2, Gen.Elements("", "t=", "v1=", "t=, v1=", "t=abc, v1=def", "garbage", ",,,,", "=,=,=", "t=1, v1=" + new string('0', 64),
            "t=-1, v1=" + new string('a', 64), "t=99999999999999999999999, v1=" + new string('f', 64), "t=1700000000000, v1=" + new string('G', 64),
            "v1=" + new string('0', 64)).Select(raw => new FuzzSignature(SignatureKind.Raw, raw))),
        (1, FuzzGenerators.Text.Select(raw => new FuzzSignature(SignatureKind.Raw, raw))));

    private static readonly Gen<string?> ContentType = Gen.Frequency(
        (3, Gen.Constant<string?>("application/json")),
        (4, Gen.Elements<string?>(null, "application/json; charset=utf-8", "application/json; charset=utf-16", "application/json; charset=nonsense",
            "text/plain", "text/json", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/problem+json",
            "application/merge-patch+json", "application/*", "*/*", "application/json; charset=\"", "application/json; charset=\"utf-16\"",
            "application/json; charset=utf-32", "json", ";;;", "application/xml")),
        (1, FuzzGenerators.Text.Where(t => t.Length < 500).Select(t => (string?)t)));

    private static readonly Gen<IReadOnlyList<(string, string)>> ExtraHeaders =
        Gen.CollectToList(new[]
        {
            Gen.Frequency((3, Gen.Constant<string?>(null)), (3, Gen.Elements<string?>("text/html", "application/xml", "*/*", "application/json",
                "application/problem+json", "image/png", "text/plain; q=1, application/json; q=0", "text/html, application/xhtml+xml", "nonsense/")),
                (1, FuzzGenerators.Text.Where(t => t.Length < 500).Select(t => (string?)t))).Select(v => ("Accept", v)),
            Gen.Frequency((6, Gen.Constant<string?>(null)), (1, Gen.Elements<string?>("utf-32", "nonsense", "*;q=0"))).Select(v => ("Accept-Charset", v)),
            Gen.Frequency((6, Gen.Constant<string?>(null)), (1, Gen.Elements<string?>("gzip", "br", "nonsense"))).Select(v => ("Content-Encoding", v)),
            Gen.Frequency((6, Gen.Constant<string?>(null)), (1, Gen.Elements<string?>("DELETE", "PUT", "garbage"))).Select(v => ("X-HTTP-Method-Override", v)),
            Gen.Frequency((6, Gen.Constant<string?>(null)), (1, FuzzGenerators.Text.Where(t => t.Length < 500).Select(t => (string?)t))).Select(v => ("X-Forwarded-For", v)),
            Gen.Frequency((4, Gen.Constant<string?>(null)), (2, Gen.Elements<string?>("fuzz-key-1", "fuzz-key-2", "", " ", new string('k', 256))),
                (1, FuzzGenerators.Text.Where(t => t.Length < 500).Select(t => (string?)t))).Select(v => ("Idempotency-Key", v)),
        }).Select(IReadOnlyList<(string, string)> (list) => [.. list.Where(h => h.Item2 is not null).Select(h => (h.Item1, h.Item2!))]);

    // ---- execution --------------------------------------------------------------------------------------------------

    private async Task RunAsync(FuzzCase c)
    {
        var world = _world ??= await NewWorldAsync();
        string Fill(string text) => text
            .Replace(P.NewUserId, world.NewUserId.ToString(), StringComparison.Ordinal)
            .Replace(P.NewUserWorkosId, world.NewUser.Sub, StringComparison.Ordinal)
            .Replace(P.OwnerWorkosId, world.Org.Owner.Sub, StringComparison.Ordinal)
            .Replace(P.OwnerEmail, world.Org.Owner.Email, StringComparison.Ordinal)
            .Replace(P.WorkosOrgId, world.WorkosOrgId, StringComparison.Ordinal);

        var url = c.Route;
        foreach (var (name, value) in c.Path) url = url.Replace("{" + name + "}", Resolve(value, world), StringComparison.Ordinal);
        url = Fill(url + c.Query);
        if (!Uri.TryCreate(url, UriKind.Relative, out _)) url = "/" + FuzzGenerators.EscapeSegment(url);

        var authorization = Authorization(c.Auth, c.Route, world);
        if (c.Auth.Kind == AuthKind.WeirdClaims)
        {
            // The first request of a new person creates their local user (DESIGN.md section 5) — a change of its own,
            // so it is made (and checked) first; the case proper then starts from the database as it is after it.
            using var signIn = new HttpRequestMessage(HttpMethod.Get, "/api/membership-requests/mine");
            signIn.Headers.TryAddWithoutValidation("Authorization", authorization);
            await SendAndCheckAsync(signIn, $"sign-in of {c.Auth}", c);
        }

        using var request = new HttpRequestMessage(new HttpMethod(c.Method), url);
        var bytes = c.Body.BytesWith(Fill);
        if (bytes is not null)
        {
            request.Content = new ByteArrayContent(bytes);
            if (c.Body.ContentType is { } contentType) request.Content.Headers.TryAddWithoutValidation("Content-Type", HeaderSafe(contentType));
        }
        if (authorization is not null) request.Headers.TryAddWithoutValidation("Authorization", HeaderSafe(authorization));
        if (Signature(c.Signature, bytes ?? [], c.Route == Actions ? WorkOsActions.Secret : WorkOs.WebhookSecret) is { } signature) request.Headers.TryAddWithoutValidation("WorkOS-Signature", HeaderSafe(signature));
        foreach (var (name, value) in c.Headers)
        {
            if (name.StartsWith("Content-", StringComparison.Ordinal)) request.Content?.Headers.TryAddWithoutValidation(name, HeaderSafe(value));
            else request.Headers.TryAddWithoutValidation(name, HeaderSafe(value));
        }

        var before = await DbState.CaptureAsync(app);
        var beforeOther = await OtherTablesAsync();
        var beforeWorld = await WorldPrintAsync(world);
        var status = await SendAndCheckAsync(request, url, c);
        var after = await DbState.CaptureAsync(app);
        var afterOther = await OtherTablesAsync();

        _seen.GetOrAdd($"{c.Method} {c.Route}", _ => new()).AddOrUpdate(status, 1, (_, n) => n + 1);
        if (status is >= 400 and < 500)
        {
            Assert.True(before == after && beforeOther == afterOther,
                $"Answered {status} but changed the database ({Changes(before, after, beforeOther, afterOther)}): {c}");
        }
        // A success may change the world's rows (a member removed, the plan changed): the next case gets a fresh world.
        if (await WorldPrintAsync(world) != beforeWorld) _world = null;
    }

    /// <summary>Sends; fails on a 5xx, and on a 4xx that is not a problem document with a code.</summary>
    private async Task<int> SendAndCheckAsync(HttpRequestMessage request, string what, FuzzCase c)
    {
        using var response = await _client.SendAsync(request);
        var status = (int)response.StatusCode;
        var body = await response.Content.ReadAsStringAsync();
        var context = $"{request.Method} {FuzzBody.Preview(what, 300)} answered {status} {response.Content.Headers.ContentType} " +
                      $"{FuzzBody.Preview(body, 1000)}{Environment.NewLine}  case: {c}";
        Assert.True(status < 500, "A server error: " + context);
        if (status < 400) return status;

        var defect = ProblemBody.Defect(status, response.Content.Headers.ContentType?.MediaType, body);
        Assert.True(defect is null, $"Answered {defect}: " + context);
        return status;
    }

    private static string Resolve(PathId id, FuzzWorld w) => id.Kind switch
    {
        PathKind.Org => w.Org.Id.ToString(),
        PathKind.WorkosOrg => w.WorkosOrgId,
        PathKind.OrgUpper => w.Org.Id.ToString().ToUpperInvariant(),
        PathKind.OrgBraced => "%7B" + w.Org.Id + "%7D",
        PathKind.ForeignOrg => w.ForeignOrgId.ToString(),
        PathKind.Member => w.Org.MemberMembershipId.ToString(),
        PathKind.Owner => w.Org.OwnerMembershipId.ToString(),
        PathKind.Invitation => w.InvitationId.ToString(),
        PathKind.JoinRequest => w.JoinRequestId.ToString(),
        PathKind.ForeignMembership => w.ForeignMembershipId.ToString(),
        _ => id.Literal,
    };

    /// <summary>Who may call the route, so that the input and not the caller is what gets refused.</summary>
    private static TestUser? NaturalCaller(string route, FuzzWorld w) => route switch
    {
        _ when route.StartsWith("/api/admin/", StringComparison.Ordinal) || route.EndsWith("/plan", StringComparison.Ordinal) => w.Org.PlatformAdmin,
        "/api/membership-requests/{membershipId}/accept" or "/api/membership-requests/{membershipId}" => w.Org.Outsider,
        _ when route.StartsWith("/api/", StringComparison.Ordinal) => w.Org.Owner,
        _ => null,
    };

    private static string? Authorization(FuzzAuth a, string route, FuzzWorld w)
    {
        static string Bearer(TestUser u) => "Bearer " + RosterApp.TokenFor(u);
        static TokenRequest Claims(TestUser u) => new(u.Sub, u.Email, u.Name, u.EmailVerified, u.PlatformAdmin);
        var owner = w.Org.Owner;
        return a.Kind switch
        {
            AuthKind.Natural => NaturalCaller(route, w) is { } natural ? Bearer(natural) : null,
            AuthKind.Owner => Bearer(owner),
            AuthKind.Admin => Bearer(w.Org.Admin),
            AuthKind.Member => Bearer(w.Org.Member),
            AuthKind.Outsider => Bearer(w.Org.Outsider),
            AuthKind.PlatformAdmin => Bearer(w.Org.PlatformAdmin),
            AuthKind.Anonymous => null,
            AuthKind.Raw => a.Raw,
            AuthKind.Expired => "Bearer " + TokenMinter.Mint(TrustedKey, Trusted, Claims(owner), DateTime.UtcNow.AddHours(-13)),
            AuthKind.OtherKey => "Bearer " + TokenMinter.Mint(OtherKey, Trusted, Claims(owner)),
            AuthKind.WrongAudience => "Bearer " + TokenMinter.Mint(TrustedKey, new AuthOptions { Issuer = Trusted.Issuer, Audience = "elsewhere" }, Claims(owner)),
            AuthKind.WrongIssuer => "Bearer " + TokenMinter.Mint(TrustedKey, new AuthOptions { Issuer = "elsewhere", Audience = Trusted.Audience }, Claims(owner)),
            AuthKind.Tampered => "Bearer " + Tamper(TokenMinter.Mint(TrustedKey, Trusted, Claims(owner))),
            AuthKind.AlgNone => "Bearer " + Base64Url("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." +
                                Base64Url($"{{\"sub\":\"{owner.Sub}\",\"email\":\"{owner.Email}\",\"iss\":\"{Trusted.Issuer}\",\"aud\":\"{Trusted.Audience}\",\"exp\":4102444800,\"permissions\":[\"roster:admin\"]}}") + ".",
            AuthKind.LowercaseScheme => "bearer " + RosterApp.TokenFor(owner),
            // A token the trusted key signed, with whatever email and name the identity provider might put in it.
            _ => "Bearer " + TokenMinter.Mint(TrustedKey, Trusted,
                new TokenRequest("user_fuzz_" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(a.Email + "|" + a.Name)))[..16],
                    WellFormed(a.Email.Replace(P.OwnerEmail, owner.Email, StringComparison.Ordinal)), WellFormed(a.Name))),
        };
    }

    /// <summary>Claims are JSON in UTF-8: a lone surrogate cannot travel in one, so it arrives as U+FFFD like from any issuer.</summary>
    private static string WellFormed(string s) => Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(s));

    /// <summary>The payload swapped for one that makes the caller a platform admin, the signature kept.</summary>
    private static string Tamper(string token)
    {
        var parts = token.Split('.');
        var payload = JsonNode.Parse(Base64UrlEncoder.Decode(parts[1]))!.AsObject();
        payload["permissions"] = new JsonArray("roster:admin");
        return $"{parts[0]}.{Base64Url(payload.ToJsonString())}.{parts[2]}";
    }

    private static string Base64Url(string json) => Base64UrlEncoder.Encode(json);

    private static string? Signature(FuzzSignature s, byte[] body, string secret)
    {
        var now = DateTimeOffset.UtcNow;
        string Valid(DateTimeOffset at) => WorkOsSignature.Header(secret, at, body);
        return s.Kind switch
        {
            SignatureKind.Valid => Valid(now),
            SignatureKind.Missing => null,
            SignatureKind.Raw => s.Raw,
            SignatureKind.Stale => Valid(now.AddMinutes(-10)),
            SignatureKind.Future => Valid(now.AddMinutes(10)),
            SignatureKind.WrongSecret => WorkOsSignature.Header("whsec_someone_else", now, body),
            SignatureKind.ValidAmongJunk => $"v1={new string('0', 64)}, {Valid(now)}, v1=zz, v0=abc",
            _ => WorkOsSignature.Header(secret, now, [.. body, (byte)' ']),
        };
    }

    /// <summary>Header values cannot carry line breaks or other controls (the client refuses them before the server sees them).</summary>
    private static string HeaderSafe(string value)
    {
        var safe = new StringBuilder(value.Length);
        foreach (var c in value) safe.Append(c < 0x20 || c == 0x7f || char.IsSurrogate(c) ? '?' : c);
        return safe.ToString();
    }

    // ---- state --------------------------------------------------------------------------------------------------------

    private async Task<FuzzWorld> NewWorldAsync()
    {
        _worldsBuilt++;
        var staffed = await _s.NewStaffedOrg();
        await _s.UserIdOf(staffed.PlatformAdmin);
        var joinRequest = await _s.RequestToJoin(staffed.Id, RosterApp.NewUser("requester"));
        var invitation = await _s.Invite(staffed.Id, staffed.Owner, staffed.Outsider);
        var newUser = RosterApp.NewUser("newcomer");
        var newUserId = await _s.UserIdOf(newUser);
        var foreign = await _s.NewOrg();
        var foreignMembership = await app.WithDbAsync(db => db.Memberships.Where(m => m.OrganizationId == foreign.Id).Select(m => m.Id).SingleAsync());
        var workosOrgId = WorkOs.NewId("org");
        await app.WithDbAsync(db => db.Organizations.Where(o => o.Id == staffed.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(o => o.WorkosOrganizationId, workosOrgId)));
        return new FuzzWorld(staffed, workosOrgId, joinRequest, invitation, newUser, newUserId, foreign.Id, foreignMembership);
    }

    /// <summary>The rows the world's ids stand for: when a case changes them, the next case builds a new world.</summary>
    private Task<string> WorldPrintAsync(FuzzWorld w) => app.WithDbAsync(async db =>
    {
        var orgs = new[] { w.Org.Id, w.ForeignOrgId };
        var organizations = await db.Organizations.AsNoTracking().Where(o => orgs.Contains(o.Id))
            .Select(o => new { o.Id, o.Plan, o.DeletedAt, o.WorkosOrganizationId }).OrderBy(o => o.Id).ToListAsync();
        var memberships = await db.Memberships.AsNoTracking().Where(m => orgs.Contains(m.OrganizationId))
            .Select(m => new { m.Id, m.Role, m.Status, m.SeatType, m.DeletedAt }).OrderBy(m => m.Id).ToListAsync();
        return JsonSerializer.Serialize(new { organizations, memberships });
    });

    /// <summary>Row counts of the tables <see cref="DbState"/> leaves out but a webhook could write.</summary>
    private sealed record OtherTables(int WebhookEvents, int Reservations, int Refusals, int Outbox, int RoleAssignments, int GlobalRoles, int OrganizationRoles);

    private Task<OtherTables> OtherTablesAsync() => app.WithDbAsync(async db => new OtherTables(
        await db.WebhookEvents.CountAsync(), await db.SeatReservations.CountAsync(), await db.MembershipRefusals.CountAsync(),
        await db.NotificationOutbox.CountAsync(), await db.RoleAssignments.CountAsync(), await db.GlobalRoles.CountAsync(),
        await db.OrganizationRoles.CountAsync()));

    private static string Changes(DbState.Snapshot before, DbState.Snapshot after, OtherTables beforeOther, OtherTables afterOther) =>
        $"organizations {before.Organizations}→{after.Organizations}, memberships {before.Memberships}→{after.Memberships}, " +
        $"users {before.Users}→{after.Users}, audit events {before.AuditEvents}→{after.AuditEvents}" +
        (before.Rows == after.Rows ? "" : " (row contents differ)") + $"; other tables {beforeOther} → {afterOther}";

    private void Report()
    {
        output.WriteLine($"{_worldsBuilt} worlds built; answers per route:");
        foreach (var (route, statuses) in _seen.OrderBy(s => s.Key, StringComparer.Ordinal))
            output.WriteLine($"  {route}: {string.Join(" ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}"))}");
    }
}

public sealed class FuzzTestsOnSqlite(SqliteApp app, ITestOutputHelper output) : FuzzTests(app, output), IClassFixture<SqliteApp>;

public sealed class FuzzTestsOnPostgres(PostgresApp app, ITestOutputHelper output) : FuzzTests(app, output), IClassFixture<PostgresApp>;
