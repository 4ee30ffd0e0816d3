using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Roster.Tests.Support;

namespace Roster.Tests.Features;

/// <summary>The ids a bad-input case can point at.</summary>
public sealed record BadInputState(Staffed Org, Guid JoinRequestId, Guid InvitationId, Guid NewUserId, Guid ForeignMembershipId)
{
    public Guid OrgId => Org.Id;
}

/// <summary>One bad request and the exact problem it must get.</summary>
/// <param name="Body">Raw body; null sends no body at all.</param>
/// <param name="ErrorKey">For FluentValidation failures: the key the <c>errors</c> map must carry.</param>
/// <param name="Route">The route pattern the case feeds (as the route table names it); the URL may deliberately miss it.</param>
public sealed record BadCase(string Name, Who As, string Method, string Route, Func<BadInputState, string> Url, string? Body, string ContentType,
    int Status, string Code, string? ErrorKey = null);

/// <summary>
/// Every endpoint that takes a body, query or route parameters, fed malformed, mistyped, empty, wrongly typed-as or
/// unknown input: always a 4xx problem with a code (never a 500), and the database exactly as it was.
/// </summary>
public abstract class BadInputTests(RosterApp app)
{
    private const string Json = "application/json";
    private const string Org = "/api/organizations";
    private static readonly string Unknown = Guid.NewGuid().ToString();

    private readonly Scenario _s = new(app);

    public static readonly IReadOnlyList<BadCase> Cases = BuildCases();

    public static TheoryData<string> CaseNames => [.. Cases.Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task IsRejectedWithAProblemAndChangesNothing(string name)
    {
        var bad = Cases.Single(c => c.Name == name);
        // Every case must leave the database as it was, so the cases share one state per fixture; should a case ever
        // change it, the state is dropped and the next case builds its own.
        var state = await Shared.GetAsync(States, app, NewStateAsync);
        var caller = bad.As switch
        {
            Who.Owner => state.Org.Owner,
            Who.Admin => state.Org.Admin,
            Who.Member => state.Org.Member,
            Who.Outsider => state.Org.Outsider,
            Who.PlatformAdmin => state.Org.PlatformAdmin,
            _ => null,
        };
        var before = await DbState.CaptureAsync(app);

        using var request = new HttpRequestMessage(new HttpMethod(bad.Method), bad.Url(state));
        if (bad.Body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(bad.Body.Replace("NEW_USER_ID", state.NewUserId.ToString(), StringComparison.Ordinal)));
            request.Content.Headers.TryAddWithoutValidation("Content-Type", bad.ContentType);
        }
        using var response = await _s.As(caller).SendAsync(request);
        var after = await DbState.CaptureAsync(app);
        if (before != after) States.TryRemove(app, out _);

        var problem = await response.ShouldBeProblem((HttpStatusCode)bad.Status, bad.Code);
        if (bad.Status == 400)
        {
            // DESIGN.md section 5: "400 = malformed or invalid (`errors` map)"; a validator's failure names the field.
            var errors = problem["errors"] as System.Text.Json.Nodes.JsonObject;
            Assert.True(errors is not null && errors.Count > 0 && errors.All(e => e.Value is System.Text.Json.Nodes.JsonArray { Count: > 0 }),
                $"Expected a non-empty errors map: {problem.ToJsonString()}");
            if (bad.ErrorKey is not null)
                Assert.True(errors.ContainsKey(bad.ErrorKey), $"Expected the errors map to name '{bad.ErrorKey}': {problem.ToJsonString()}");
        }
        // Problems help the caller and reveal nothing internal: no .NET type or parameter names.
        foreach (var internalName in new[] { "Roster.", "System.", "Microsoft.", "Did you mean" })
            Assert.DoesNotContain(internalName, problem.ToJsonString(), StringComparison.Ordinal);
        DbState.AssertUnchanged(before, after);
    }

    [Fact]
    public void EveryEndpointWithParametersOrABodyHasBadInputCases()
    {
        // Routes with a {parameter}, and every route that reads a body, must be fed bad input here. (A POST that takes
        // neither, such as retry-failed, has no input to get wrong.)
        var needing = app.Services.GetRequiredService<Microsoft.AspNetCore.Routing.EndpointDataSource>().Endpoints
            .OfType<Microsoft.AspNetCore.Routing.RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>() is not null
                        || (e.RoutePattern.RawText ?? "").Contains('{', StringComparison.Ordinal))
            .SelectMany(e => (e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.IHttpMethodMetadata>()?.HttpMethods ?? ["*"])
                .Select(method => (Method: method, Route: RouteTable.Normalize(e.RoutePattern.RawText ?? "?"))))
            .Where(e => e.Route.StartsWith("/api/", StringComparison.Ordinal))
            .ToList();
        var covered = Cases.Select(c => (c.Method, c.Route)).ToHashSet();
        var missing = needing.Where(e => !covered.Contains(e)).ToList();
        Assert.True(missing.Count == 0, "No bad-input case for: " + string.Join(", ", missing.Select(m => $"{m.Method} {m.Route}")));

        var mapped = RouteTable.Of(app);
        var unmapped = covered.Where(c => !mapped.Contains(c)).ToList();
        Assert.True(unmapped.Count == 0, "Bad-input cases name routes that are not mapped: " + string.Join(", ", unmapped.Select(m => $"{m.Method} {m.Route}")));
        Assert.Equal(Cases.Count, Cases.Select(c => c.Name).Distinct().Count());
    }

    private static readonly ConcurrentDictionary<RosterApp, Lazy<Task<BadInputState>>> States = new();

    private async Task<BadInputState> NewStateAsync()
    {
        var staffed = await _s.NewStaffedOrg();
        await _s.UserIdOf(staffed.PlatformAdmin);
        var joinRequest = await _s.RequestToJoin(staffed.Id, RosterApp.NewUser("requester"));
        var invitation = await _s.Invite(staffed.Id, staffed.Owner, staffed.Outsider);
        var newUser = await _s.UserIdOf(RosterApp.NewUser("newcomer"));
        var foreign = await _s.NewOrg();
        var foreignMembership = await app.WithDbAsync(db => db.Memberships.Where(m => m.OrganizationId == foreign.Id).Select(m => m.Id).SingleAsync());
        return new BadInputState(staffed, joinRequest, invitation, newUser, foreignMembership);
    }

    private static List<BadCase> BuildCases()
    {
        var cases = new List<BadCase>();
        // Each block below names the endpoint it feeds, and who calls it (someone allowed to, so that only the input is wrong).
        var (who, method, route) = (Who.Owner, "", "");
        void Endpoint(Who caller, string m, string r) => (who, method, route) = (caller, m, r);
        void Add(string name, Func<BadInputState, string> url, string? body, int status, string code, string? errorKey = null,
            string contentType = Json) =>
            cases.Add(new BadCase($"{method} {route}: {name}", who, method, route, url, body, contentType, status, code, errorKey));

        // Body-shape failures every JSON endpoint shares: caught by the JSON reader or the media-type check, not a validator.
        void Malformed(Func<BadInputState, string> url, string validBody, string wrongTypeBody, string wrongTypeField)
        {
            Add("malformed JSON", url, validBody[..^1], 400, "validation_failed");
            Add("trailing comma", url, validBody[..^1] + ",}", 400, "validation_failed");
            Add($"wrong JSON type {wrongTypeBody}", url, wrongTypeBody, 400, "validation_failed", wrongTypeField);
            Add("body is a JSON array", url, "[]", 400, "validation_failed", "body");
            Add("body is a bare string", url, "\"hello\"", 400, "validation_failed", "body");
            Add("text/plain", url, validBody, 415, "unsupported_media_type", contentType: "text/plain");
            Add("form-encoded", url, "a=b", 415, "unsupported_media_type", contentType: "application/x-www-form-urlencoded");
            // The JSON reader throws for a charset it does not know (it was a 500; found by Reliability/FuzzTests).
            Add("unknown charset", url, validBody, 415, "unsupported_media_type", contentType: "application/json; charset=nonsense");
            Add("quoted non-UTF-8 charset", url, validBody, 415, "unsupported_media_type", contentType: "application/json; charset=\"utf-16\"");
        }

        Endpoint(Who.Owner, "POST", "/api/organizations");
        Func<BadInputState, string> create = _ => Org;
        Malformed(create, """{"name":"Acme"}""", """{"name":[]}""", "name");
        Add("name is a number", create, """{"name":123}""", 400, "validation_failed", "name");
        Add("empty body", create, "", 400, "validation_failed", "body");
        Add("no body", create, null, 400, "validation_failed", "body");
        Add("JSON null", create, "null", 400, "validation_failed", "body");
        Add("name missing", create, "{}", 400, "validation_failed", "name");
        Add("name null", create, """{"name":null}""", 400, "validation_failed", "name");
        Add("name blank", create, """{"name":"   "}""", 400, "validation_failed", "name");
        Add("name too long", create, $$"""{"name":"{{new string('n', 201)}}"}""", 400, "validation_failed", "name");

        Endpoint(Who.Owner, "POST", "/api/organizations/{orgId}/members");
        Func<BadInputState, string> members = s => $"{Org}/{s.OrgId}/members";
        Malformed(members, """{"userId":"NEW_USER_ID"}""", """{"userId":123}""", "userId");
        Add("userId is an object", members, """{"userId":{}}""", 400, "validation_failed", "userId");
        Add("role is an array", members, """{"userId":"NEW_USER_ID","role":["admin"]}""", 400, "validation_failed", "role");
        Add("empty body", members, "", 400, "validation_failed", "body");
        Add("userId missing", members, "{}", 400, "validation_failed", "userId");
        Add("userId blank", members, """{"userId":""}""", 400, "validation_failed", "userId");
        Add("userId too long", members, $$"""{"userId":"{{new string('u', 101)}}"}""", 400, "validation_failed", "userId");
        Add("role not a slug", members, """{"userId":"NEW_USER_ID","role":"Owner!"}""", 400, "validation_failed", "role");
        Add("role empty", members, """{"userId":"NEW_USER_ID","role":""}""", 400, "validation_failed", "role");
        Add("role too long", members, $$"""{"userId":"NEW_USER_ID","role":"{{new string('r', 65)}}"}""", 400, "validation_failed", "role");
        Add("unknown seat type", members, """{"userId":"NEW_USER_ID","seatType":"gold"}""", 400, "validation_failed", "seatType");
        Add("unknown user (Roster id)", members, $$"""{"userId":"{{Unknown}}"}""", 404, "user_not_found");
        Add("unknown user (WorkOS id)", members, """{"userId":"user_nobody_at_all"}""", 404, "user_not_found");
        Add("unknown org (Roster id)", _ => $"{Org}/{Unknown}/members", """{"userId":"NEW_USER_ID"}""", 404, "not_found");
        Add("unknown org (WorkOS id)", _ => $"{Org}/org_nobody/members", """{"userId":"NEW_USER_ID"}""", 404, "not_found");
        Add("org id is neither", _ => $"{Org}/not-an-org/members", """{"userId":"NEW_USER_ID"}""", 404, "not_found");

        Endpoint(Who.Owner, "GET", "/api/organizations/{orgId}/members");
        Add("unknown org", _ => $"{Org}/{Unknown}/members", null, 404, "not_found");
        Add("org id is neither", _ => $"{Org}/not-an-org/members", null, 404, "not_found");

        Endpoint(Who.Owner, "GET", "/api/organizations/{orgId}/members/search");
        Add("no email", s => $"{Org}/{s.OrgId}/members/search", null, 400, "validation_failed", "email");
        Add("empty email", s => $"{Org}/{s.OrgId}/members/search?email=", null, 400, "validation_failed", "email");
        Add("not an email (matches nobody)", s => $"{Org}/{s.OrgId}/members/search?email=someone", null, 404, "user_not_found");
        Add("email too long", s => $"{Org}/{s.OrgId}/members/search?email={new string('e', 320)}%40x.io", null, 400, "validation_failed", "email");
        Add("unknown email", s => $"{Org}/{s.OrgId}/members/search?email=nobody%40example.com", null, 404, "user_not_found");
        Add("unknown org", _ => $"{Org}/{Unknown}/members/search?email=a%40example.com", null, 404, "not_found");

        Endpoint(Who.Owner, "GET", "/api/organizations/{orgId}/refusals");
        Func<BadInputState, string> refusals = s => $"{Org}/{s.OrgId}/refusals";
        Add("limit zero", s => refusals(s) + "?limit=0", null, 400, "validation_failed", "limit");
        Add("limit over 500", s => refusals(s) + "?limit=501", null, 400, "validation_failed", "limit");
        Add("limit not a number", s => refusals(s) + "?limit=ten", null, 400, "validation_failed", "limit");
        Add("limit negative", s => refusals(s) + "?limit=-5", null, 400, "validation_failed", "limit");
        Add("cursor not one of ours", s => refusals(s) + "?after=not-a-cursor", null, 400, "validation_failed", "after");
        Add("cursor empty", s => refusals(s) + "?after=", null, 400, "validation_failed", "after");
        Add("unknown org", _ => $"{Org}/{Unknown}/refusals", null, 404, "not_found");
        Add("org id is neither", _ => $"{Org}/not-an-org/refusals", null, 404, "not_found");

        Endpoint(Who.Owner, "GET", "/api/organizations/{orgId}/changes");
        Func<BadInputState, string> changes = s => $"{Org}/{s.OrgId}/changes";
        Add("after negative", s => changes(s) + "?after=-1", null, 400, "validation_failed", "after");
        Add("after not a number", s => changes(s) + "?after=seven", null, 400, "validation_failed", "after");
        Add("after a fraction", s => changes(s) + "?after=1.5", null, 400, "validation_failed", "after");
        Add("after empty", s => changes(s) + "?after=", null, 400, "validation_failed", "after");
        Add("after past a long", s => changes(s) + "?after=99999999999999999999", null, 400, "validation_failed", "after");
        Add("limit zero", s => changes(s) + "?limit=0", null, 400, "validation_failed", "limit");
        Add("limit over 500", s => changes(s) + "?limit=501", null, 400, "validation_failed", "limit");
        Add("limit not a number", s => changes(s) + "?limit=ten", null, 400, "validation_failed", "limit");
        Add("unknown org", _ => $"{Org}/{Unknown}/changes", null, 404, "not_found");
        Add("org id is neither", _ => $"{Org}/not-an-org/changes", null, 404, "not_found");

        Endpoint(Who.PlatformAdmin, "GET", "/api/admin/changes");
        Add("after negative", _ => "/api/admin/changes?after=-3", null, 400, "validation_failed", "after");
        Add("after not a number", _ => "/api/admin/changes?after=x", null, 400, "validation_failed", "after");
        Add("after empty", _ => "/api/admin/changes?after=", null, 400, "validation_failed", "after");
        Add("limit zero", _ => "/api/admin/changes?limit=0", null, 400, "validation_failed", "limit");
        Add("limit over 500", _ => "/api/admin/changes?limit=9999", null, 400, "validation_failed", "limit");

        Endpoint(Who.Owner, "GET", "/api/organizations/{orgId}/audit/export");
        Add("unknown org", _ => $"{Org}/{Unknown}/audit/export", null, 404, "not_found");
        Add("org id is neither", _ => $"{Org}/not-an-org/audit/export", null, 404, "not_found");
        Add("another org's export", s => $"{Org}/{s.ForeignMembershipId}/audit/export", null, 404, "not_found");

        const string subscriptions = "/api/admin/webhook-subscriptions";
        Endpoint(Who.PlatformAdmin, "POST", subscriptions);
        Func<BadInputState, string> subscribe = _ => subscriptions;
        Malformed(subscribe, """{"url":"https://hooks.example.com/x"}""", """{"url":5}""", "url");
        Add("no body", subscribe, null, 400, "validation_failed", "body");
        Add("url missing", subscribe, "{}", 400, "validation_failed", "url");
        Add("url not absolute", subscribe, """{"url":"/hooks"}""", 400, "validation_failed", "url");
        Add("url not http", subscribe, """{"url":"ftp://hooks.example.com/x"}""", 400, "validation_failed", "url");
        Add("url plain http outside Development", subscribe, """{"url":"http://hooks.example.com/x"}""", 400, "validation_failed", "url");
        Add("url http to loopback outside Development", subscribe, """{"url":"http://127.0.0.1:9/x"}""", 400, "validation_failed", "url");
        Add("url with a password", subscribe, """{"url":"https://a:b@hooks.example.com/x"}""", 400, "validation_failed", "url");
        Add("url too long", subscribe, $"{{\"url\":\"https://hooks.example.com/{new string('a', 2100)}\"}}", 400, "validation_failed", "url");
        Add("unknown change type", subscribe, """{"url":"https://hooks.example.com/x","types":["membership.exploded"]}""", 400, "validation_failed", "types");
        Add("types not an array", subscribe, """{"url":"https://hooks.example.com/x","types":"membership.added"}""", 400, "validation_failed", "types");
        Add("type null", subscribe, """{"url":"https://hooks.example.com/x","types":[null]}""", 400, "validation_failed", "types");
        Add("unknown organization", subscribe, $"{{\"url\":\"https://hooks.example.com/x\",\"organizationId\":\"{Unknown}\"}}", 404, "not_found");
        Add("organization id is neither", subscribe, """{"url":"https://hooks.example.com/x","organizationId":"nope"}""", 404, "not_found");
        Add("description too long", subscribe, $"{{\"url\":\"https://hooks.example.com/x\",\"description\":\"{new string('d', 501)}\"}}", 400, "validation_failed", "description");

        Endpoint(Who.PlatformAdmin, "GET", subscriptions);
        Add("limit zero", _ => subscriptions + "?limit=0", null, 400, "validation_failed", "limit");
        Add("cursor not one of ours", _ => subscriptions + "?after=nope", null, 400, "validation_failed", "after");

        Endpoint(Who.PlatformAdmin, "GET", subscriptions + "/{id}");
        Add("id not a GUID", _ => subscriptions + "/not-a-guid", null, 404, "not_found");
        Add("unknown subscription", _ => $"{subscriptions}/{Unknown}", null, 404, "not_found");

        Endpoint(Who.PlatformAdmin, "PATCH", subscriptions + "/{id}");
        Func<BadInputState, string> unknownSubscription = _ => $"{subscriptions}/{Unknown}";
        Malformed(unknownSubscription, """{"description":"x"}""", """{"enabled":"yes"}""", "enabled");
        Add("nothing to change", unknownSubscription, "{}", 400, "validation_failed", "body");
        Add("no body", unknownSubscription, null, 400, "validation_failed", "body");
        Add("url plain http", unknownSubscription, """{"url":"http://hooks.example.com/x"}""", 400, "validation_failed", "url");
        Add("unknown change type", unknownSubscription, """{"types":["nope"]}""", 400, "validation_failed", "types");
        Add("overlap without a rotation", unknownSubscription, """{"description":"x","secretOverlapMinutes":5}""", 400, "validation_failed", "secretOverlapMinutes");
        Add("overlap negative", unknownSubscription, """{"rotateSecret":true,"secretOverlapMinutes":-1}""", 400, "validation_failed", "secretOverlapMinutes");
        Add("unknown subscription", unknownSubscription, """{"description":"x"}""", 404, "not_found");
        Add("id not a GUID", _ => subscriptions + "/not-a-guid", """{"description":"x"}""", 404, "not_found");

        Endpoint(Who.PlatformAdmin, "DELETE", subscriptions + "/{id}");
        Add("id not a GUID", _ => subscriptions + "/not-a-guid", null, 404, "not_found");
        Add("unknown subscription", _ => $"{subscriptions}/{Unknown}", null, 404, "not_found");

        Endpoint(Who.PlatformAdmin, "GET", subscriptions + "/{id}/deliveries");
        Add("id not a GUID", _ => subscriptions + "/not-a-guid/deliveries", null, 404, "not_found");
        Add("unknown subscription", _ => $"{subscriptions}/{Unknown}/deliveries", null, 404, "not_found");
        Add("unknown status", _ => $"{subscriptions}/{Unknown}/deliveries?status=lost", null, 400, "validation_failed", "status");
        Add("limit zero", _ => $"{subscriptions}/{Unknown}/deliveries?limit=0", null, 400, "validation_failed", "limit");
        Add("cursor not one of ours", _ => $"{subscriptions}/{Unknown}/deliveries?after=nope", null, 400, "validation_failed", "after");

        Endpoint(Who.PlatformAdmin, "POST", subscriptions + "/{id}/replay");
        Func<BadInputState, string> replay = _ => $"{subscriptions}/{Unknown}/replay";
        Malformed(replay, """{"fromPosition":1}""", """{"fromPosition":"1"}""", "fromPosition");
        Add("no body", replay, null, 400, "validation_failed", "body");
        Add("fromPosition missing", replay, "{}", 400, "validation_failed", "fromPosition");
        Add("fromPosition zero", replay, """{"fromPosition":0}""", 400, "validation_failed", "fromPosition");
        Add("fromPosition a fraction", replay, """{"fromPosition":1.5}""", 400, "validation_failed", "fromPosition");
        Add("unknown subscription", replay, """{"fromPosition":1}""", 404, "not_found");
        Add("id not a GUID", _ => subscriptions + "/not-a-guid/replay", """{"fromPosition":1}""", 404, "not_found");

        Endpoint(Who.Owner, "PATCH", "/api/organizations/{orgId}/members/{membershipId}");
        Func<BadInputState, string> member = s => $"{Org}/{s.OrgId}/members/{s.Org.MemberMembershipId}";
        Malformed(member, """{"role":"member"}""", """{"role":[]}""", "role");
        Add("seatType is a number", member, """{"seatType":1}""", 400, "validation_failed", "seatType");
        Add("empty body", member, "", 400, "validation_failed", "body");
        Add("nothing to change", member, "{}", 400, "validation_failed", "body");
        Add("both null", member, """{"role":null,"seatType":null}""", 400, "validation_failed", "body");
        Add("role not a slug", member, """{"role":"Not A Role"}""", 400, "validation_failed", "role");
        Add("unknown seat type", member, """{"seatType":"gold"}""", 400, "validation_failed", "seatType");
        Add("membership id not a GUID", s => $"{Org}/{s.OrgId}/members/not-a-guid", """{"role":"member"}""", 404, "not_found");
        Add("unknown membership", s => $"{Org}/{s.OrgId}/members/{Unknown}", """{"role":"member"}""", 404, "not_found");
        Add("another org's membership", s => $"{Org}/{s.OrgId}/members/{s.ForeignMembershipId}", """{"role":"member"}""", 404, "not_found");
        Add("a join request", s => $"{Org}/{s.OrgId}/members/{s.JoinRequestId}", """{"role":"member"}""", 404, "not_found");
        Add("unknown org", s => $"{Org}/{Unknown}/members/{s.Org.MemberMembershipId}", """{"role":"member"}""", 404, "not_found");

        Endpoint(Who.Owner, "DELETE", "/api/organizations/{orgId}/members/{membershipId}");
        Add("membership id not a GUID", s => $"{Org}/{s.OrgId}/members/not-a-guid", null, 404, "not_found");
        Add("unknown membership", s => $"{Org}/{s.OrgId}/members/{Unknown}", null, 404, "not_found");
        Add("another org's membership", s => $"{Org}/{s.OrgId}/members/{s.ForeignMembershipId}", null, 404, "not_found");
        Add("a join request", s => $"{Org}/{s.OrgId}/members/{s.JoinRequestId}", null, 404, "not_found");
        Add("unknown org", s => $"{Org}/{Unknown}/members/{s.Org.MemberMembershipId}", null, 404, "not_found");

        Endpoint(Who.Member, "POST", "/api/organizations/{orgId}/leave");
        Add("unknown org", _ => $"{Org}/{Unknown}/leave", null, 404, "not_found");
        Add("org id is neither", _ => $"{Org}/not-an-org/leave", null, 404, "not_found");

        Endpoint(Who.Member, "GET", "/api/organizations/{orgId}/roles");
        Add("unknown org", _ => $"{Org}/{Unknown}/roles", null, 404, "not_found");
        Add("org id is neither", _ => $"{Org}/not-an-org/roles", null, 404, "not_found");

        Endpoint(Who.Member, "GET", "/api/organizations/{orgId}/members/{membershipId}/roles");
        Add("membership id not a GUID", s => $"{Org}/{s.OrgId}/members/not-a-guid/roles", null, 404, "not_found");
        Add("unknown membership", s => $"{Org}/{s.OrgId}/members/{Unknown}/roles", null, 404, "not_found");
        Add("another org's membership", s => $"{Org}/{s.OrgId}/members/{s.ForeignMembershipId}/roles", null, 404, "not_found");
        Add("unknown org", s => $"{Org}/{Unknown}/members/{s.Org.MemberMembershipId}/roles", null, 404, "not_found");

        Endpoint(Who.Owner, "GET", "/api/organizations/{orgId}/seats");
        Add("unknown org", _ => $"{Org}/{Unknown}/seats", null, 404, "not_found");
        Add("unknown WorkOS org", _ => $"{Org}/org_nobody/seats", null, 404, "not_found");

        Endpoint(Who.Outsider, "POST", "/api/organizations/{orgId}/requests");
        Add("unknown org", _ => $"{Org}/{Unknown}/requests", null, 404, "not_found");
        Add("unknown WorkOS org", _ => $"{Org}/org_nobody/requests", null, 404, "not_found");
        Add("org id is neither", _ => $"{Org}/not-an-org/requests", null, 404, "not_found");

        Endpoint(Who.Owner, "GET", "/api/organizations/{orgId}/requests");
        Add("unknown org", _ => $"{Org}/{Unknown}/requests", null, 404, "not_found");

        // The body is optional here, but when present it must be well formed.
        Endpoint(Who.Owner, "PUT", "/api/organizations/{orgId}/requests/{membershipId}/approve");
        Func<BadInputState, string> approve = s => $"{Org}/{s.OrgId}/requests/{s.JoinRequestId}/approve";
        Malformed(approve, """{"seatType":"contributor"}""", """{"seatType":5}""", "seatType");
        Add("unknown seat type", approve, """{"seatType":"gold"}""", 400, "validation_failed", "seatType");
        Add("membership id not a GUID", s => $"{Org}/{s.OrgId}/requests/not-a-guid/approve", null, 404, "not_found");
        Add("unknown membership", s => $"{Org}/{s.OrgId}/requests/{Unknown}/approve", null, 404, "not_found");
        Add("an active membership", s => $"{Org}/{s.OrgId}/requests/{s.Org.MemberMembershipId}/approve", null, 404, "not_found");
        Add("another org's membership", s => $"{Org}/{s.OrgId}/requests/{s.ForeignMembershipId}/approve", null, 404, "not_found");
        Add("unknown org", s => $"{Org}/{Unknown}/requests/{s.JoinRequestId}/approve", null, 404, "not_found");

        Endpoint(Who.Owner, "PUT", "/api/organizations/{orgId}/requests/{membershipId}/reject");
        Add("membership id not a GUID", s => $"{Org}/{s.OrgId}/requests/not-a-guid/reject", null, 404, "not_found");
        Add("unknown membership", s => $"{Org}/{s.OrgId}/requests/{Unknown}/reject", null, 404, "not_found");
        Add("an owner_add", s => $"{Org}/{s.OrgId}/requests/{s.InvitationId}/reject", null, 404, "not_found");
        Add("unknown org", s => $"{Org}/{Unknown}/requests/{s.JoinRequestId}/reject", null, 404, "not_found");

        Endpoint(Who.Outsider, "PUT", "/api/membership-requests/{membershipId}/accept");
        Add("membership id not a GUID", _ => "/api/membership-requests/not-a-guid/accept", null, 404, "not_found");
        Add("unknown membership", _ => $"/api/membership-requests/{Unknown}/accept", null, 404, "not_found");
        Add("someone else's join request", s => $"/api/membership-requests/{s.JoinRequestId}/accept", null, 404, "not_found");

        Endpoint(Who.Outsider, "DELETE", "/api/membership-requests/{membershipId}");
        Add("membership id not a GUID", _ => "/api/membership-requests/not-a-guid", null, 404, "not_found");
        Add("unknown membership", _ => $"/api/membership-requests/{Unknown}", null, 404, "not_found");
        Add("someone else's join request", s => $"/api/membership-requests/{s.JoinRequestId}", null, 404, "not_found");

        Endpoint(Who.PlatformAdmin, "POST", "/api/admin/notifications/{id}/retry");
        Add("notification id not a GUID", _ => "/api/admin/notifications/not-a-guid/retry", null, 404, "not_found");
        Add("unknown notification", _ => $"/api/admin/notifications/{Unknown}/retry", null, 404, "not_found");

        Endpoint(Who.PlatformAdmin, "PUT", "/api/organizations/{orgId}/plan");
        Func<BadInputState, string> plan = s => $"{Org}/{s.OrgId}/plan";
        Malformed(plan, """{"plan":"company_leader"}""", """{"plan":1}""", "plan");
        Add("plan is an array", plan, """{"plan":["free"]}""", 400, "validation_failed", "plan");
        Add("empty body", plan, "", 400, "validation_failed", "body");
        Add("no body", plan, null, 400, "validation_failed", "body");
        Add("plan missing", plan, "{}", 400, "validation_failed", "plan");
        Add("plan empty", plan, """{"plan":""}""", 400, "validation_failed", "plan");
        Add("unknown plan", plan, """{"plan":"platinum"}""", 400, "validation_failed", "plan");
        Add("plan in the wrong case", plan, """{"plan":"FREE"}""", 400, "validation_failed", "plan");
        Add("unknown org", _ => $"{Org}/{Unknown}/plan", """{"plan":"free"}""", 404, "not_found");
        Add("unknown WorkOS org", _ => $"{Org}/org_nobody/plan", """{"plan":"free"}""", 404, "not_found");

        // The product API (issue 13).
        Endpoint(Who.Owner, "GET", "/api/organizations/{orgId}");
        Add("unknown org", _ => $"{Org}/{Unknown}", null, 404, "not_found");
        Add("org id is neither", _ => $"{Org}/not-an-org", null, 404, "not_found");

        Endpoint(Who.Owner, "PATCH", "/api/organizations/{orgId}");
        Func<BadInputState, string> rename = s => $"{Org}/{s.OrgId}";
        Malformed(rename, """{"name":"Acme"}""", """{"name":[]}""", "name");
        Add("empty body", rename, "", 400, "validation_failed", "body");
        Add("name missing", rename, "{}", 400, "validation_failed", "name");
        Add("name blank", rename, """{"name":"  "}""", 400, "validation_failed", "name");
        Add("name with a control character", rename, """{"name":"a\u0007b"}""", 400, "validation_failed", "name");
        Add("name too long", rename, $$"""{"name":"{{new string('n', 201)}}"}""", 400, "validation_failed", "name");
        Add("unknown org", _ => $"{Org}/{Unknown}", """{"name":"Acme"}""", 404, "not_found");

        Endpoint(Who.Owner, "DELETE", "/api/organizations/{orgId}");
        Add("unknown org", _ => $"{Org}/{Unknown}", null, 404, "not_found");
        Add("org id is neither", _ => $"{Org}/not-an-org", null, 404, "not_found");

        Endpoint(Who.Owner, "GET", "/api/organizations/{orgId}/audit");
        Add("membershipId not a GUID", s => $"{Org}/{s.OrgId}/audit?membershipId=nope", null, 400, "validation_failed", "membershipId");
        Add("userId not a GUID", s => $"{Org}/{s.OrgId}/audit?userId=user_123", null, 400, "validation_failed", "userId");
        Add("limit zero", s => $"{Org}/{s.OrgId}/audit?limit=0", null, 400, "validation_failed", "limit");
        Add("cursor of another list", s => $"{Org}/{s.OrgId}/audit?after=WyJtZW1iZXJzIiwiMSIsIjIiXQ", null, 400, "validation_failed", "after");
        Add("unknown org", _ => $"{Org}/{Unknown}/audit", null, 404, "not_found");

        Endpoint(Who.Owner, "GET", "/api/organizations/{orgId}/members");
        Add("limit above the maximum", s => $"{Org}/{s.OrgId}/members?limit=501", null, 400, "validation_failed", "limit");
        Add("limit negative", s => $"{Org}/{s.OrgId}/members?limit=-1", null, 400, "validation_failed", "limit");
        Add("limit not a number", s => $"{Org}/{s.OrgId}/members?limit=ten", null, 400, "validation_failed", "limit");
        Add("limit with a sign", s => $"{Org}/{s.OrgId}/members?limit=%2B5", null, 400, "validation_failed", "limit");
        Add("cursor is garbage", s => $"{Org}/{s.OrgId}/members?after=%25%25%25", null, 400, "validation_failed", "after");
        Add("cursor is not base64 JSON", s => $"{Org}/{s.OrgId}/members?after=bm90IGpzb24", null, 400, "validation_failed", "after");
        Add("cursor with a bad time", s => $"{Org}/{s.OrgId}/members?after=WyJtZW1iZXJzIiwieCIsIjIiXQ", null, 400, "validation_failed", "after");
        Add("unknown status", s => $"{Org}/{s.OrgId}/members?status=inactive", null, 400, "validation_failed", "status");
        Add("role not a slug", s => $"{Org}/{s.OrgId}/members?role=Owner!", null, 400, "validation_failed", "role");

        Endpoint(Who.Owner, "POST", "/api/organizations/{orgId}/members/{membershipId}/renew");
        Add("membership id not a GUID", s => $"{Org}/{s.OrgId}/members/not-a-guid/renew", null, 404, "not_found");
        Add("unknown membership", s => $"{Org}/{s.OrgId}/members/{Unknown}/renew", null, 404, "not_found");
        Add("an active member", s => $"{Org}/{s.OrgId}/members/{s.Org.MemberMembershipId}/renew", null, 404, "not_found");
        Add("a join request", s => $"{Org}/{s.OrgId}/members/{s.JoinRequestId}/renew", null, 404, "not_found");
        Add("another org's membership", s => $"{Org}/{s.OrgId}/members/{s.ForeignMembershipId}/renew", null, 404, "not_found");
        Add("unknown org", s => $"{Org}/{Unknown}/members/{s.InvitationId}/renew", null, 404, "not_found");

        Endpoint(Who.Owner, "GET", "/api/organizations/{orgId}/preflight");
        Add("no action", s => $"{Org}/{s.OrgId}/preflight", null, 400, "validation_failed", "action");
        Add("unknown action", s => $"{Org}/{s.OrgId}/preflight?action=remove", null, 400, "validation_failed", "action");
        Add("unknown org", _ => $"{Org}/{Unknown}/preflight?action=join", null, 404, "not_found");

        Endpoint(Who.Owner, "POST", "/api/organizations/{orgId}/members/{membershipId}/ownership-offer");
        Add("membership id not a GUID", s => $"{Org}/{s.OrgId}/members/not-a-guid/ownership-offer", null, 404, "not_found");
        Add("unknown membership", s => $"{Org}/{s.OrgId}/members/{Unknown}/ownership-offer", null, 404, "not_found");
        Add("a pending invitation", s => $"{Org}/{s.OrgId}/members/{s.InvitationId}/ownership-offer", null, 404, "not_found");
        Add("another org's membership", s => $"{Org}/{s.OrgId}/members/{s.ForeignMembershipId}/ownership-offer", null, 404, "not_found");
        Add("an owner", s => $"{Org}/{s.OrgId}/members/{s.Org.OwnerMembershipId}/ownership-offer", null, 409, "already_owner");
        Add("unknown org", s => $"{Org}/{Unknown}/members/{s.Org.MemberMembershipId}/ownership-offer", null, 404, "not_found");

        Endpoint(Who.Owner, "DELETE", "/api/organizations/{orgId}/members/{membershipId}/ownership-offer");
        Add("membership id not a GUID", s => $"{Org}/{s.OrgId}/members/not-a-guid/ownership-offer", null, 404, "not_found");
        Add("no offer open", s => $"{Org}/{s.OrgId}/members/{s.Org.MemberMembershipId}/ownership-offer", null, 404, "not_found");
        Add("unknown org", s => $"{Org}/{Unknown}/members/{s.Org.MemberMembershipId}/ownership-offer", null, 404, "not_found");

        Endpoint(Who.Member, "PUT", "/api/membership-requests/{membershipId}/ownership-offer/accept");
        Add("membership id not a GUID", _ => "/api/membership-requests/not-a-guid/ownership-offer/accept", null, 404, "not_found");
        Add("no offer open", s => $"/api/membership-requests/{s.Org.MemberMembershipId}/ownership-offer/accept", null, 404, "not_found");
        Add("someone else's membership", s => $"/api/membership-requests/{s.Org.AdminMembershipId}/ownership-offer/accept", null, 404, "not_found");

        Endpoint(Who.Member, "DELETE", "/api/membership-requests/{membershipId}/ownership-offer");
        Add("membership id not a GUID", _ => "/api/membership-requests/not-a-guid/ownership-offer", null, 404, "not_found");
        Add("no offer open", s => $"/api/membership-requests/{s.Org.MemberMembershipId}/ownership-offer", null, 404, "not_found");

        Endpoint(Who.Member, "GET", "/api/organizations");
        Add("limit too large", _ => $"{Org}?limit=100000", null, 400, "validation_failed", "limit");

        Endpoint(Who.PlatformAdmin, "GET", "/api/admin/notifications");
        Add("unknown status", _ => "/api/admin/notifications?status=bogus", null, 400, "validation_failed", "status");
        Add("status in the wrong case", _ => "/api/admin/notifications?status=SENT", null, 400, "validation_failed", "status");

        return cases;
    }
}

public sealed class BadInputTestsOnSqlite(SqliteApp app) : BadInputTests(app), IClassFixture<SqliteApp>;

public sealed class BadInputTestsOnPostgres(PostgresApp app) : BadInputTests(app), IClassFixture<PostgresApp>;
