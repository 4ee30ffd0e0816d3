using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Roster.Tests.Support;
using Roster.Infrastructure.Outbox;
using Roster.Infrastructure.Seats;

namespace Roster.Tests.Features;

/// <summary>The kinds of caller every endpoint is tried with.</summary>
public enum Who
{
    Owner,
    Admin,
    Member,
    /// <summary>Signed in, verified, no membership in the organization.</summary>
    Outsider,
    /// <summary>No token at all.</summary>
    Anonymous,
    /// <summary>Token with permissions [roster:admin], not a member of the organization.</summary>
    PlatformAdmin,
    /// <summary>A service credential: a machine's token (sub and permissions [roster:changes:read], no email), no local user.</summary>
    ServiceCredential,
}

/// <summary>The expected answer of one cell: a status, and for every non-2xx the problem's <c>code</c>.</summary>
public sealed record Outcome(int Status, string? Code = null)
{
    public override string ToString() => Code is null ? Status.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"{Status} {Code}";
}

/// <summary>What a cell sends, built after the cell's own state exists. The URL comes from the row's route pattern.</summary>
public sealed record Call(Guid? MembershipId = null, object? Body = null, string? Query = null, Guid? NotificationId = null);

/// <summary>The fresh state one cell acts on.</summary>
public sealed record CellState(Scenario Scenario, Staffed Org);

/// <summary>
/// One endpoint (method + route pattern exactly as the route table has it, constraints stripped) and one way of calling it,
/// with the expected outcome for every kind of caller.
/// </summary>
public sealed record MatrixRow(string Name, string Method, string Route, Func<CellState, Task<Call>> Prepare, IReadOnlyDictionary<Who, Outcome> Expected)
{
    public string UrlFor(CellState state, Call call)
    {
        var url = Route
            .Replace("{orgId}", state.Org.Id.ToString(), StringComparison.Ordinal)
            .Replace("{membershipId}", call.MembershipId?.ToString() ?? "{membershipId}", StringComparison.Ordinal)
            .Replace("{documentName}", "v1", StringComparison.Ordinal)
            .Replace("{id}", call.NotificationId?.ToString() ?? "{id}", StringComparison.Ordinal);
        Assert.DoesNotContain("{", url, StringComparison.Ordinal);
        return call.Query is null ? url : $"{url}?{call.Query}";
    }
}

/// <summary>
/// The authorization matrix of DESIGN.md section 5: every endpoint (POST /webhooks/workos aside, which authenticates by
/// signature and has its own tests) against every kind of caller.
/// </summary>
public static class AuthorizationMatrix
{
    private static readonly Outcome Ok = new(200);
    private static readonly Outcome Created = new(201);
    private static readonly Outcome NoContent = new(204);
    private static readonly Outcome Unauthorized = new(401, "unauthorized");
    private static readonly Outcome Forbidden = new(403, "forbidden");
    private static readonly Outcome RoleEscalation = new(403, "role_escalation");
    private static readonly Outcome NotFound = new(404, "not_found");
    private static readonly Outcome AlreadyMember = new(409, "already_member");
    private static readonly Outcome LastOwner = new(409, "last_owner");
    private static readonly Outcome InvalidSignature = new(401, "invalid_signature");

    private static async Task<Guid> OfferOwnershipToMember(CellState c)
    {
        await (await c.Scenario.As(c.Org.Owner).PostAsync($"/api/organizations/{c.Org.Id}/members/{c.Org.MemberMembershipId}/ownership-offer", null))
            .ShouldBe(HttpStatusCode.OK);
        return c.Org.MemberMembershipId;
    }

    /// <summary>Mapped endpoints that are deliberately not in the matrix, with the reason.</summary>
    public static readonly IReadOnlySet<(string Method, string Route)> Excluded = new HashSet<(string, string)>
    {
        ("POST", "/webhooks/workos"), // WorkOS signs it; no bearer token, no caller kinds
    };

    private const string Org = "/api/organizations/{orgId}";

    public static readonly IReadOnlyList<MatrixRow> Rows =
    [
        Row("create organization", "POST", "/api/organizations",
            _ => Task.FromResult(new Call(Body: new { name = "Matrix org" })),
            owner: Created, admin: Created, member: Created, outsider: Created, platformAdmin: Created),

        Row("list members", "GET", $"{Org}/members",
            _ => Task.FromResult(new Call()),
            owner: Ok, admin: Ok, member: Ok, outsider: NotFound, platformAdmin: Ok),

        Row("add a member", "POST", $"{Org}/members",
            async c => new Call(Body: new { userId = await c.Scenario.UserIdOf(RosterApp.NewUser("invitee")), role = "member" }),
            owner: Created, admin: Created, member: Forbidden, outsider: NotFound, platformAdmin: Created),

        Row("add an admin", "POST", $"{Org}/members",
            async c => new Call(Body: new { userId = await c.Scenario.UserIdOf(RosterApp.NewUser("invitee")), role = "admin" }),
            owner: Created, admin: RoleEscalation, member: Forbidden, outsider: NotFound, platformAdmin: Created),

        Row("search by email", "GET", $"{Org}/members/search",
            c => Task.FromResult(new Call(Query: $"email={Uri.EscapeDataString(c.Org.Outsider.Email)}")),
            owner: Ok, admin: Ok, member: Forbidden, outsider: NotFound, platformAdmin: Ok),

        Row("change a member's role", "PATCH", $"{Org}/members/{{membershipId}}",
            c => Task.FromResult(new Call(c.Org.MemberMembershipId, new { role = "billing" })),
            owner: Ok, admin: Forbidden, member: Forbidden, outsider: NotFound, platformAdmin: Ok),

        Row("promote a member to admin", "PATCH", $"{Org}/members/{{membershipId}}",
            c => Task.FromResult(new Call(c.Org.MemberMembershipId, new { role = "admin" })),
            owner: Ok, admin: RoleEscalation, member: Forbidden, outsider: NotFound, platformAdmin: Ok),

        Row("change a member's seat type", "PATCH", $"{Org}/members/{{membershipId}}",
            c => Task.FromResult(new Call(c.Org.MemberMembershipId, new { seatType = "community_only" })),
            owner: Ok, admin: Ok, member: Forbidden, outsider: NotFound, platformAdmin: Ok),

        Row("remove a member", "DELETE", $"{Org}/members/{{membershipId}}",
            c => Task.FromResult(new Call(c.Org.MemberMembershipId)),
            owner: NoContent, admin: NoContent, member: Forbidden, outsider: NotFound, platformAdmin: NoContent),

        Row("remove another admin", "DELETE", $"{Org}/members/{{membershipId}}",
            async c => new Call(await c.Scenario.AddActive(c.Org.Id, c.Org.Owner, RosterApp.NewUser("admin2"), "admin")),
            owner: NoContent, admin: Forbidden, member: Forbidden, outsider: NotFound, platformAdmin: NoContent),

        Row("cancel a pending invitation", "DELETE", $"{Org}/members/{{membershipId}}",
            async c => new Call(await c.Scenario.Invite(c.Org.Id, c.Org.Owner, RosterApp.NewUser("invitee"))),
            owner: NoContent, admin: NoContent, member: Forbidden, outsider: NotFound, platformAdmin: NoContent),

        // The owner is the org's only owner; a platform admin has no membership to leave.
        Row("leave", "POST", $"{Org}/leave",
            _ => Task.FromResult(new Call()),
            owner: LastOwner, admin: NoContent, member: NoContent, outsider: NotFound, platformAdmin: NotFound),

        Row("list roles", "GET", $"{Org}/roles",
            _ => Task.FromResult(new Call()),
            owner: Ok, admin: Ok, member: Ok, outsider: NotFound, platformAdmin: Ok),

        Row("a member's roles", "GET", $"{Org}/members/{{membershipId}}/roles",
            c => Task.FromResult(new Call(c.Org.MemberMembershipId)),
            owner: Ok, admin: Ok, member: Ok, outsider: NotFound, platformAdmin: Ok),

        Row("refusals and sign-in denials", "GET", $"{Org}/refusals",
            _ => Task.FromResult(new Call(Query: "limit=10")),
            owner: Ok, admin: Ok, member: Forbidden, outsider: NotFound, platformAdmin: Ok),

        // WorkOS signs it with the actions secret: no bearer token of anyone's stands in for the signature.
        Row("WorkOS action without a signature", "POST", "/webhooks/workos/actions",
            _ => Task.FromResult(new Call(Body: new { id = "action_matrix", @object = "authentication_action_context", user = new { id = "user_matrix" } })),
            owner: InvalidSignature, admin: InvalidSignature, member: InvalidSignature, outsider: InvalidSignature, platformAdmin: InvalidSignature,
            anonymous: InvalidSignature),

        Row("seats", "GET", $"{Org}/seats",
            _ => Task.FromResult(new Call()),
            owner: Ok, admin: Ok, member: Forbidden, outsider: NotFound, platformAdmin: Ok),

        // Open to any verified user: the outsider and a platform admin (not a member) may ask to join.
        Row("ask to join", "POST", $"{Org}/requests",
            _ => Task.FromResult(new Call()),
            owner: AlreadyMember, admin: AlreadyMember, member: AlreadyMember, outsider: Created, platformAdmin: Created),

        Row("list join requests", "GET", $"{Org}/requests",
            _ => Task.FromResult(new Call()),
            owner: Ok, admin: Ok, member: Forbidden, outsider: NotFound, platformAdmin: Ok),

        Row("approve a join request", "PUT", $"{Org}/requests/{{membershipId}}/approve",
            async c => new Call(await c.Scenario.RequestToJoin(c.Org.Id, RosterApp.NewUser("requester"))),
            owner: Ok, admin: Ok, member: Forbidden, outsider: NotFound, platformAdmin: Ok),

        Row("reject a join request", "PUT", $"{Org}/requests/{{membershipId}}/reject",
            async c => new Call(await c.Scenario.RequestToJoin(c.Org.Id, RosterApp.NewUser("requester"))),
            owner: NoContent, admin: NoContent, member: Forbidden, outsider: NotFound, platformAdmin: NoContent),

        Row("my join requests", "GET", "/api/membership-requests/mine",
            _ => Task.FromResult(new Call()),
            owner: Ok, admin: Ok, member: Ok, outsider: Ok, platformAdmin: Ok),

        Row("my pending invitations", "GET", "/api/membership-requests/mine/pending",
            _ => Task.FromResult(new Call()),
            owner: Ok, admin: Ok, member: Ok, outsider: Ok, platformAdmin: Ok),

        // The outsider is the invitee: only they may accept or decline.
        Row("accept an invitation", "PUT", "/api/membership-requests/{membershipId}/accept",
            async c => new Call(await c.Scenario.Invite(c.Org.Id, c.Org.Owner, c.Org.Outsider)),
            owner: NotFound, admin: NotFound, member: NotFound, outsider: Ok, platformAdmin: NotFound),

        Row("decline an invitation", "DELETE", "/api/membership-requests/{membershipId}",
            async c => new Call(await c.Scenario.Invite(c.Org.Id, c.Org.Owner, c.Org.Outsider)),
            owner: NotFound, admin: NotFound, member: NotFound, outsider: NoContent, platformAdmin: NotFound),

        // The outsider is the requester: only they may withdraw it on this path.
        Row("withdraw a join request", "DELETE", "/api/membership-requests/{membershipId}",
            async c => new Call(await c.Scenario.RequestToJoin(c.Org.Id, c.Org.Outsider)),
            owner: NotFound, admin: NotFound, member: NotFound, outsider: NoContent, platformAdmin: NotFound),

        Row("change plan", "PUT", $"{Org}/plan",
            _ => Task.FromResult(new Call(Body: new { plan = "company_leader" })),
            owner: Forbidden, admin: Forbidden, member: Forbidden, outsider: Forbidden, platformAdmin: Ok),

        Row("seat audit", "GET", "/api/admin/seat-audit",
            _ => Task.FromResult(new Call()),
            owner: Forbidden, admin: Forbidden, member: Forbidden, outsider: Forbidden, platformAdmin: Ok),

        Row("notification outbox", "GET", "/api/admin/notifications",
            _ => Task.FromResult(new Call(Query: "status=pending")),
            owner: Forbidden, admin: Forbidden, member: Forbidden, outsider: Forbidden, platformAdmin: Ok),

        Row("retry a failed notification", "POST", "/api/admin/notifications/{id}/retry",
            async c => new Call(NotificationId: await FailedNotificationAsync(c)),
            owner: Forbidden, admin: Forbidden, member: Forbidden, outsider: Forbidden, platformAdmin: Ok),

        Row("retry every failed notification", "POST", "/api/admin/notifications/retry-failed",
            async c => { await FailedNotificationAsync(c); return new Call(); },
            owner: Forbidden, admin: Forbidden, member: Forbidden, outsider: Forbidden, platformAdmin: Ok),

        // The product API (issue 13).
        Row("my organizations", "GET", "/api/organizations",
            _ => Task.FromResult(new Call()),
            owner: Ok, admin: Ok, member: Ok, outsider: Ok, platformAdmin: Ok),

        Row("read an organization", "GET", Org,
            _ => Task.FromResult(new Call()),
            owner: Ok, admin: Ok, member: Ok, outsider: NotFound, platformAdmin: Ok),

        Row("rename an organization", "PATCH", Org,
            _ => Task.FromResult(new Call(Body: new { name = "Renamed in the matrix" })),
            owner: Ok, admin: Forbidden, member: Forbidden, outsider: NotFound, platformAdmin: Ok),

        Row("delete an organization", "DELETE", Org,
            _ => Task.FromResult(new Call()),
            owner: NoContent, admin: Forbidden, member: Forbidden, outsider: NotFound, platformAdmin: NoContent),

        Row("membership history", "GET", $"{Org}/audit",
            _ => Task.FromResult(new Call()),
            owner: Ok, admin: Ok, member: Forbidden, outsider: NotFound, platformAdmin: Ok),

        Row("renew an invitation", "POST", $"{Org}/members/{{membershipId}}/renew",
            async c => new Call(await c.Scenario.Invite(c.Org.Id, c.Org.Owner, RosterApp.NewUser("invitee"))),
            owner: Ok, admin: Ok, member: Forbidden, outsider: NotFound, platformAdmin: Ok),

        Row("preflight an add", "GET", $"{Org}/preflight",
            async c => new Call(Query: $"action=add&userId={await c.Scenario.UserIdOf(c.Org.Outsider)}"),
            owner: Ok, admin: Ok, member: Forbidden, outsider: NotFound, platformAdmin: Ok),

        Row("preflight a join", "GET", $"{Org}/preflight",
            _ => Task.FromResult(new Call(Query: "action=join")),
            owner: Ok, admin: Ok, member: Ok, outsider: Ok, platformAdmin: Ok),

        // Ownership passes between owners: a platform admin who is not an owner has none to offer.
        Row("offer ownership", "POST", $"{Org}/members/{{membershipId}}/ownership-offer",
            c => Task.FromResult(new Call(c.Org.MemberMembershipId)),
            owner: Ok, admin: Forbidden, member: Forbidden, outsider: NotFound, platformAdmin: Forbidden),

        Row("withdraw an ownership offer", "DELETE", $"{Org}/members/{{membershipId}}/ownership-offer",
            async c => new Call(await OfferOwnershipToMember(c)),
            owner: NoContent, admin: Forbidden, member: Forbidden, outsider: NotFound, platformAdmin: NoContent),

        Row("my ownership offers", "GET", "/api/membership-requests/mine/ownership-offers",
            _ => Task.FromResult(new Call()),
            owner: Ok, admin: Ok, member: Ok, outsider: Ok, platformAdmin: Ok),

        // The member is the one offered ownership: only they may accept or decline.
        Row("accept an ownership offer", "PUT", "/api/membership-requests/{membershipId}/ownership-offer/accept",
            async c => new Call(await OfferOwnershipToMember(c)),
            owner: NotFound, admin: NotFound, member: Ok, outsider: NotFound, platformAdmin: NotFound),

        Row("decline an ownership offer", "DELETE", "/api/membership-requests/{membershipId}/ownership-offer",
            async c => new Call(await OfferOwnershipToMember(c)),
            owner: NotFound, admin: NotFound, member: NoContent, outsider: NotFound, platformAdmin: NotFound),

        // The change feed (issue 17).
        Row("the organization's change feed", "GET", $"{Org}/changes",
            _ => Task.FromResult(new Call(Query: "after=0&limit=10")),
            owner: Ok, admin: Ok, member: Forbidden, outsider: NotFound, platformAdmin: Ok),

        Row("every organization's change feed", "GET", "/api/admin/changes",
            _ => Task.FromResult(new Call(Query: "after=0&limit=10")),
            owner: Forbidden, admin: Forbidden, member: Forbidden, outsider: Forbidden, platformAdmin: Ok, serviceCredential: Ok),

        Row("export the audit chain", "GET", $"{Org}/audit/export",
            _ => Task.FromResult(new Call()),
            owner: Ok, admin: Forbidden, member: Forbidden, outsider: NotFound, platformAdmin: Ok),

        Row("create a webhook subscription", "POST", "/api/admin/webhook-subscriptions",
            _ => Task.FromResult(new Call(Body: new { url = "https://hooks.example.com/roster", types = new[] { "organization.deleted" } })),
            owner: Forbidden, admin: Forbidden, member: Forbidden, outsider: Forbidden, platformAdmin: Created),

        Row("list webhook subscriptions", "GET", "/api/admin/webhook-subscriptions",
            _ => Task.FromResult(new Call(Query: "limit=10")),
            owner: Forbidden, admin: Forbidden, member: Forbidden, outsider: Forbidden, platformAdmin: Ok),

        Row("read a webhook subscription", "GET", "/api/admin/webhook-subscriptions/{id}",
            async c => new Call(NotificationId: await SubscriptionAsync(c)),
            owner: Forbidden, admin: Forbidden, member: Forbidden, outsider: Forbidden, platformAdmin: Ok),

        Row("change a webhook subscription", "PATCH", "/api/admin/webhook-subscriptions/{id}",
            async c => new Call(NotificationId: await SubscriptionAsync(c), Body: new { description = "changed in the matrix" }),
            owner: Forbidden, admin: Forbidden, member: Forbidden, outsider: Forbidden, platformAdmin: Ok),

        Row("delete a webhook subscription", "DELETE", "/api/admin/webhook-subscriptions/{id}",
            async c => new Call(NotificationId: await SubscriptionAsync(c)),
            owner: Forbidden, admin: Forbidden, member: Forbidden, outsider: Forbidden, platformAdmin: NoContent),

        Row("a webhook subscription's delivery log", "GET", "/api/admin/webhook-subscriptions/{id}/deliveries",
            async c => new Call(NotificationId: await SubscriptionAsync(c)),
            owner: Forbidden, admin: Forbidden, member: Forbidden, outsider: Forbidden, platformAdmin: Ok),

        Row("replay a webhook subscription", "POST", "/api/admin/webhook-subscriptions/{id}/replay",
            async c => new Call(NotificationId: await SubscriptionAsync(c), Body: new { fromPosition = 1 }),
            owner: Forbidden, admin: Forbidden, member: Forbidden, outsider: Forbidden, platformAdmin: new Outcome(202)),

        Row("liveness", "GET", "/health/live",
            _ => Task.FromResult(new Call()),
            owner: Ok, admin: Ok, member: Ok, outsider: Ok, platformAdmin: Ok, anonymous: Ok),

        Row("readiness", "GET", "/health/ready",
            _ => Task.FromResult(new Call()),
            owner: Ok, admin: Ok, member: Ok, outsider: Ok, platformAdmin: Ok, anonymous: Ok),

        Row("OpenAPI document", "GET", "/openapi/{documentName}.json",
            _ => Task.FromResult(new Call()),
            owner: Ok, admin: Ok, member: Ok, outsider: Ok, platformAdmin: Ok, anonymous: Ok),
    ];

    public static MatrixRow Find(string name) => Rows.Single(r => r.Name == name);

    /// <summary>A disabled webhook subscription (nothing is sent to it), for the subscription endpoints.</summary>
    private static Task<Guid> SubscriptionAsync(CellState c) => c.Scenario.App.WithDbAsync(async db =>
    {
        var now = DateTime.UtcNow;
        var subscription = new Roster.Infrastructure.Changes.WebhookSubscription
        {
            Id = Guid.CreateVersion7(), Url = "https://hooks.example.com/matrix", Types = "[]",
            Secret = Roster.Features.WebhookSubscriptions.StandardWebhookSignature.NewSecret(),
            DisabledAt = now, DisabledReason = "matrix", CreatedAt = now, UpdatedAt = now,
        };
        db.WebhookSubscriptions.Add(subscription);
        await db.SaveChangesAsync();
        // Placed changes to replay (the sequencer would place them within a second).
        await c.Scenario.App.Services.GetRequiredService<Roster.Features.Changes.ChangeSequencer>().SequenceAsync(CancellationToken.None);
        return subscription.Id;
    });

    /// <summary>An outbox row that gave up (as a permanent Slack error leaves it), for the retry endpoints.</summary>
    private static Task<Guid> FailedNotificationAsync(CellState c) => c.Scenario.App.WithDbAsync(async db =>
    {
        var now = DateTime.UtcNow;
        var row = Outbox.Enqueue(db, NotificationKinds.SeatWarning,
            $"seat_warning:{Guid.NewGuid():N}",
            new SeatWarningNotification(c.Org.Id, null, "Matrix", "contributor", 100, 10, 10), now);
        row.Attempts = 1;
        row.FailedAt = now;
        row.LastError = "chat.postMessage: channel_not_found";
        await db.SaveChangesAsync();
        return row.Id;
    });

    public static TheoryData<string, Who> Cells
    {
        get
        {
            var data = new TheoryData<string, Who>();
            foreach (var row in Rows)
                foreach (var who in Enum.GetValues<Who>())
                    data.Add(row.Name, who);
            return data;
        }
    }

    /// <param name="anonymous">Defaults to 401 unauthorized: everything under /api needs a token.</param>
    /// <param name="serviceCredential">Defaults to the anonymous outcome: a service credential reads the global change feed
    /// and nothing else (elsewhere it is 401, as a token without an email; where no token is needed, it counts for nothing).</param>
    private static MatrixRow Row(string name, string method, string route, Func<CellState, Task<Call>> prepare,
        Outcome owner, Outcome admin, Outcome member, Outcome outsider, Outcome platformAdmin, Outcome? anonymous = null,
        Outcome? serviceCredential = null) =>
        new(name, method, route, prepare, new Dictionary<Who, Outcome>
        {
            [Who.Owner] = owner,
            [Who.Admin] = admin,
            [Who.Member] = member,
            [Who.Outsider] = outsider,
            [Who.PlatformAdmin] = platformAdmin,
            [Who.Anonymous] = anonymous ?? Unauthorized,
            [Who.ServiceCredential] = serviceCredential ?? anonymous ?? Unauthorized,
        });
}

public abstract class AuthorizationMatrixTests(RosterApp app)
{
    private readonly Scenario _s = new(app);

    [Theory]
    [MemberData(nameof(AuthorizationMatrix.Cells), MemberType = typeof(AuthorizationMatrix))]
    public async Task Cell(string row, Who who)
    {
        var matrixRow = AuthorizationMatrix.Find(row);
        var expected = matrixRow.Expected[who];

        // A fresh organization for every cell that may write; reads share one per fixture (dropped if anything ever
        // changes it). The platform admin's local user is made up front, so the snapshot below sees only the call.
        var staffed = matrixRow.Method == "GET"
            ? await Shared.GetAsync(SharedForReads, app, NewStaffedAsync)
            : await NewStaffedAsync();
        var state = new CellState(_s, staffed);
        var call = await matrixRow.Prepare(state);
        var caller = who switch
        {
            Who.Owner => staffed.Owner,
            Who.Admin => staffed.Admin,
            Who.Member => staffed.Member,
            Who.Outsider => staffed.Outsider,
            Who.PlatformAdmin => staffed.PlatformAdmin,
            _ => null,
        };

        var before = await DbState.CaptureAsync(app);
        using var request = new HttpRequestMessage(new HttpMethod(matrixRow.Method), matrixRow.UrlFor(state, call));
        if (call.Body is not null) request.Content = JsonContent.Create(call.Body, options: Http.Json);
        using var response = await (who == Who.ServiceCredential ? Roster.Tests.Changes.FeedSupport.ServiceClient(app) : _s.As(caller)).SendAsync(request);
        var after = await DbState.CaptureAsync(app);
        if (matrixRow.Method == "GET" && before != after) SharedForReads.TryRemove(app, out _);

        if (expected.Code is null)
            await response.ShouldBe((HttpStatusCode)expected.Status);
        else
            await response.ShouldBeProblem((HttpStatusCode)expected.Status, expected.Code);

        if (expected.Status >= 300 || matrixRow.Method == "GET")
            DbState.AssertUnchanged(before, after);
        else
            Assert.False(before == after, $"{row} as {who} answered {expected} but changed nothing.");
    }

    private static readonly ConcurrentDictionary<RosterApp, Lazy<Task<Staffed>>> SharedForReads = new();

    private async Task<Staffed> NewStaffedAsync()
    {
        var staffed = await _s.NewStaffedOrg();
        await _s.UserIdOf(staffed.PlatformAdmin);
        return staffed;
    }

    [Fact]
    public void EveryMappedEndpointHasARowInTheMatrix()
    {
        var mapped = RouteTable.Of(app);
        Assert.Contains(("POST", "/api/organizations"), mapped);

        var covered = AuthorizationMatrix.Rows.Select(r => (r.Method, r.Route)).ToHashSet();
        // The console's HTML pages (/ and /console/…) are signed in with the console's session cookie, never a bearer token,
        // so this matrix's callers do not apply to them: every action they offer is one of the API calls in the rows here, made
        // with the signed-in person's token. Their own matrix is Console/ConsoleAccessTests (every page, signed out and as
        // each kind of caller, in a browser).
        var missing = mapped.Where(e => !covered.Contains(e) && !AuthorizationMatrix.Excluded.Contains(e) && !RouteTable.IsConsolePage(e.Route)).ToList();
        Assert.True(missing.Count == 0,
            "Endpoints without a row in the authorization matrix: " + string.Join(", ", missing.Select(m => $"{m.Method} {m.Route}")));

        var unmapped = covered.Where(c => !mapped.Contains(c)).ToList();
        Assert.True(unmapped.Count == 0,
            "Matrix rows for endpoints that are not mapped: " + string.Join(", ", unmapped.Select(m => $"{m.Method} {m.Route}")));
    }

    [Fact]
    public void EveryRowNamesAnOutcomeForEveryKindOfCaller()
    {
        Assert.Equal(AuthorizationMatrix.Rows.Count, AuthorizationMatrix.Rows.Select(r => r.Name).Distinct().Count());
        foreach (var row in AuthorizationMatrix.Rows)
        {
            Assert.Equal(Enum.GetValues<Who>().Order(), row.Expected.Keys.Order());
            Assert.All(row.Expected.Values, o => Assert.True(o.Status < 300 || o.Code is not null, $"{row.Name}: a non-2xx cell needs a code"));
        }
    }
}

public sealed class AuthorizationMatrixTestsOnSqlite(SqliteApp app) : AuthorizationMatrixTests(app), IClassFixture<SqliteApp>;

public sealed class AuthorizationMatrixTestsOnPostgres(PostgresApp app) : AuthorizationMatrixTests(app), IClassFixture<PostgresApp>;

/// <summary>The app's mapped endpoints as (HTTP method, route pattern without constraints).</summary>
public static partial class RouteTable
{
    public static IReadOnlySet<(string Method, string Route)> Of(RosterApp app) =>
        app.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["*"])
                .Select(method => (method, Normalize(e.RoutePattern.RawText ?? "?"))))
            .ToHashSet();

    /// <summary>A page of the console (HTML, session cookie) rather than an operation of the API: <c>/</c> and <c>/console/…</c>.</summary>
    public static bool IsConsolePage(string route) =>
        route is "/" or "/console" || route.StartsWith("/console/", StringComparison.Ordinal);

    /// <summary>"/api/x/{id:guid}/" → "/api/x/{id}": constraints, defaults and a trailing slash do not make another route.</summary>
    public static string Normalize(string route)
    {
        var path = Parameter().Replace(route, "{$1}");
        if (!path.StartsWith('/')) path = "/" + path;
        return path.Length > 1 ? path.TrimEnd('/') : path;
    }

    [GeneratedRegex(@"\{\**([A-Za-z0-9_]+)[^}]*\}")]
    private static partial Regex Parameter();
}

/// <summary>A snapshot of the rows a request could change: organizations, memberships, users, audit events.</summary>
public static class DbState
{
    public sealed record Snapshot(int Organizations, int Memberships, int Users, int AuditEvents, string Rows);

    public static Task<Snapshot> CaptureAsync(RosterApp app) => app.WithDbAsync(async db =>
    {
        var organizations = await db.Organizations.AsNoTracking()
            .Select(o => new { o.Id, o.Name, o.Plan, o.DeletedAt, o.UpdatedAt }).ToListAsync();
        var memberships = await db.Memberships.AsNoTracking()
            .Select(m => new { m.Id, m.OrganizationId, m.UserId, m.Role, m.Status, m.Source, m.SeatType, m.DeletedAt, m.UpdatedAt }).ToListAsync();
        var users = await db.Users.AsNoTracking()
            .Select(u => new { u.Id, u.WorkosUserId, u.Email, u.EmailVerified, u.Name, u.DeletedAt }).ToListAsync();
        var audits = await db.AuditEvents.CountAsync();
        var outbox = await db.NotificationOutbox.AsNoTracking()
            .Select(r => new { r.Id, r.Attempts, r.NextAttemptAt, r.SentAt, r.FailedAt, r.LastError }).ToListAsync();
        // Webhook subscriptions as an admin changes them (not what the dispatcher records on its own), and replays queued.
        var subscriptions = await db.WebhookSubscriptions.AsNoTracking()
            .Select(s => new { s.Id, s.Url, s.Types, s.OrganizationId, s.Description, s.Secret, s.DisabledAt, s.DeletedAt }).ToListAsync();
        var replays = await db.WebhookDeliveries.CountAsync(d => d.Replay);
        var rows = JsonSerializer.Serialize(new
        {
            organizations = organizations.OrderBy(o => o.Id),
            memberships = memberships.OrderBy(m => m.Id),
            users = users.OrderBy(u => u.Id),
            outbox = outbox.OrderBy(r => r.Id),
            subscriptions = subscriptions.OrderBy(r => r.Id),
            replays,
        });
        return new Snapshot(organizations.Count, memberships.Count, users.Count, audits, rows);
    });

    public static void AssertUnchanged(Snapshot before, Snapshot after)
    {
        Assert.True(before == after,
            $"The database changed: organizations {before.Organizations}→{after.Organizations}, memberships {before.Memberships}→{after.Memberships}, " +
            $"users {before.Users}→{after.Users}, audit events {before.AuditEvents}→{after.AuditEvents}" +
            (before.Rows == after.Rows ? "" : " (row contents differ)"));
    }
}

/// <summary>State built once per fixture and shared by tests that promise not to change it.</summary>
public static class Shared
{
    public static async Task<T> GetAsync<T>(ConcurrentDictionary<RosterApp, Lazy<Task<T>>> cache, RosterApp app, Func<Task<T>> build)
    {
        var lazy = cache.GetOrAdd(app, _ => new Lazy<Task<T>>(build));
        try
        {
            return await lazy.Value;
        }
        catch
        {
            // A failed build is not kept: the next test tries again.
            cache.TryRemove(new KeyValuePair<RosterApp, Lazy<Task<T>>>(app, lazy));
            throw;
        }
    }
}
