using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;

namespace Roster.Tests.Support;

public sealed record FakeOrganization(string Id, string Name, IReadOnlyList<string> Domains, DateTime CreatedAt, DateTime UpdatedAt);

public sealed record FakeUser(string Id, string Email, string FirstName, string LastName, bool EmailVerified, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>An organization membership; <see cref="RoleSlugs"/> holds every role, the first is the legacy <c>role</c>.</summary>
public sealed record FakeMembership(string Id, string UserId, string OrganizationId, string Status, IReadOnlyList<string> RoleSlugs,
    DateTime CreatedAt, DateTime UpdatedAt)
{
    public string RoleSlug => RoleSlugs[0];
}

/// <summary>An environment role (<see cref="OrganizationId"/> null) or an organization role.</summary>
public sealed record FakeRole(string Id, string Slug, string Name, string? Description, IReadOnlyList<string> Permissions, string? OrganizationId,
    DateTime CreatedAt, DateTime UpdatedAt)
{
    public string Type => OrganizationId is null ? "EnvironmentRole" : "OrganizationRole";
}

public sealed record FakeInvitation(string Id, string Email, string OrganizationId, string State, string RoleSlug, string? InviterUserId,
    string? AcceptedUserId, DateTime ExpiresAt, DateTime? AcceptedAt, DateTime? RevokedAt, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>One entry of the event log, exactly as <c>GET /events</c> and a webhook would carry it.</summary>
public sealed record FakeEvent(string Id, string Type, DateTime CreatedAt, string Json);

/// <summary>
/// An API call the fake received (faulted and unauthorized ones included). <see cref="PathAndQuery"/> is the raw request
/// target; <see cref="Headers"/> holds every request header (names lower-cased).
/// </summary>
public sealed record RecordedRequest(string Method, string PathAndQuery, string Body, IReadOnlyDictionary<string, string> Headers)
{
    public string Path => PathAndQuery.Split('?', 2)[0];

    public string? Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var value) ? value : null;
}

/// <summary>
/// A fake WorkOS API on a real Kestrel port, speaking WorkOS's wire format (snake_case objects, <c>{"object":"list",...}</c>
/// lists, <c>{"code","message"}</c> errors). Every state change appends an event to an append-only log that
/// <c>GET /events</c> serves and that the mutators hand back, so a test can also deliver it as a webhook (once, twice,
/// out of order, or never). Each change takes a fresh instant from a monotonic clock (at least 1 ms later than the
/// previous one): event ids (ULIDs) sort in creation order and every changed object's <c>updated_at</c> strictly increases.
/// <para>
/// <see cref="Strict"/> (the default) answers as WorkOS does where the official SDK (<c>@workos-inc/node</c> 11.0.0) shows
/// the rule, proven by running the SDK's own calls against it (tests/contracts/workos): <c>GET /events</c> takes the names
/// as <c>events[]=a&amp;events[]=b</c> or <c>events=a,b</c> and refuses the whole request with 400
/// <c>invalid_events_request</c> when one is not a WorkOS event name (<see cref="EventNames"/>, the SDK's own list);
/// memberships lists take <c>statuses=a,b</c> or <c>statuses[]=</c>; a create replays its first answer for a repeated
/// <c>Idempotency-Key</c>; a membership write naming a role slug the environment or organization does not have is
/// refused (422 <c>role_not_found</c>). Lenient mode (<c>Strict = false</c>) ignores unknown event names instead.
/// </para>
/// </summary>
public sealed partial class FakeWorkOs : IAsyncDisposable
{
    private const string EnvironmentRoleEvent = "role";
    private readonly object _gate = new();
    private readonly WebApplication _app;
    private readonly Dictionary<string, FakeOrganization> _organizations = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FakeUser> _users = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FakeMembership> _memberships = new(StringComparer.Ordinal);
    private readonly List<FakeRole> _roles = [];
    private readonly Dictionary<string, FakeInvitation> _invitations = new(StringComparer.Ordinal);
    private readonly List<StoredEvent> _events = [];
    private readonly List<RecordedRequest> _requests = [];
    private readonly Dictionary<string, (string Fingerprint, Reply Reply)> _idempotent = new(StringComparer.Ordinal);
    private readonly Queue<Fault> _faults = new();
    private long _lastMs;
    private int _lostAnswers;
    private volatile bool _down;

    private sealed record StoredEvent(FakeEvent Event, string? OrganizationId);
    private sealed record Fault(int Status, TimeSpan? RetryAfter);
    private sealed record Reply(int Status, JsonNode? Body, TimeSpan? RetryAfter = null, string? Location = null);

    private FakeWorkOs(WebApplication app)
    {
        _app = app;
        ApiKey = $"sk_test_fake_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12))}";
        // A WorkOS environment starts with these two environment roles (no events: they predate every subscription).
        var at = DateTime.UnixEpoch.AddYears(50);
        foreach (var (slug, name) in DefaultRoles)
            _roles.Add(new FakeRole(NewId("role", at), slug, name, null, [], null, at, at));
    }

    /// <summary>The environment roles every fake starts with, as a new WorkOS environment does.</summary>
    public static readonly IReadOnlyList<(string Slug, string Name)> DefaultRoles = [("member", "Member"), ("admin", "Admin")];

    /// <summary>
    /// Every event name WorkOS knows: the <c>EventName</c> union of <c>@workos-inc/node</c> 11.0.0
    /// (<c>Event['event']</c>); tests/contracts/workos/event-names.mjs proves this list equals the SDK's.
    /// </summary>
    public static readonly IReadOnlySet<string> EventNames = new HashSet<string>(StringComparer.Ordinal)
    {
        "api_key.created", "api_key.revoked",
        "authentication.email_verification_succeeded", "authentication.magic_auth_failed", "authentication.magic_auth_succeeded",
        "authentication.mfa_succeeded", "authentication.oauth_failed", "authentication.oauth_succeeded", "authentication.passkey_failed",
        "authentication.passkey_succeeded", "authentication.password_failed", "authentication.password_succeeded",
        "authentication.radar_risk_detected", "authentication.sso_failed", "authentication.sso_succeeded",
        "connection.activated", "connection.deactivated", "connection.deleted",
        "dsync.activated", "dsync.deleted", "dsync.group.created", "dsync.group.deleted", "dsync.group.updated", "dsync.group.user_added",
        "dsync.group.user_removed", "dsync.user.created", "dsync.user.deleted", "dsync.user.updated",
        "email_verification.created",
        "flag.created", "flag.deleted", "flag.rule_updated", "flag.updated",
        "group.created", "group.deleted", "group.member_added", "group.member_removed", "group.updated",
        "invitation.accepted", "invitation.created", "invitation.resent", "invitation.revoked",
        "magic_auth.created",
        "organization.created", "organization.deleted", "organization.updated",
        "organization_domain.created", "organization_domain.deleted", "organization_domain.updated",
        "organization_domain.verification_failed", "organization_domain.verified",
        "organization_membership.created", "organization_membership.deleted", "organization_membership.updated",
        "organization_role.created", "organization_role.deleted", "organization_role.updated",
        "password_reset.created", "password_reset.succeeded",
        "permission.created", "permission.deleted", "permission.updated",
        "pipes.connected_account.connected", "pipes.connected_account.connection_failed", "pipes.connected_account.disconnected",
        "pipes.connected_account.reauthorization_needed",
        "role.created", "role.deleted", "role.updated",
        "session.created", "session.revoked",
        "user.created", "user.deleted", "user.updated",
        "vault.byok_key.verification_completed", "vault.data.created", "vault.data.deleted", "vault.data.read", "vault.data.updated",
        "vault.dek.decrypted", "vault.dek.read", "vault.kek.created", "vault.metadata.read", "vault.names.listed",
    };

    /// <summary>Answer as WorkOS does (see the class summary); true unless a test says otherwise.</summary>
    public bool Strict { get; set; } = true;

    /// <summary>How WorkOS answers a create for a user who already has a membership there (it does not document it: tests vary it).</summary>
    public int AlreadyExistsStatus { get; set; } = 422;

    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>Every request must carry <c>Authorization: Bearer {ApiKey}</c>.</summary>
    public string ApiKey { get; }

    /// <summary>While true every request answers 503 (nothing changes, nothing is logged but the request itself).</summary>
    public bool Down
    {
        get => _down;
        set => _down = value;
    }

    public static async Task<FakeWorkOs> StartAsync()
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var fake = new FakeWorkOs(app);
        app.Run(fake.HandleAsync);
        await app.StartAsync();
        fake.BaseUrl = new Uri(app.Urls.First().TrimEnd('/') + "/");
        return fake;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>An HttpClient on <see cref="BaseUrl"/> that sends the API key.</summary>
    public HttpClient CreateClient()
    {
        var client = new HttpClient { BaseAddress = BaseUrl };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", ApiKey);
        return client;
    }

    // ---------------------------------------------------------------- fault injection

    /// <summary>The next <paramref name="count"/> requests answer <paramref name="status"/> with a <c>{"code","message"}</c>
    /// body (and <c>Retry-After</c> in whole seconds when given), without touching state or the event log.</summary>
    public void FailNext(int count, int status = 500, TimeSpan? retryAfter = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        lock (_gate)
            for (var i = 0; i < count; i++) _faults.Enqueue(new Fault(status, retryAfter));
    }

    /// <summary>
    /// The next <paramref name="count"/> requests are carried out (state and event log change as usual), but their answer
    /// is lost on the way back: the caller gets a 502 and cannot tell whether anything happened.
    /// </summary>
    /// <summary>
    /// Holds every answer to <c>GET /user_management/users/{id}</c> until the returned hold is released (or, as a bound,
    /// 30 seconds pass), so a test can act while Roster waits on WorkOS and see in which order things happened.
    /// </summary>
    public UserLookupHold HoldUserLookups()
    {
        var hold = new UserLookupHold();
        _userLookupHold = hold;
        return hold;
    }

    private volatile UserLookupHold? _userLookupHold;

    public sealed class UserLookupHold
    {
        private readonly TaskCompletionSource _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes when the first held lookup has arrived.</summary>
        public Task Arrived => _arrived.Task;
        /// <summary>Whether a held lookup has been answered (released, or the bound ran out).</summary>
        public bool Answered { get; private set; }
        public void Release() => _released.TrySetResult();

        internal async Task WaitAsync(CancellationToken ct)
        {
            _arrived.TrySetResult();
            try { await _released.Task.WaitAsync(TimeSpan.FromSeconds(30), ct); }
            catch (TimeoutException) { }
            Answered = true;
        }
    }

    public void LoseNextAnswers(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        lock (_gate) _lostAnswers += count;
    }

    // ---------------------------------------------------------------- snapshots

    public IReadOnlyList<FakeOrganization> Organizations { get { lock (_gate) return [.. _organizations.Values.OrderBy(o => o.Id, StringComparer.Ordinal)]; } }
    public IReadOnlyList<FakeUser> Users { get { lock (_gate) return [.. _users.Values.OrderBy(u => u.Id, StringComparer.Ordinal)]; } }

    /// <summary>Live memberships (removed ones are gone), in creation order.</summary>
    public IReadOnlyList<FakeMembership> Memberships { get { lock (_gate) return [.. _memberships.Values.OrderBy(m => m.Id, StringComparer.Ordinal)]; } }

    /// <summary>Environment roles (<see cref="DefaultRoles"/> included).</summary>
    public IReadOnlyList<FakeRole> Roles { get { lock (_gate) return [.. _roles.Where(r => r.OrganizationId is null)]; } }

    public IReadOnlyList<FakeRole> OrganizationRoles(string organizationId)
    {
        lock (_gate) return [.. _roles.Where(r => r.OrganizationId == organizationId)];
    }

    public IReadOnlyList<FakeInvitation> Invitations { get { lock (_gate) return [.. _invitations.Values.OrderBy(i => i.Id, StringComparer.Ordinal)]; } }

    /// <summary>The whole event log, oldest first.</summary>
    public IReadOnlyList<FakeEvent> Events { get { lock (_gate) return [.. _events.Select(e => e.Event)]; } }

    public IReadOnlyList<RecordedRequest> Requests { get { lock (_gate) return [.. _requests]; } }

    // ---------------------------------------------------------------- mutators (each returns the appended event's JSON)

    public (string Id, string EventJson) CreateOrganization(string name, string? domain = null)
    {
        lock (_gate)
        {
            var at = Tick();
            var org = new FakeOrganization(NewId("org", at), name, domain is null ? [] : [domain], at, at);
            _organizations.Add(org.Id, org);
            return (org.Id, Append("organization.created", Render(org), at, org.Id));
        }
    }

    public string UpdateOrganization(string organizationId, string name)
    {
        lock (_gate)
        {
            var at = Tick();
            var org = Get(_organizations, organizationId) with { Name = name, UpdatedAt = at };
            _organizations[org.Id] = org;
            return Append("organization.updated", Render(org), at, org.Id);
        }
    }

    public (string Id, string EventJson) CreateUser(string email, string firstName = "Test", string lastName = "User", bool emailVerified = true)
    {
        lock (_gate)
        {
            var at = Tick();
            var user = new FakeUser(NewId("user", at), email, firstName, lastName, emailVerified, at, at);
            _users.Add(user.Id, user);
            return (user.Id, Append("user.created", Render(user), at, null));
        }
    }

    public string UpdateUser(string userId, string? email = null, string? firstName = null, string? lastName = null, bool? emailVerified = null)
    {
        lock (_gate)
        {
            var at = Tick();
            var old = Get(_users, userId);
            var user = old with
            {
                Email = email ?? old.Email, FirstName = firstName ?? old.FirstName, LastName = lastName ?? old.LastName,
                EmailVerified = emailVerified ?? old.EmailVerified, UpdatedAt = at,
            };
            _users[user.Id] = user;
            return Append("user.updated", Render(user), at, null);
        }
    }

    /// <summary>Deletes the user (user.deleted). Memberships are left alone: remove them with <see cref="RemoveMembership"/>.</summary>
    public string DeleteUser(string userId)
    {
        lock (_gate)
        {
            var at = Tick();
            var user = Get(_users, userId) with { UpdatedAt = at };
            _users.Remove(userId);
            return Append("user.deleted", Render(user), at, null);
        }
    }

    public (string Id, string EventJson) AddMembership(string userId, string organizationId, string[] roleSlugs, string status = "active")
    {
        lock (_gate)
        {
            Get(_users, userId);
            Get(_organizations, organizationId);
            if (FindMembership(userId, organizationId) is { } existing)
                throw new InvalidOperationException($"{userId} already has membership {existing.Id} in {organizationId}.");
            var m = NewMembership(userId, organizationId, Slugs(roleSlugs), CheckStatus(status));
            return (m.Id, Append("organization_membership.created", Render(m), m.CreatedAt, m.OrganizationId));
        }
    }

    public string UpdateMembership(string membershipId, string[]? roleSlugs = null, string? status = null)
    {
        lock (_gate)
        {
            var old = Get(_memberships, membershipId);
            return SaveMembership(old with
            {
                RoleSlugs = roleSlugs is null ? old.RoleSlugs : Slugs(roleSlugs),
                Status = status is null ? old.Status : CheckStatus(status),
            });
        }
    }

    public string RemoveMembership(string membershipId)
    {
        lock (_gate)
        {
            var at = Tick();
            var m = Get(_memberships, membershipId) with { UpdatedAt = at };
            _memberships.Remove(membershipId);
            return Append("organization_membership.deleted", Render(m), at, m.OrganizationId);
        }
    }

    public string CreateRole(string slug, string name, string[]? permissions = null, string? description = null) =>
        CreateRoleCore(null, slug, name, permissions, description);

    public string UpdateRole(string slug, string? name = null, string[]? permissions = null, string? description = null) =>
        UpdateRoleCore(null, slug, name, permissions, description);

    public string DeleteRole(string slug) => DeleteRoleCore(null, slug);

    /// <summary>A custom organization role; WorkOS requires its slug to start with <c>org-</c>.</summary>
    public string CreateOrganizationRole(string organizationId, string slug, string name, string[]? permissions = null, string? description = null)
    {
        if (!slug.StartsWith("org-", StringComparison.Ordinal))
            throw new ArgumentException("Organization role slugs start with \"org-\".", nameof(slug));
        return CreateRoleCore(organizationId, slug, name, permissions, description);
    }

    public string UpdateOrganizationRole(string organizationId, string slug, string? name = null, string[]? permissions = null, string? description = null) =>
        UpdateRoleCore(organizationId, slug, name, permissions, description);

    public string DeleteOrganizationRole(string organizationId, string slug) => DeleteRoleCore(organizationId, slug);

    public (string Id, string EventJson) CreateInvitation(string email, string organizationId, string roleSlug = "member", string? inviterUserId = null)
    {
        lock (_gate)
        {
            Get(_organizations, organizationId);
            var at = Tick();
            var invitation = new FakeInvitation(NewId("invitation", at), email, organizationId, "pending", roleSlug, inviterUserId, null,
                at.AddDays(7), null, null, at, at);
            _invitations.Add(invitation.Id, invitation);
            return (invitation.Id, Append("invitation.created", Render(invitation), at, organizationId));
        }
    }

    /// <summary>Marks the invitation accepted (invitation.accepted); add the membership yourself if the test needs one.</summary>
    public string AcceptInvitation(string invitationId, string userId)
    {
        lock (_gate)
        {
            var at = Tick();
            var invitation = Get(_invitations, invitationId) with { State = "accepted", AcceptedAt = at, AcceptedUserId = userId, UpdatedAt = at };
            _invitations[invitationId] = invitation;
            return Append("invitation.accepted", Render(invitation), at, invitation.OrganizationId);
        }
    }

    public string RevokeInvitation(string invitationId)
    {
        lock (_gate)
        {
            var at = Tick();
            var invitation = Get(_invitations, invitationId) with { State = "revoked", RevokedAt = at, UpdatedAt = at };
            _invitations[invitationId] = invitation;
            return Append("invitation.revoked", Render(invitation), at, invitation.OrganizationId);
        }
    }

    /// <summary>
    /// Appends an event built elsewhere (e.g. from the SDK's fixtures) to the log exactly as given, so <c>GET /events</c>
    /// serves it; its organization is <c>data.organization_id</c>, or <c>data.id</c> for organization.* events.
    /// </summary>
    public void AppendRawEvent(string eventJson)
    {
        var node = JsonNode.Parse(eventJson)!;
        var type = node["event"]!.GetValue<string>();
        var data = node["data"]!;
        var organizationId = type.StartsWith("organization.", StringComparison.Ordinal) ? data["id"]?.GetValue<string>()
            : data["organization_id"]?.GetValue<string>();
        var at = Roster.Infrastructure.WorkOs.WorkOsTime.TryParse(node["created_at"]?.GetValue<string>(), out var parsed) ? parsed : DateTime.UtcNow;
        lock (_gate) _events.Add(new StoredEvent(new FakeEvent(node["id"]!.GetValue<string>(), type, at, eventJson), organizationId));
    }

    // ---------------------------------------------------------------- state helpers (call under _gate)

    private string CreateRoleCore(string? organizationId, string slug, string name, string[]? permissions, string? description)
    {
        lock (_gate)
        {
            if (organizationId is not null) Get(_organizations, organizationId);
            if (FindRole(organizationId, slug) is not null)
                throw new InvalidOperationException($"Role {slug} already exists{(organizationId is null ? "" : $" in {organizationId}")}.");
            var at = Tick();
            var role = new FakeRole(NewId("role", at), slug, name, description, [.. permissions ?? []], organizationId, at, at);
            _roles.Add(role);
            return Append(RoleEventPrefix(role) + ".created", RenderRoleEventData(role), at, organizationId);
        }
    }

    private string UpdateRoleCore(string? organizationId, string slug, string? name, string[]? permissions, string? description)
    {
        lock (_gate)
        {
            var old = FindRole(organizationId, slug) ?? throw new KeyNotFoundException($"No role {slug}.");
            var at = Tick();
            var role = old with
            {
                Name = name ?? old.Name, Description = description ?? old.Description,
                Permissions = permissions is null ? old.Permissions : [.. permissions], UpdatedAt = at,
            };
            _roles[_roles.IndexOf(old)] = role;
            return Append(RoleEventPrefix(role) + ".updated", RenderRoleEventData(role), at, organizationId);
        }
    }

    private string DeleteRoleCore(string? organizationId, string slug)
    {
        lock (_gate)
        {
            var old = FindRole(organizationId, slug) ?? throw new KeyNotFoundException($"No role {slug}.");
            var at = Tick();
            _roles.Remove(old);
            var role = old with { UpdatedAt = at };
            return Append(RoleEventPrefix(role) + ".deleted", RenderRoleEventData(role), at, organizationId);
        }
    }

    private static string RoleEventPrefix(FakeRole role) => role.OrganizationId is null ? EnvironmentRoleEvent : "organization_role";

    private FakeRole? FindRole(string? organizationId, string slug) =>
        _roles.FirstOrDefault(r => r.OrganizationId == organizationId && r.Slug == slug);

    private FakeMembership? FindMembership(string userId, string organizationId) =>
        _memberships.Values.FirstOrDefault(m => m.UserId == userId && m.OrganizationId == organizationId);

    private FakeMembership NewMembership(string userId, string organizationId, IReadOnlyList<string> roleSlugs, string status)
    {
        var at = Tick();
        var m = new FakeMembership(NewId("om", at), userId, organizationId, status, roleSlugs, at, at);
        _memberships.Add(m.Id, m);
        return m;
    }

    private string SaveMembership(FakeMembership changed)
    {
        var at = Tick();
        var m = changed with { UpdatedAt = at };
        _memberships[m.Id] = m;
        return Append("organization_membership.updated", Render(m), at, m.OrganizationId);
    }

    private string Append(string type, JsonObject data, DateTime at, string? organizationId)
    {
        var id = "event_" + Ulid(at);
        var json = new JsonObject { ["object"] = "event", ["id"] = id, ["event"] = type, ["data"] = data, ["created_at"] = Iso(at) }.ToJsonString();
        _events.Add(new StoredEvent(new FakeEvent(id, type, at, json), organizationId));
        return json;
    }

    /// <summary>The next instant of the monotonic clock: now, or 1 ms after the previous instant if that is later.</summary>
    private DateTime Tick()
    {
        _lastMs = Math.Max(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), _lastMs + 1);
        return DateTime.UnixEpoch.AddMilliseconds(_lastMs);
    }

    private static T Get<T>(Dictionary<string, T> items, string id) =>
        items.TryGetValue(id, out var item) ? item : throw new KeyNotFoundException($"No {typeof(T).Name} {id}.");

    private static IReadOnlyList<string> Slugs(string[] roleSlugs) =>
        roleSlugs.Length > 0 ? [.. roleSlugs] : throw new ArgumentException("A membership has at least one role.", nameof(roleSlugs));

    private static string CheckStatus(string status) => status is "active" or "inactive" or "pending"
        ? status
        : throw new ArgumentException("Status is active, inactive or pending.", nameof(status));

    // ---------------------------------------------------------------- wire format

    public static string Iso(DateTime at) => at.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private const string Crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    /// <summary>A ULID: 10 characters of millisecond time, then 16 random ones (Crockford base32, so ordinal order is time order).</summary>
    private static string Ulid(DateTime at)
    {
        var chars = new char[26];
        var ms = (long)(at - DateTime.UnixEpoch).TotalMilliseconds;
        for (var i = 9; i >= 0; i--, ms >>= 5) chars[i] = Crockford[(int)(ms & 31)];
        var random = RandomNumberGenerator.GetBytes(16);
        for (var i = 0; i < 16; i++) chars[10 + i] = Crockford[random[i] & 31];
        return new string(chars);
    }

    private static string NewId(string prefix, DateTime at) => $"{prefix}_{Ulid(at)}";

    private static JsonArray Strings(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode?)JsonValue.Create(v))]);

    private static JsonObject Render(FakeOrganization o) => new()
    {
        ["object"] = "organization",
        ["id"] = o.Id,
        ["name"] = o.Name,
        ["domains"] = new JsonArray([.. o.Domains.Select((d, i) => (JsonNode?)new JsonObject
        {
            ["object"] = "organization_domain", ["id"] = $"org_domain_{o.Id[4..]}{i}", ["domain"] = d, ["state"] = "verified",
        })]),
        ["external_id"] = null,
        ["metadata"] = new JsonObject(),
        ["created_at"] = Iso(o.CreatedAt),
        ["updated_at"] = Iso(o.UpdatedAt),
    };

    private static JsonObject Render(FakeUser u) => new()
    {
        ["object"] = "user",
        ["id"] = u.Id,
        ["email"] = u.Email,
        ["email_verified"] = u.EmailVerified,
        ["first_name"] = u.FirstName,
        ["last_name"] = u.LastName,
        ["profile_picture_url"] = null,
        ["external_id"] = null,
        ["metadata"] = new JsonObject(),
        ["last_sign_in_at"] = null,
        ["created_at"] = Iso(u.CreatedAt),
        ["updated_at"] = Iso(u.UpdatedAt),
    };

    private JsonObject Render(FakeMembership m) => new()
    {
        ["object"] = "organization_membership",
        ["id"] = m.Id,
        ["user_id"] = m.UserId,
        ["organization_id"] = m.OrganizationId,
        ["organization_name"] = _organizations.TryGetValue(m.OrganizationId, out var org) ? org.Name : null,
        ["status"] = m.Status,
        ["role"] = new JsonObject { ["slug"] = m.RoleSlug },
        ["roles"] = new JsonArray([.. m.RoleSlugs.Select(s => (JsonNode?)new JsonObject { ["slug"] = s })]),
        ["directory_managed"] = false,
        ["custom_attributes"] = new JsonObject(),
        ["created_at"] = Iso(m.CreatedAt),
        ["updated_at"] = Iso(m.UpdatedAt),
    };

    /// <summary>Event data for invitations carries no <c>token</c> or <c>accept_invitation_url</c>.</summary>
    private static JsonObject Render(FakeInvitation i) => new()
    {
        ["object"] = "invitation",
        ["id"] = i.Id,
        ["email"] = i.Email,
        ["state"] = i.State,
        ["accepted_at"] = i.AcceptedAt is { } accepted ? Iso(accepted) : null,
        ["revoked_at"] = i.RevokedAt is { } revoked ? Iso(revoked) : null,
        ["expires_at"] = Iso(i.ExpiresAt),
        ["organization_id"] = i.OrganizationId,
        ["inviter_user_id"] = i.InviterUserId,
        ["accepted_user_id"] = i.AcceptedUserId,
        ["role_slug"] = i.RoleSlug,
        ["created_at"] = Iso(i.CreatedAt),
        ["updated_at"] = Iso(i.UpdatedAt),
    };

    /// <summary>
    /// The REST role object (GET /authorization/roles, GET /authorization/organizations/{id}/roles): it has <c>id</c> and <c>type</c>.
    /// </summary>
    private static JsonObject RenderRole(FakeRole r) => new()
    {
        ["object"] = "role",
        ["id"] = r.Id,
        ["slug"] = r.Slug,
        ["name"] = r.Name,
        ["description"] = r.Description,
        ["permissions"] = Strings(r.Permissions),
        ["resource_type_slug"] = "organization",
        ["type"] = r.Type,
        ["created_at"] = Iso(r.CreatedAt),
        ["updated_at"] = Iso(r.UpdatedAt),
    };

    /// <summary>
    /// Role event data is keyed by slug and has no id. As in WorkOS's published event schemas, <c>role.*</c> (environment)
    /// data carries no <c>name</c> or <c>description</c>; <c>organization_role.*</c> data carries both and <c>organization_id</c>.
    /// </summary>
    private static JsonObject RenderRoleEventData(FakeRole r)
    {
        var data = new JsonObject { ["object"] = r.OrganizationId is null ? "role" : "organization_role" };
        if (r.OrganizationId is not null)
        {
            data["organization_id"] = r.OrganizationId;
            data["slug"] = r.Slug;
            data["name"] = r.Name;
            data["description"] = r.Description;
        }
        else
        {
            data["slug"] = r.Slug;
        }
        data["resource_type_slug"] = "organization";
        data["permissions"] = Strings(r.Permissions);
        data["created_at"] = Iso(r.CreatedAt);
        data["updated_at"] = Iso(r.UpdatedAt);
        return data;
    }

    private static Reply Error(int status, string code, string message) =>
        new(status, new JsonObject { ["code"] = code, ["message"] = message });

    private static Reply NotFound(string what, string id) => Error(404, "entity_not_found", $"Could not find {what} '{id}'.");

    private static JsonObject List(IEnumerable<JsonNode> data, string? after) => new()
    {
        ["object"] = "list",
        ["data"] = new JsonArray([.. data]),
        ["list_metadata"] = new JsonObject { ["before"] = null, ["after"] = after },
    };

    // ---------------------------------------------------------------- HTTP

    private async Task HandleAsync(HttpContext ctx)
    {
        string body;
        using (var reader = new StreamReader(ctx.Request.Body, Encoding.UTF8))
            body = await reader.ReadToEndAsync(ctx.RequestAborted);
        var target = ctx.Features.Get<IHttpRequestFeature>()?.RawTarget ?? ctx.Request.Path + ctx.Request.QueryString;
        if (_userLookupHold is { } hold && HttpMethods.IsGet(ctx.Request.Method)
            && ctx.Request.Path.StartsWithSegments("/user_management/users", StringComparison.Ordinal))
            await hold.WaitAsync(ctx.RequestAborted);

        Reply reply;
        lock (_gate)
        {
            var headers = ctx.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString(), StringComparer.Ordinal);
            _requests.Add(new RecordedRequest(ctx.Request.Method, target, body, headers));
            var carriedOut = false;
            reply = Down ? Error(503, "service_unavailable", "The fake WorkOS API is down.")
                : _faults.TryDequeue(out var fault) ? FaultReply(fault)
                : !Authorized(ctx.Request) && !IsAuthKitRoute(ctx.Request) ? Error(401, "unauthorized", "Could not authorize the request. Maybe your API key is invalid?")
                : Carry(out carriedOut, Idempotent(ctx.Request, body));
            if (carriedOut && _lostAnswers > 0)
            {
                _lostAnswers--;
                reply = Error(502, "bad_gateway", "The answer was lost on the way back.");
            }
        }

        ctx.Response.StatusCode = reply.Status;
        if (reply.Location is not null) ctx.Response.Headers.Location = reply.Location;
        if (reply.RetryAfter is { } retryAfter)
            ctx.Response.Headers.RetryAfter = ((long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        if (reply.Body is not null)
        {
            ctx.Response.ContentType = "application/json";
            await ctx.Response.WriteAsync(reply.Body.ToJsonString(), ctx.RequestAborted);
        }
    }

    private static Reply Carry(out bool carriedOut, Reply reply)
    {
        carriedOut = true;
        return reply;
    }

    private static Reply FaultReply(Fault fault)
    {
        var code = fault.Status switch
        {
            429 => "rate_limit_exceeded",
            503 => "service_unavailable",
            >= 500 => "server_error",
            _ => "injected_fault",
        };
        return Error(fault.Status, code, $"Injected fault ({fault.Status}).") with { RetryAfter = fault.RetryAfter };
    }

    /// <summary>
    /// A POST with an <c>Idempotency-Key</c> seen before gets the first answer again and changes nothing; the same key with
    /// another body is refused. Only successful answers are kept, so a retry after an error is tried again.
    /// </summary>
    private Reply Idempotent(HttpRequest request, string body)
    {
        var key = request.Headers["Idempotency-Key"].ToString();
        if (!Strict || request.Method != "POST" || string.IsNullOrEmpty(key)) return Dispatch(request, body);
        var fingerprint = $"{request.Path}\n{body}";
        if (_idempotent.TryGetValue(key, out var seen))
            return seen.Fingerprint == fingerprint
                ? seen.Reply
                : Error(400, "idempotency_key_reused", "This Idempotency-Key was used for a different request.");
        var reply = Dispatch(request, body);
        if (reply.Status is >= 200 and < 300) _idempotent[key] = (fingerprint, reply);
        return reply;
    }

    private bool Authorized(HttpRequest request) =>
        string.Equals(request.Headers.Authorization.ToString(), $"Bearer {ApiKey}", StringComparison.Ordinal);

    private Reply Dispatch(HttpRequest request, string body)
    {
        var s = request.Path.Value!.Trim('/').Split('/');
        var method = request.Method;
        return (method, s) switch
        {
            ("GET", ["user_management", "authorize"]) => Authorize(request.Query),
            ("POST", ["user_management", "authenticate"]) => Authenticate(body),
            ("GET", ["events"]) => ListEvents(request.Query),
            ("GET", ["organizations"]) => ListOrganizations(request.Query),
            ("GET", ["organizations", var id]) => _organizations.TryGetValue(id, out var org) ? new Reply(200, Render(org)) : NotFound("organization", id),
            ("PUT", ["organizations", var id]) => PutOrganization(id, body),
            ("GET", ["user_management", "users", var id]) => _users.TryGetValue(id, out var user) ? new Reply(200, Render(user)) : NotFound("user", id),
            ("GET", ["user_management", "organization_memberships"]) => ListMemberships(request.Query),
            ("POST", ["user_management", "organization_memberships"]) => CreateMembership(body),
            ("GET", ["user_management", "organization_memberships", var id]) =>
                _memberships.TryGetValue(id, out var m) ? new Reply(200, Render(m)) : NotFound("organization membership", id),
            ("PUT", ["user_management", "organization_memberships", var id]) => PutMembership(id, body),
            ("DELETE", ["user_management", "organization_memberships", var id]) => DeleteMembership(id),
            ("GET", ["authorization", "roles"]) => new Reply(200, RoleList(_roles.Where(r => r.OrganizationId is null))),
            ("GET", ["authorization", "roles", var slug]) =>
                FindRole(null, slug) is { } role ? new Reply(200, RenderRole(role)) : NotFound("role", slug),
            ("GET", ["authorization", "organizations", var orgId, "roles"]) => _organizations.ContainsKey(orgId)
                // WorkOS lists every role that applies to the organization: environment roles, then its own.
                ? new Reply(200, RoleList(_roles.Where(r => r.OrganizationId is null).Concat(_roles.Where(r => r.OrganizationId == orgId))))
                : NotFound("organization", orgId),
            ("GET", ["authorization", "organizations", var orgId, "roles", var slug]) =>
                (FindRole(orgId, slug) ?? FindRole(null, slug)) is { } role ? new Reply(200, RenderRole(role)) : NotFound("role", slug),
            _ => Error(404, "not_found", $"The fake WorkOS API has no route {method} {request.Path}."),
        };
    }

    private static JsonObject RoleList(IEnumerable<FakeRole> roles) => new()
    {
        ["object"] = "list",
        ["data"] = new JsonArray([.. roles.Select(r => (JsonNode?)RenderRole(r))]),
    };

    private Reply ListEvents(IQueryCollection query)
    {
        var types = ListParameter(query, "events");
        if (types.Count == 0) return Error(400, "invalid_request", "events is required: name at least one event type.");
        if (Strict && types.Where(t => !EventNames.Contains(t)).ToList() is { Count: > 0 } unknown)
            return Error(400, "invalid_events_request", $"Invalid events: {string.Join(", ", unknown)}.");
        if (Limit(query, out var limit) is { } bad) return bad;
        if (Instant(query, "range_start", out var start) is { } badStart) return badStart;
        if (Instant(query, "range_end", out var end) is { } badEnd) return badEnd;
        var organizationId = Single(query, "organization_id");
        var after = Single(query, "after");

        var matching = _events
            .Where(e => types.Contains(e.Event.Type))
            .Where(e => organizationId is null || e.OrganizationId == organizationId)
            .Where(e => start is null || e.Event.CreatedAt >= start)
            .Where(e => end is null || e.Event.CreatedAt < end)
            .Where(e => after is null || string.CompareOrdinal(e.Event.Id, after) > 0)
            .Take(limit + 1)
            .ToList();
        var page = matching.Take(limit).ToList();
        var next = matching.Count > limit ? page[^1].Event.Id : null;
        return new Reply(200, List(page.Select(e => JsonNode.Parse(e.Event.Json)!), next));
    }

    /// <summary>
    /// A list parameter as WorkOS takes it: repeated (<c>name[]=a&amp;name[]=b</c> or <c>name=a&amp;name=b</c>) or comma-joined
    /// (<c>name=a,b</c>, which is what <c>@workos-inc/node</c> sends).
    /// </summary>
    private static HashSet<string> ListParameter(IQueryCollection query, string name) =>
        query[name + "[]"].Concat(query[name])
            .SelectMany(v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .ToHashSet(StringComparer.Ordinal);

    /// <summary>GET /organizations: every organization, newest first unless <c>order=asc</c>, paged by <c>after</c>.</summary>
    private Reply ListOrganizations(IQueryCollection query)
    {
        if (Limit(query, out var limit) is { } bad) return bad;
        var descending = Single(query, "order") is not ("asc" or "normal");
        var after = Single(query, "after");
        var matching = _organizations.Values
            .Where(o => after is null || (descending ? string.CompareOrdinal(o.Id, after) < 0 : string.CompareOrdinal(o.Id, after) > 0));
        var ordered = (descending ? matching.OrderByDescending(o => o.Id, StringComparer.Ordinal) : matching.OrderBy(o => o.Id, StringComparer.Ordinal))
            .Take(limit + 1).ToList();
        var page = ordered.Take(limit).ToList();
        return new Reply(200, List(page.Select(o => (JsonNode)Render(o)), ordered.Count > limit ? page[^1].Id : null));
    }

    private Reply ListMemberships(IQueryCollection query)
    {
        var organizationId = Single(query, "organization_id");
        var userId = Single(query, "user_id");
        if (organizationId is null && userId is null)
            return Error(400, "invalid_request", "Provide organization_id or user_id (or both).");
        if (Limit(query, out var limit) is { } bad) return bad;
        var statuses = ListParameter(query, "statuses");
        if (Strict && statuses.FirstOrDefault(t => t is not ("active" or "inactive" or "pending")) is { } badStatus)
            return Error(422, "invalid_request_parameters", $"statuses: '{badStatus}' is not one of active, inactive, pending.");
        if (statuses.Count == 0) statuses.Add("active"); // WorkOS returns only active memberships unless statuses says otherwise.
        var descending = Single(query, "order") is not ("asc" or "normal"); // WorkOS lists newest first by default.
        var after = Single(query, "after");

        var matching = _memberships.Values
            .Where(m => organizationId is null || m.OrganizationId == organizationId)
            .Where(m => userId is null || m.UserId == userId)
            .Where(m => statuses.Contains(m.Status))
            .Where(m => after is null || (descending ? string.CompareOrdinal(m.Id, after) < 0 : string.CompareOrdinal(m.Id, after) > 0));
        var ordered = (descending ? matching.OrderByDescending(m => m.Id, StringComparer.Ordinal) : matching.OrderBy(m => m.Id, StringComparer.Ordinal))
            .Take(limit + 1).ToList();
        var page = ordered.Take(limit).ToList();
        return new Reply(200, List(page.Select(m => (JsonNode)Render(m)), ordered.Count > limit ? page[^1].Id : null));
    }

    private Reply CreateMembership(string body)
    {
        if (ParseBody(body, out var json) is { } bad) return bad;
        if (Field(json, "user_id", out var userId) is { } badUser) return badUser;
        if (Field(json, "organization_id", out var organizationId) is { } badOrg) return badOrg;
        if (userId is null || organizationId is null)
            return Error(422, "invalid_request_parameters", "user_id and organization_id are required.");
        if (RoleSlugsOf(json, out var slugs) is { } badRoles) return badRoles;
        if (!_users.ContainsKey(userId)) return NotFound("user", userId);
        if (!_organizations.ContainsKey(organizationId)) return NotFound("organization", organizationId);

        var roles = slugs ?? ["member"];
        if (UnknownRole(organizationId, roles) is { } unknownRole) return unknownRole;
        if (FindMembership(userId, organizationId) is { } existing)
        {
            if (existing.Status != "inactive")
                return Error(AlreadyExistsStatus, "organization_membership_already_exists", $"User {userId} already has a membership in organization {organizationId}.");
            // WorkOS re-activates an inactive membership with the requested role(s) instead of creating another.
            SaveMembership(existing with { Status = "active", RoleSlugs = roles });
            return new Reply(200, Render(_memberships[existing.Id]));
        }
        var m = NewMembership(userId, organizationId, roles, "active");
        Append("organization_membership.created", Render(m), m.CreatedAt, m.OrganizationId);
        return new Reply(201, Render(m));
    }

    private Reply PutMembership(string id, string body)
    {
        if (!_memberships.TryGetValue(id, out var m)) return NotFound("organization membership", id);
        if (ParseBody(body, out var json) is { } bad) return bad;
        if (RoleSlugsOf(json, out var slugs) is { } badRoles) return badRoles;
        if (slugs is null) return Error(422, "invalid_request_parameters", "role_slug or role_slugs is required.");
        if (UnknownRole(m.OrganizationId, slugs) is { } unknownRole) return unknownRole;
        SaveMembership(m with { RoleSlugs = slugs });
        return new Reply(200, Render(_memberships[id]));
    }

    /// <summary>Strict: a slug must name an environment role or one of the organization's own roles.</summary>
    private Reply? UnknownRole(string organizationId, IEnumerable<string> slugs) =>
        Strict && slugs.FirstOrDefault(s => FindRole(organizationId, s) is null && FindRole(null, s) is null) is { } unknown
            ? Error(422, "role_not_found", $"Role '{unknown}' does not exist.")
            : null;

    /// <summary>WorkOS's update organization (the SDK's updateOrganization): here only the name is kept.</summary>
    private Reply PutOrganization(string id, string body)
    {
        if (!_organizations.ContainsKey(id)) return NotFound("organization", id);
        if (ParseBody(body, out var json) is { } bad) return bad;
        if (json["name"] is not JsonValue name || !name.TryGetValue<string>(out var text) || string.IsNullOrWhiteSpace(text))
            return Error(422, "invalid_request_parameters", "name must be a non-empty string.");
        UpdateOrganization(id, text);
        return new Reply(200, Render(_organizations[id]));
    }

    private Reply DeleteMembership(string id)
    {
        if (!_memberships.ContainsKey(id)) return NotFound("organization membership", id);
        RemoveMembership(id);
        return new Reply(204, null);
    }

    private static Reply? ParseBody(string body, out JsonObject json)
    {
        json = [];
        try
        {
            if (JsonNode.Parse(string.IsNullOrWhiteSpace(body) ? "{}" : body) is JsonObject parsed)
            {
                json = parsed;
                return null;
            }
        }
        catch (JsonException)
        {
        }
        return Error(400, "invalid_request", "The body must be a JSON object.");
    }

    private static Reply? Field(JsonObject json, string name, out string? value)
    {
        value = null;
        if (json[name] is null) return null;
        if (json[name] is JsonValue v && v.TryGetValue(out string? s) && !string.IsNullOrEmpty(s))
        {
            value = s;
            return null;
        }
        return Error(422, "invalid_request_parameters", $"{name} must be a non-empty string.");
    }

    /// <summary><c>role_slug</c> (one) or <c>role_slugs</c> (several), never both; null when neither is given.</summary>
    private static Reply? RoleSlugsOf(JsonObject json, out IReadOnlyList<string>? slugs)
    {
        slugs = null;
        if (Field(json, "role_slug", out var single) is { } bad) return bad;
        var many = json["role_slugs"];
        if (single is not null && many is not null)
            return Error(422, "invalid_request_parameters", "role_slug and role_slugs are mutually exclusive.");
        if (single is not null)
        {
            slugs = [single];
            return null;
        }
        if (many is null) return null;
        if (many is JsonArray array && array.Count > 0 && array.All(n => n is JsonValue v && v.TryGetValue(out string? s) && !string.IsNullOrEmpty(s)))
        {
            slugs = [.. array.Select(n => n!.GetValue<string>())];
            return null;
        }
        return Error(422, "invalid_request_parameters", "role_slugs must be a non-empty array of strings.");
    }

    private static string? Single(IQueryCollection query, string name) =>
        query.TryGetValue(name, out StringValues values) && !string.IsNullOrEmpty(values.ToString()) ? values.ToString() : null;

    private static Reply? Limit(IQueryCollection query, out int limit)
    {
        limit = 10;
        var raw = Single(query, "limit");
        if (raw is null) return null;
        if (int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out limit) && limit is >= 1 and <= 100) return null;
        return Error(400, "invalid_request", "limit must be between 1 and 100.");
    }

    private static Reply? Instant(IQueryCollection query, string name, out DateTime? instant)
    {
        instant = null;
        var raw = Single(query, name);
        if (raw is null) return null;
        if (DateTime.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var parsed))
        {
            instant = parsed;
            return null;
        }
        return Error(400, "invalid_request", $"{name} must be an ISO 8601 timestamp.");
    }
}
