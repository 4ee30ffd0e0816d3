using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;

namespace Roster.Tests.Reliability;

/// <summary>
/// Generators of hostile input: strings (unicode edge cases, NUL, lone surrogates, RTL marks, ~100 KB), JSON values of
/// every type, objects shaped like a request body with fields missing, null, mistyped or garbled, deeply nested arrays,
/// raw bytes that are not UTF-8, path ids and query strings. Values that depend on the running world (a real user id,
/// the organization's WorkOS id) are placeholders (<see cref="Placeholders"/>) filled in when a case runs, so a seed
/// generates the same cases every time.
/// </summary>
public static class FuzzGenerators
{
    /// <summary>Placeholders a generated body, URL or header may carry; the fuzz test replaces them with the world's values.</summary>
    public static class Placeholders
    {
        public const string NewUserId = "__NEW_USER_ID__";
        public const string NewUserWorkosId = "__NEW_USER_WORKOS_ID__";
        public const string OwnerWorkosId = "__OWNER_WORKOS_ID__";
        public const string OwnerEmail = "__OWNER_EMAIL__";
        public const string WorkosOrgId = "__WORKOS_ORG_ID__";
    }

    public static readonly string[] NastyStrings =
    [
        "", " ", "   ", "\t", "\r\n", "\u0000", "a\u0000b", "\u0000\u0000\u0000",
        "\ud800", "\udfff", "x\ud83d", "\ude00y", "\ud83d\ude00", "👍🏽", "👨‍👩‍👧‍👦",
        "\u202eevil\u202c", "\u200f\u05e9\u05dc\u05d5\u05dd", "مرحبا", "中文名字", "e\u0301\u0301\u0301", "\u200b", "\ufeff", "\uffff", "\ufffe",
        "\u2028\u2029", "\u0085", "\u00a0", "İ", "ß", "ǅ",
        "null", "true", "0", "-1", "1e309", "NaN", "Infinity", "[]", "{}", "'", "\"", "\\", "/", "\\u0000",
        "%00", "%2F", "../../etc/passwd", "<script>alert(1)</script>", "' OR '1'='1' --", "\"; DROP TABLE memberships; --",
        "${jndi:ldap://x/a}", "{{7*7}}", "owner", "OWNER", "Owner", "admin ", " member", "org_", "user_", "om_", "event_",
        "org_01KMD54G2B6NCWFCPSMK23NYGC", "user_01", "00000000-0000-0000-0000-000000000000",
        "a@b", "@", "a@", "@b", "Owner@Example.COM ", "x@y.z\u0000", "\u0130@example.com",
        Placeholders.NewUserId, Placeholders.NewUserWorkosId, Placeholders.OwnerEmail, Placeholders.WorkosOrgId,
        new string('n', 200), new string('n', 201), new string('r', 64), new string('r', 65), new string('u', 100), new string('u', 101),
    ];

    private static readonly char[] UnicodePieces =
    [
        '\u0000', '\u0001', '\u001f', '\u007f', '\u202e', '\u200f', '\u200b', '\ufeff', '\ud800', '\udbff', '\udc00', '\udfff',
        '\u0301', 'ש', '中', '\uffff', 'é', '\n', '"', '\\', '/', '%', '\'', '<', '&', ' ',
    ];

    private static Gen<string> StringOf(Gen<char> chars, int maxLength) =>
        Gen.Choose(0, maxLength).SelectMany(n => Gen.ArrayOf(chars, n)).Select(a => new string(a));

    public static readonly Gen<string> Alnum =
        StringOf(Gen.Elements("abcdefghijklmnopqrstuvwxyz0123456789".ToCharArray()), 12).Select(s => s.Length == 0 ? "x" : s);

    /// <summary>About 100 KB of one repeated piece: ASCII, accents, emoji (surrogate pairs), NUL, RTL, backslashes.</summary>
    public static readonly Gen<string> Huge =
        Gen.Zip(Gen.Choose(90_000, 110_000), Gen.Elements("a", "é", "😀", "\u0000", "ש\u202e", "\\", "\ud800"))
            .Select(t => Repeat(t.Item2, t.Item1));

    /// <summary>Hand-picked nasties, printable ASCII, any UTF-16 code unit (controls and lone surrogates too).</summary>
    public static readonly Gen<string> ShortText = Gen.Frequency(
        (4, Gen.Elements(NastyStrings)),
        (3, StringOf(Gen.Choose(0x20, 0x7e).Select(i => (char)i), 40)),
        (2, StringOf(Gen.Choose(0, 0xffff).Select(i => (char)i), 30)),
        (2, StringOf(Gen.Elements(UnicodePieces), 24)));

    /// <summary>Any string: <see cref="ShortText"/> or, now and then, <see cref="Huge"/>.</summary>
    public static readonly Gen<string> Text = Gen.Frequency((11, ShortText), (1, Huge));

    /// <summary>A JSON string literal. Controls and lone surrogates are written as \u escapes (valid JSON text, invalid UTF-16 once read).</summary>
    public static string Quote(string s)
    {
        var json = new StringBuilder(s.Length + 2).Append('"');
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c == '"') json.Append("\\\"");
            else if (c == '\\') json.Append("\\\\");
            else if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) json.Append(c).Append(s[++i]);
            else if (c < 0x20 || char.IsSurrogate(c)) json.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            else json.Append(c);
        }
        return json.Append('"').ToString();
    }

    private static readonly Gen<string> Numbers = Gen.Elements(
        "0", "-0", "1", "-1", "1.5", "1e309", "-1e309", "123456789012345678901234567890", "1e-400", "2147483648", "-2147483649",
        "9223372036854775808", "1E2", "0.1e1", "3.14159265358979323846264338327950288");

    private static readonly Gen<string> Scalar = Gen.Frequency(
        (1, Gen.Constant("null")),
        (1, Gen.Elements("true", "false")),
        (2, Numbers),
        (4, Text.Select(Quote)));

    private static Gen<string> JsonOfDepth(int depth)
    {
        if (depth <= 0) return Scalar;
        var child = JsonOfDepth(depth - 1);
        var key = Gen.Frequency((2, Gen.Elements("name", "userId", "role", "seatType", "plan", "id", "event", "data", "status")), (1, Text));
        return Gen.Frequency(
            (3, Scalar),
            (1, Gen.Choose(0, 4).SelectMany(n => Gen.ArrayOf(child, n)).Select(items => "[" + string.Join(",", items) + "]")),
            (1, Gen.Choose(0, 4).SelectMany(n => Gen.ArrayOf(Gen.Zip(key, child), n))
                .Select(props => "{" + string.Join(",", props.Select(p => Quote(p.Item1) + ":" + p.Item2)) + "}")));
    }

    /// <summary>Any JSON value (depth grows with FsCheck's size, up to 4).</summary>
    public static readonly Gen<string> AnyJson = Gen.Sized(size => JsonOfDepth(Math.Min(4, size / 20)));

    /// <summary>Arrays nested up to thousands deep, balanced or not, bare or as a field.</summary>
    public static readonly Gen<string> DeeplyNested =
        Gen.Zip(Gen.Choose(1, 5000), Gen.Elements("bare", "unbalanced", "field", "objects"))
            .Select(t => t.Item2 switch
            {
                "bare" => new string('[', t.Item1) + new string(']', t.Item1),
                "unbalanced" => new string('[', t.Item1) + new string(']', t.Item1 / 2),
                "field" => "{\"name\":" + new string('[', t.Item1) + new string(']', t.Item1) + "}",
                _ => Repeat("{\"a\":", t.Item1 * 5) + "1" + new string('}', t.Item1),
            });

    private static readonly Gen<string> WrongType = Gen.Elements(
        "0", "123", "-1.5", "1e309", "true", "false", "[]", "{}", "[\"member\"]", "{\"slug\":\"admin\"}", "[null]", "\"\"",
        "\"2026-13-45T99:99:99Z\"", "\"yesterday\"", "1700000000000");

    /// <summary>One field of a body: its name and the (JSON) values it normally takes.</summary>
    public sealed record Field(string Name, Gen<string> Valid);

    public static Field Of(string name, params string[] valid) => new(name, Gen.Elements(valid).Select(Quote));

    /// <summary>A field's value gone wrong (JSON text), or null when the field is left out.</summary>
    private static readonly Gen<string?> BadValue = Gen.Frequency(
        (2, Gen.Constant((string?)null)),
        (1, Gen.Constant((string?)"null")),
        (2, WrongType.Select(v => (string?)v)),
        (3, ShortText.Select(t => (string?)Quote(t))),
        (1, Huge.Select(t => (string?)Quote(t))),
        (1, AnyJson.Select(v => (string?)v)));

    /// <summary>
    /// An object with the body's fields: a valid one with none, one or two fields broken (missing, null, mistyped,
    /// garbled, huge), or with every field broken; sometimes an extra or repeated key. Mostly-valid bodies get past the
    /// shape checks, so the handlers behind them are fuzzed too.
    /// </summary>
    public static Gen<string> Shaped(params Field[] fields) => ShapedWith(
        Gen.Frequency((2, Gen.Constant(0)), (3, Gen.Constant(1)), (2, Gen.Constant(2)), (1, Gen.Constant(fields.Length))), fields);

    /// <summary><see cref="Shaped"/> with <paramref name="brokenCount"/> fields broken.</summary>
    public static Gen<string> ShapedWith(Gen<int> brokenCount, params Field[] fields)
    {
        var broken = brokenCount.SelectMany(n => Gen.Shuffle(Enumerable.Range(0, fields.Length).ToArray()).Select(order => order.Take(n).ToHashSet()));
        var values = broken.SelectMany(which => Gen.CollectToList(fields.Select((f, i) => which.Contains(i) ? BadValue : f.Valid.Select(v => (string?)v))));
        var extra = Gen.Frequency(
            (6, Gen.Constant("")),
            (1, AnyJson.Select(v => "\"unexpected\":" + v)),
            (1, Gen.Constant(fields.Length == 0 ? "" : $"\"{fields[0].Name}\":null")),
            (1, Gen.Constant(fields.Length == 0 ? "" : $"\"{fields[0].Name.ToUpperInvariant()}\":\"UPPER\"")));
        return Gen.Zip(values, extra).Select(t =>
        {
            var members = fields.Zip(t.Item1).Where(p => p.Second is not null).Select(p => Quote(p.First.Name) + ":" + p.Second).ToList();
            if (t.Item2.Length > 0) members.Add(t.Item2);
            return "{" + string.Join(",", members) + "}";
        });
    }

    /// <summary>Times as WorkOS writes them, and the extremes of the range (broken ones come from <see cref="BadValue"/>).</summary>
    private static readonly Gen<string> IsoTime = Gen.Elements("2026-11-01T10:00:00.000Z", "2030-01-01T00:00:00Z", "2001-01-01T00:00:00.000Z",
        "2026-11-01T10:00:00+14:00", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.9999999Z", "1970-01-01").Select(Quote);

    private static Gen<string> Prefixed(string prefix) => Alnum.Select(a => prefix + "fuzz_" + a);

    private static Field Id(string name, string prefix, params string[] known) =>
        new(name, Gen.Frequency((3, Prefixed(prefix)), (1, Gen.Elements(known.DefaultIfEmpty(prefix + "fuzz").ToArray()))).Select(Quote));

    private static readonly Field Updated = new("updated_at", IsoTime);
    private static readonly Field Created = new("created_at", IsoTime);

    private static readonly string[] EventTypes =
    [
        "organization_membership.created", "organization_membership.updated", "organization_membership.deleted",
        "user.created", "user.updated", "user.deleted", "organization.created", "organization.updated", "organization.deleted",
        "invitation.created", "invitation.accepted", "invitation.revoked", "invitation.resent", "invitation.expired",
        "role.created", "role.updated", "role.deleted", "organization_role.created", "organization_role.updated",
        "organization_role.deleted", "dsync.user.created", "connection.activated",
    ];

    private static Gen<string> DataFor(string type)
    {
        var family = type.Contains('.', StringComparison.Ordinal) ? type[..type.LastIndexOf('.')] : type;
        var orgId = Id("organization_id", "org_", Placeholders.WorkosOrgId);
        var userId = Id("user_id", "user_", Placeholders.NewUserWorkosId, Placeholders.OwnerWorkosId);
        return family switch
        {
            "organization_membership" => Shaped(Id("id", "om_"), userId, orgId, Of("organization_name", "Acme", ""), Of("status", "active", "inactive", "pending"),
                new Field("role", Gen.Elements("member", "admin", "owner", "billing", "").Select(s => "{\"slug\":" + Quote(s) + "}")),
                new Field("roles", Gen.Elements("member", "owner", "billing").Select(s => "[{\"slug\":" + Quote(s) + "}]")), Created, Updated),
            "organization" => Shaped(Id("id", "org_", Placeholders.WorkosOrgId), Of("name", "Acme", "Fuzz Inc"), new Field("domains", Gen.Constant("[]")), Created, Updated),
            "user" => Shaped(Id("id", "user_", Placeholders.NewUserWorkosId, Placeholders.OwnerWorkosId),
                Of("email", "fuzz@example.com", Placeholders.OwnerEmail), new Field("email_verified", Gen.Elements("true", "false")),
                Of("first_name", "Fuzz"), Of("last_name", "Er"), Created, Updated),
            "invitation" => Shaped(Id("id", "invitation_"), Of("email", "invitee@example.com", Placeholders.OwnerEmail), Of("state", "pending", "accepted", "revoked"),
                new Field("expires_at", IsoTime), orgId, Id("accepted_user_id", "user_", Placeholders.NewUserWorkosId), Of("role_slug", "member"), Created, Updated),
            "role" or "organization_role" => Shaped(Of("slug", "member", "org-fuzz", "admin"), Of("name", "Fuzz role"),
                new Field("permissions", Gen.Elements("[]", "[\"read\"]", "[1]")), orgId, Created, Updated),
            _ => AnyJson,
        };
    }

    /// <summary>A WorkOS event envelope: a known or unknown type and data of (roughly) its shape, any part of it missing or garbled.</summary>
    public static readonly Gen<string> WebhookEnvelope = Envelope(envelopeBroken: null);

    /// <summary>A well-formed envelope whose data has none, one, two or all of its fields broken: what gets past parsing to the handlers.</summary>
    public static readonly Gen<string> WebhookEnvelopeWithBadData = Envelope(envelopeBroken: Gen.Constant(0));

    private static Gen<string> Envelope(Gen<int>? envelopeBroken) =>
        Gen.Elements(EventTypes).SelectMany(type =>
        {
            Field[] fields =
            [
                Id("id", "event_"),
                new Field("event", Gen.Frequency((5, Gen.Constant(type)), (1, Gen.Elements(EventTypes))).Select(Quote)),
                new Field("data", DataFor(type)),
                Created,
            ];
            return envelopeBroken is null ? Shaped(fields) : ShapedWith(envelopeBroken, fields);
        });

    private static readonly string[] ActionObjects = ["authentication_action_context", "user_registration_action_context", "something_else_context"];

    /// <summary>A WorkOS action context (sign-in or sign-up), any part of it missing or garbled.</summary>
    public static readonly Gen<string> ActionContext = ActionContextOf(topBroken: null);

    /// <summary>A context whose top-level fields are all there (its nested objects still garbled): what gets past parsing to the gate.</summary>
    public static readonly Gen<string> ActionContextWithBadData = ActionContextOf(topBroken: Gen.Constant(0));

    private static Gen<string> ActionContextOf(Gen<int>? topBroken) =>
        Gen.Elements(ActionObjects).SelectMany(obj =>
        {
            var email = Of("email", "fuzz@example.com", Placeholders.OwnerEmail);
            Field[] fields =
            [
                Id("id", "action_"),
                new Field("object", Gen.Frequency((5, Gen.Constant(obj)), (1, Gen.Elements(ActionObjects))).Select(Quote)),
                new Field("user", Shaped(Id("id", "user_", Placeholders.NewUserWorkosId, Placeholders.OwnerWorkosId), email, Of("first_name", "Fuzz"), Of("name", "Fuzz Er"))),
                new Field("organization", Shaped(Id("id", "org_", Placeholders.WorkosOrgId), Of("name", "Acme", ""))),
                new Field("organization_membership", Shaped(Id("id", "om_"), Id("user_id", "user_", Placeholders.NewUserWorkosId),
                    Of("status", "active", "inactive", "pending"),
                    new Field("role", Gen.Elements("member", "admin", "owner", "").Select(r => "{\"slug\":" + Quote(r) + "}")), Created, Updated)),
                new Field("user_data", Shaped(email, Of("first_name", "Fuzz"), Of("last_name", "Er"))),
                new Field("invitation", Shaped(Id("id", "invitation_"), Id("organization_id", "org_", Placeholders.WorkosOrgId), email,
                    new Field("expires_at", IsoTime))),
            ];
            return topBroken is null ? Shaped(fields) : ShapedWith(topBroken, fields);
        });

    /// <summary>The fields a route's body has (null: the route takes no body; anything is sent anyway).</summary>
    public static Gen<string> ShapedBodyFor(string method, string route) => (method, route) switch
    {
        ("POST", "/api/organizations") => Shaped(Of("name", "Fuzz org", "Ünïcødé 中文 org")),
        ("POST", "/api/organizations/{orgId}/members") => Shaped(
            Of("userId", Placeholders.NewUserId, Placeholders.NewUserWorkosId), Of("role", "member", "admin", "owner", "billing"),
            Of("seatType", "contributor", "community_only")),
        ("PATCH", "/api/organizations/{orgId}/members/{membershipId}") => Shaped(Of("role", "member", "admin", "owner", "billing"),
            Of("seatType", "contributor", "community_only")),
        ("PUT", "/api/organizations/{orgId}/requests/{membershipId}/approve") => Shaped(Of("seatType", "contributor", "community_only")),
        ("PUT", "/api/organizations/{orgId}/plan") => Shaped(Of("plan", "company_icl", "company_leader", "free")),
        ("PATCH", "/api/organizations/{orgId}") => Shaped(Of("name", "Renamed by the fuzzer", "Ünïcødé 中文 org")),
        ("POST", "/webhooks/workos") => WebhookEnvelope,
        ("POST", "/webhooks/workos/actions") => ActionContext,
        _ => Gen.Frequency((1, Shaped()), (2, AnyJson)),
    };

    /// <summary>A request body: none, empty, any JSON, the route's shape garbled, huge, deeply nested, or bytes that are not UTF-8 JSON.</summary>
    public static Gen<FuzzBody> BodyFor(string method, string route)
    {
        var shaped = ShapedBodyFor(method, route);
        return Gen.Frequency(
            (1, Gen.Constant(FuzzBody.None)),
            (1, Gen.Constant(FuzzBody.Json("empty", ""))),
            (3, AnyJson.Select(j => FuzzBody.Json("any JSON", j))),
            (8, shaped.Select(j => FuzzBody.Json("shaped", j))),
            (1, Huge.Select(h => FuzzBody.Json("huge string", Quote(h)))),
            (1, DeeplyNested.Select(j => FuzzBody.Json("deeply nested", j))),
            (1, shaped.SelectMany(j => Gen.Choose(0, Math.Max(0, j.Length - 1)).Select(n => FuzzBody.Json("truncated", j[..n])))),
            (1, shaped.SelectMany(j => Gen.Elements("utf-16", "bom", "latin1", "nul-bytes", "invalid-utf8").Select(how => FuzzBody.Encoded(how, j)))),
            (1, Gen.Choose(1, 4096).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), n))
                .Select(bytes => new FuzzBody("random bytes", null, bytes, "application/json"))));
    }

    /// <summary>Path values: the real ids (resolved when the case runs) or literals that are not (escaped, encoded slashes, empty, huge).</summary>
    public static readonly Gen<PathId> OrgId = Gen.Frequency(
        (6, Gen.Elements(PathKind.Org, PathKind.WorkosOrg).Select(k => new PathId(k))),
        (1, Gen.Elements(PathKind.OrgUpper, PathKind.OrgBraced, PathKind.ForeignOrg).Select(k => new PathId(k))),
        (3, PathLiteral()));

    public static readonly Gen<PathId> MembershipId = Gen.Frequency(
        (6, Gen.Elements(PathKind.Member, PathKind.Owner, PathKind.Invitation, PathKind.JoinRequest, PathKind.ForeignMembership).Select(k => new PathId(k))),
        (3, PathLiteral()));

    public static readonly Gen<PathId> AnyPathValue = Gen.Frequency((1, Gen.Constant(new PathId(PathKind.Literal, "v1"))), (2, PathLiteral()));

    private static Gen<PathId> PathLiteral() => Gen.Frequency(
        (3, Text.Where(t => t.Length < 2000).Select(EscapeSegment)),
        (3, Gen.Elements("", "%2F", "a%2Fb", "%2f..%2f", "..", ".", "%2E%2E", "%",  "%ZZ", "%C0%AF", "%FF", "%EF%BB%BF", "org_", "org_%2F..",
            "null", "undefined", "0", "-1", "00000000-0000-0000-0000-000000000000", "%7B00000000-0000-0000-0000-000000000000%7D", "%20", "+", "%2B",
            "a;b=c", "*", "%5C", "~", "%E2%80%AE", "%D8%2500", "org_%2500", "%2500", "user_fuzz")),
        (1, Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), 16).Select(b => new Guid(b).ToString())),
        (1, Alnum.Select(a => "org_" + a)),
        (1, Gen.Choose(1000, 10_000).Select(n => new string('a', n))))
        .Select(s => new PathId(PathKind.Literal, s));

    /// <summary>
    /// Percent-encodes a string as a path segment (lone surrogates become U+FFFD on the way to UTF-8, as any client would send
    /// them). A NUL goes as the text "%00": Kestrel refuses an encoded NUL in a path with its own 400 before the app runs, and
    /// the in-memory test server throws on one, so it could only ever test the test host.
    /// </summary>
    public static string EscapeSegment(string s)
    {
        var bytes = new UTF8Encoding(false, false).GetBytes(s);
        var escaped = new StringBuilder(bytes.Length * 3);
        foreach (var b in bytes)
        {
            if (b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or >= (byte)'0' and <= (byte)'9' or (byte)'-' or (byte)'_' or (byte)'.' or (byte)'~')
                escaped.Append((char)b);
            else if (b == 0) escaped.Append("%2500");
            else escaped.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
        }
        return escaped.ToString();
    }

    public static readonly Gen<string> Query = Gen.Frequency(
        (4, Gen.Constant("")),
        (3, Gen.Zip(Gen.Elements("email", "status", "Email", "email[]", "limit", "after", "action", "role", "seatType", "membershipId", "userId"),
            Gen.Frequency(
                (2, Gen.Elements("pending", "sent", "failed", "PENDING", Placeholders.OwnerEmail, "nobody@example.com", "active", "add", "join",
                    "0", "1", "500", "501", "-1", "1e3", "MTIzOjQ1Ng", "AAAA", "=", "WyJtZW1iZXJzIiwiMSIsIjIiXQ", Placeholders.NewUserId)),
                (3, Text.Where(t => t.Length < 3000))))
            .Select(t => "?" + EscapeSegment(t.Item1) + "=" + EscapeSegment(t.Item2))),
        (1, Gen.Zip(Text.Where(t => t.Length < 200), Text.Where(t => t.Length < 200)).Select(t => "?" + EscapeSegment(t.Item1) + "=" + EscapeSegment(t.Item2))),
        (1, Gen.Elements("?", "?&&==", "?email", "?email=", "?email=a%40b.c&email=x%40y.z", "?status=sent&status=failed", "?%00=%00", "?email=%ZZ",
            "?email=" + new string('e', 5000) + "%40x.io")));

    private static string Repeat(string piece, int length)
    {
        var text = new StringBuilder(length + piece.Length);
        while (text.Length < length) text.Append(piece);
        return text.ToString();
    }
}

public enum PathKind { Org, WorkosOrg, OrgUpper, OrgBraced, ForeignOrg, Member, Owner, Invitation, JoinRequest, ForeignMembership, Literal }

/// <summary>What goes in a path parameter: one of the world's real ids, or <see cref="Literal"/> URL text.</summary>
public sealed record PathId(PathKind Kind, string Literal = "")
{
    public override string ToString() => Kind == PathKind.Literal ? $"'{FuzzBody.Preview(Literal, 80)}'" : Kind.ToString();
}

/// <summary>A request body as bytes with its Content-Type (both may be absent).</summary>
public sealed record FuzzBody(string Kind, string? Text, byte[]? Bytes, string? ContentType)
{
    public static readonly FuzzBody None = new("none", null, null, null);

    public static FuzzBody Json(string kind, string json) => new(kind, json, null, "application/json");

    /// <summary>JSON text turned into bytes that are not plain UTF-8 JSON.</summary>
    public static FuzzBody Encoded(string how, string json) => how switch
    {
        "utf-16" => new(how, null, Encoding.Unicode.GetBytes(json), "application/json"),
        "bom" => new(how, null, [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(json)], "application/json"),
        "latin1" => new(how, null, Encoding.Latin1.GetBytes(json.Replace("\"", "\"é", StringComparison.Ordinal)), "application/json; charset=iso-8859-1"),
        "nul-bytes" => new(how, null, [.. Encoding.UTF8.GetBytes(json), 0, 0, 0], "application/json"),
        _ => new(how, null, [.. Encoding.UTF8.GetBytes(json.Length > 2 ? json[..2] : json), 0xC3, 0x28, 0xFF, 0xFE, 0xED, 0xA0, 0x80, .. Encoding.UTF8.GetBytes("\"}")], "application/json"),
    };

    public FuzzBody WithContentType(string? contentType) => this with { ContentType = contentType };

    public byte[]? BytesWith(Func<string, string> fill) => Text is not null ? new UTF8Encoding(false, false).GetBytes(fill(Text)) : Bytes;

    public override string ToString()
    {
        if (Text is null && Bytes is null) return "no body";
        var length = Text?.Length ?? Bytes!.Length;
        var preview = Text is not null ? Preview(Text, 300) : Convert.ToHexString(Bytes!.AsSpan(0, Math.Min(64, Bytes!.Length)));
        return $"{Kind} body ({length} {(Text is null ? "bytes" : "chars")}, Content-Type {ContentType ?? "none"}): {preview}";
    }

    public static string Preview(string text, int max)
    {
        var shown = text.Length <= max ? text : text[..max] + $"…(+{text.Length - max})";
        var visible = new StringBuilder(shown.Length);
        foreach (var c in shown) visible.Append(c < 0x20 || char.IsSurrogate(c) ? $"\\u{(int)c:x4}" : c.ToString());
        return visible.ToString();
    }
}
