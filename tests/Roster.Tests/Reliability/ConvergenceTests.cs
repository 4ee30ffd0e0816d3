using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;
using Roster.Tests.Support;
using Xunit.Abstractions;

namespace Roster.Tests.Reliability;

/// <summary>
/// The convergence property's services: a reference host that gets every event in WorkOS's order, one at a time, and the
/// subject that gets the same events shuffled, duplicated and several at once — on PostgreSQL two instances on one
/// database (each with the pool the README's sizing rule gives it), on SQLite one. Every organization has seats enough
/// (an unlimited plan): a seat refusal depends on order by design (DESIGN §1.3), convergence is about everything else.
/// </summary>
public abstract class ConvergenceHosts(StorageProvider provider) : IAsyncLifetime
{
    public const string Plan = "converge";
    private readonly List<StorageOptions> _databases = [];

    public ReliabilityHost Reference { get; private set; } = null!;
    public ReliabilityHost[] Subjects { get; private set; } = [];

    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Seats:DefaultPlan"] = Plan,
        [$"Plans:{Plan}:contributor"] = "-1",
        [$"Plans:{Plan}:community_only"] = "-1",
        ["Notifications:DispatcherEnabled"] = "false",
    };

    public async Task InitializeAsync()
    {
        var reference = TestDatabases.Create(provider);
        var subject = TestDatabases.Create(provider);
        _databases.AddRange([reference, subject]);
        Reference = new ReliabilityHost(reference, Settings);
        if (provider == StorageProvider.Postgres)
        {
            var shared = PoolSizing.ForInstances(subject, instances: 2);
            Subjects = [new ReliabilityHost(shared, Settings), new ReliabilityHost(shared, Settings)];
        }
        else
        {
            Subjects = [new ReliabilityHost(subject, Settings)];
        }
        await Task.WhenAll(Subjects.Append(Reference).Select(h => Task.Run(h.StartAsync)));
    }

    public Task DisposeAsync()
    {
        Reference?.Dispose();
        foreach (var host in Subjects) host.Dispose();
        foreach (var database in _databases) TestDatabases.Drop(database);
        return Task.CompletedTask;
    }
}

public sealed class PostgresConvergenceHosts() : ConvergenceHosts(StorageProvider.Postgres);

public sealed class SqliteConvergenceHosts() : ConvergenceHosts(StorageProvider.Sqlite);

/// <summary>What happened in WorkOS, in order; each step becomes one or more events (see <see cref="WorkOsHistory"/>).</summary>
public sealed record HistoryStep(string What)
{
    public override string ToString() => What;
}

/// <summary>
/// One generated case: the choices that drive the WorkOS history (interpreted against WorkOS's state, so every history is
/// one WorkOS could produce), and how the subject gets the events: the shuffle, which ones come twice, how many at once.
/// </summary>
public sealed record ConvergenceCase(int[] Choices, int DeliverySeed, int Concurrency)
{
    public override string ToString()
    {
        var history = WorkOsHistory.Build(Choices, "T", DateTime.UnixEpoch);
        return $"{Choices.Length} choices [{string.Join(",", Choices)}], delivery seed {DeliverySeed}, {Concurrency} at once; " +
               $"{history.Events.Count} events:{Environment.NewLine}" +
               string.Join(Environment.NewLine, history.Steps.Select((s, i) => $"    {i,2}: {s}"));
    }
}

/// <summary>A signed WorkOS event of the history, in WorkOS's order.</summary>
public sealed record HistoryEvent(string Id, string Type, string Json);

/// <summary>
/// A WorkOS environment and the history of what happened in it: organizations created, renamed and deleted; users created,
/// renamed and deleted (their memberships go with them, without events of their own, as the worst case); memberships
/// added, changed (role, status), removed and added again (a new om_ id); invitations made, resent, revoked and accepted
/// (user.created when the invitee is new, invitation.accepted, the membership); environment roles created, changed,
/// deleted and re-created. Only what WorkOS allows: no invitation for a member or to a pending invitee, no membership for
/// a pending invitee except by accepting, a role assigned only while it exists and deleted only while unassigned, a user
/// deleted only without pending invitations. Timestamps advance 0–1.5 s a step (ties happen); event ids follow time.
/// The final state is what Roster must show whatever order the events arrive in.
/// </summary>
public sealed class WorkOsHistory
{
    public const int Orgs = 2;
    public const int People = 4;
    public const int RoleCount = 2;
    public const string SeatType = "community_only";

    private sealed class OrgState
    {
        public bool Created, Deleted;
        public string Name = "";
        public DateTime CreatedAt;
        public bool Live => Created && !Deleted;
    }

    private sealed class UserState
    {
        public bool Created, Deleted;
        public string First = "";
        public DateTime CreatedAt;
        public bool Live => Created && !Deleted;
    }

    private sealed class MembershipState
    {
        public required string Om;
        public required int Person, Org;
        public string Status = "active";
        public string Role = "member";
        public DateTime CreatedAt;
        public bool Deleted;
    }

    private sealed class InvitationState
    {
        public required string Id;
        public required int Person, Org;
        public string State = "pending";
        public DateTime CreatedAt, ExpiresAt;
    }

    private sealed class RoleState
    {
        public bool Created, Deleted;
        public string[] Permissions = [];
        public DateTime CreatedAt;
        public bool Live => Created && !Deleted;
    }

    private readonly string _tag;
    private DateTime _now;
    private int _names;
    private readonly OrgState[] _orgs = Enumerable.Range(0, Orgs).Select(_ => new OrgState()).ToArray();
    private readonly UserState[] _users = Enumerable.Range(0, People).Select(_ => new UserState()).ToArray();
    private readonly RoleState[] _roles = Enumerable.Range(0, RoleCount).Select(_ => new RoleState()).ToArray();
    private readonly List<MembershipState> _memberships = [];
    private readonly List<InvitationState> _invitations = [];

    private WorkOsHistory(string tag, DateTime start)
    {
        _tag = tag;
        _now = start;
    }

    public List<HistoryStep> Steps { get; } = [];
    public List<HistoryEvent> Events { get; } = [];

    public string OrgId(int o) => $"org_{_tag}_{o}";
    public string UserId(int p) => $"user_{_tag}_{p}";
    public string Email(int p) => $"p{p}.{_tag}@example.com";
    public string RoleSlug(int r) => $"role-{r}-{_tag}";
    public IEnumerable<string> OrgIds => Enumerable.Range(0, Orgs).Select(OrgId);
    public IEnumerable<string> UserIds => Enumerable.Range(0, People).Select(UserId);
    public IEnumerable<string> RoleSlugs => Enumerable.Range(0, RoleCount).Select(RoleSlug);

    /// <summary>Interprets <paramref name="choices"/> as a WorkOS history; ids carry <paramref name="tag"/>, times start at <paramref name="start"/>.</summary>
    public static WorkOsHistory Build(int[] choices, string tag, DateTime start)
    {
        var history = new WorkOsHistory(tag, start);
        // Something to work with first: both organizations and two people exist before the random part.
        history.CreateOrg(0);
        history.CreateOrg(1);
        history.CreateUser(0);
        history.CreateUser(1);
        foreach (var choice in choices) history.Apply(choice);
        return history;
    }

    private void Apply(int choice)
    {
        // The low digits pick what happens (weighted), the rest whom it happens to and how.
        var kind = choice % 40;
        var arg = choice / 40;
        _now = _now.AddMilliseconds(arg % 4 == 0 ? 0 : arg % 1500);
        var o = arg % Orgs;
        var p = arg / Orgs % People;
        switch (kind)
        {
            case < 8: AddMember(p, o, arg); break;
            case < 14: ChangeMember(arg); break;
            case < 17: RemoveMember(arg); break;
            case < 21: Invite(p, o); break;
            case < 25: Accept(arg); break;
            case 25: Revoke(arg); break;
            case 26: Resend(arg); break;
            case < 29: CreateUser(p); break;
            case < 31: RenameUser(p); break;
            case 31: DeleteUser(p); break;
            case 32: RenameOrg(o); break;
            case 33: if (arg % 3 == 0) DeleteOrg(o); else RenameOrg(o); break;
            case < 36: CreateOrUpdateRole(arg % RoleCount, arg); break;
            case < 38: DeleteRole(arg % RoleCount); break;
            default: ChangeMember(arg); break;
        }
    }

    // --- what happens in WorkOS -------------------------------------------------------------------------------------

    private void CreateOrg(int o)
    {
        var org = _orgs[o];
        if (org.Created) return;
        (org.Created, org.Name, org.CreatedAt) = (true, $"Org {o} v{++_names}", _now);
        Emit($"organization {o} created as '{org.Name}'", ("organization.created", OrgData(o)));
    }

    private void RenameOrg(int o)
    {
        var org = _orgs[o];
        if (!org.Live) return;
        org.Name = $"Org {o} v{++_names}";
        Emit($"organization {o} renamed '{org.Name}'", ("organization.updated", OrgData(o)));
    }

    private void DeleteOrg(int o)
    {
        var org = _orgs[o];
        if (!org.Live) return;
        org.Deleted = true;
        foreach (var m in _memberships.Where(m => m.Org == o)) m.Deleted = true;
        foreach (var i in _invitations.Where(i => i.Org == o && i.State == "pending")) i.State = "gone";
        Emit($"organization {o} deleted (its memberships and invitations with it, no events for them)", ("organization.deleted", OrgData(o)));
    }

    private void CreateUser(int p)
    {
        var user = _users[p];
        if (user.Created) return;
        (user.Created, user.First, user.CreatedAt) = (true, $"P{p}v{++_names}", _now);
        Emit($"user {p} created ('{user.First}')", ("user.created", UserData(p)));
    }

    private void RenameUser(int p)
    {
        var user = _users[p];
        if (!user.Live) return;
        user.First = $"P{p}v{++_names}";
        Emit($"user {p} renamed '{user.First}'", ("user.updated", UserData(p)));
    }

    private void DeleteUser(int p)
    {
        var user = _users[p];
        if (!user.Live || _invitations.Any(i => i.Person == p && i.State == "pending")) return;
        user.Deleted = true;
        foreach (var m in _memberships.Where(m => m.Person == p)) m.Deleted = true;
        Emit($"user {p} deleted (their memberships with them, no events for them)", ("user.deleted", UserData(p)));
    }

    private MembershipState? Live(int p, int o) => _memberships.LastOrDefault(m => m.Person == p && m.Org == o && !m.Deleted);

    private bool PendingInvitation(int p, int o) => _invitations.Any(i => i.Person == p && i.Org == o && i.State == "pending");

    private string PickRole(int arg)
    {
        var live = Enumerable.Range(0, RoleCount).Where(r => _roles[r].Live).Select(RoleSlug).ToList();
        var choices = new List<string> { "member", "member", "admin" };
        choices.AddRange(live);
        return choices[arg / 7 % choices.Count];
    }

    private void AddMember(int p, int o, int arg)
    {
        if (!_orgs[o].Live || !_users[p].Live || Live(p, o) is not null || PendingInvitation(p, o)) return;
        var m = new MembershipState { Om = $"om_{_tag}_{_memberships.Count}", Person = p, Org = o, Role = PickRole(arg), CreatedAt = _now };
        _memberships.Add(m);
        Emit($"user {p} added to organization {o} ({m.Om}, {m.Role})", ("organization_membership.created", MembershipData(m)));
    }

    private MembershipState? PickLive(int arg)
    {
        var live = _memberships.Where(m => !m.Deleted).ToList();
        return live.Count == 0 ? null : live[arg % live.Count];
    }

    private void ChangeMember(int arg)
    {
        if (PickLive(arg) is not { } m) return;
        if (arg / 3 % 3 == 0) m.Status = m.Status == "active" ? "inactive" : "active";
        else m.Role = PickRole(arg);
        Emit($"{m.Om} (user {m.Person} in organization {m.Org}) now {m.Status}, {m.Role}", ("organization_membership.updated", MembershipData(m)));
    }

    private void RemoveMember(int arg)
    {
        if (PickLive(arg) is not { } m) return;
        m.Deleted = true;
        Emit($"{m.Om} (user {m.Person} in organization {m.Org}) removed", ("organization_membership.deleted", MembershipData(m)));
    }

    private void Invite(int p, int o)
    {
        if (!_orgs[o].Live || _users[p].Deleted || Live(p, o) is not null || PendingInvitation(p, o)) return;
        var i = new InvitationState
        {
            Id = $"invitation_{_tag}_{_invitations.Count}", Person = p, Org = o, CreatedAt = _now, ExpiresAt = _now.AddDays(7),
        };
        _invitations.Add(i);
        Emit($"user {p} invited to organization {o} ({i.Id})", ("invitation.created", InvitationData(i)));
    }

    private InvitationState? PickPending(int arg)
    {
        var pending = _invitations.Where(i => i.State == "pending").ToList();
        return pending.Count == 0 ? null : pending[arg % pending.Count];
    }

    private void Accept(int arg)
    {
        if (PickPending(arg) is not { } i || !_orgs[i.Org].Live || _users[i.Person].Deleted) return;
        if (!_users[i.Person].Created)
        {
            CreateUser(i.Person);
            _now = _now.AddMilliseconds(arg % 5 * 100);
        }
        i.State = "accepted";
        Emit($"{i.Id} accepted by user {i.Person}", ("invitation.accepted", InvitationData(i)));
        _now = _now.AddMilliseconds(arg % 3 * 100);
        var m = new MembershipState { Om = $"om_{_tag}_{_memberships.Count}", Person = i.Person, Org = i.Org, CreatedAt = _now };
        _memberships.Add(m);
        Emit($"user {i.Person} joined organization {i.Org} by the invitation ({m.Om})", ("organization_membership.created", MembershipData(m)));
    }

    private void Revoke(int arg)
    {
        if (PickPending(arg) is not { } i) return;
        i.State = "revoked";
        Emit($"{i.Id} revoked", ("invitation.revoked", InvitationData(i)));
    }

    private void Resend(int arg)
    {
        if (PickPending(arg) is not { } i) return;
        i.ExpiresAt = _now.AddDays(7);
        Emit($"{i.Id} resent", ("invitation.resent", InvitationData(i)));
    }

    private void CreateOrUpdateRole(int r, int arg)
    {
        var role = _roles[r];
        var type = role.Live ? "role.updated" : "role.created";
        if (!role.Live) (role.Created, role.Deleted, role.CreatedAt) = (true, false, _now);
        role.Permissions = arg % 2 == 0 ? ["read"] : ["read", $"write-{arg % 5}"];
        Emit($"role {RoleSlug(r)} {(type == "role.created" ? "created" : "updated")} [{string.Join(",", role.Permissions)}]", (type, RoleData(r)));
    }

    private void DeleteRole(int r)
    {
        var role = _roles[r];
        // WorkOS refuses to delete a role that is still assigned.
        if (!role.Live || _memberships.Any(m => !m.Deleted && m.Role == RoleSlug(r))) return;
        role.Deleted = true;
        Emit($"role {RoleSlug(r)} deleted", ("role.deleted", RoleData(r)));
    }

    private void Emit(string what, params (string Type, object Data)[] events)
    {
        Steps.Add(new HistoryStep(what));
        foreach (var (type, data) in events)
        {
            var id = WorkOs.NextEventId();
            Events.Add(new HistoryEvent(id, type, WorkOs.Envelope(type, data, id, _now)));
        }
    }

    // --- the wire ----------------------------------------------------------------------------------------------------

    private string Iso(DateTime at) => WorkOs.Iso(at);

    private object OrgData(int o) => new
    {
        @object = "organization", id = OrgId(o), name = _orgs[o].Name, domains = Array.Empty<object>(), external_id = (string?)null,
        metadata = new { }, created_at = Iso(_orgs[o].CreatedAt), updated_at = Iso(_now),
    };

    private object UserData(int p) => new
    {
        @object = "user", id = UserId(p), email = Email(p), email_verified = true, first_name = _users[p].First, last_name = "Stone",
        profile_picture_url = (string?)null, external_id = (string?)null, metadata = new { }, last_sign_in_at = (string?)null,
        created_at = Iso(_users[p].CreatedAt), updated_at = Iso(_now),
    };

    private object MembershipData(MembershipState m) => new
    {
        @object = "organization_membership", id = m.Om, user_id = UserId(m.Person), organization_id = OrgId(m.Org),
        organization_name = _orgs[m.Org].Name, status = m.Status, role = new { slug = m.Role }, roles = new[] { new { slug = m.Role } },
        directory_managed = false, custom_attributes = new { }, created_at = Iso(m.CreatedAt), updated_at = Iso(_now),
    };

    private object InvitationData(InvitationState i) => new
    {
        @object = "invitation", id = i.Id, email = Email(i.Person), state = i.State,
        accepted_at = i.State == "accepted" ? Iso(_now) : null, revoked_at = i.State == "revoked" ? Iso(_now) : null,
        expires_at = Iso(i.ExpiresAt), organization_id = OrgId(i.Org), inviter_user_id = (string?)null,
        accepted_user_id = i.State == "accepted" ? UserId(i.Person) : null, role_slug = "member",
        created_at = Iso(i.CreatedAt), updated_at = Iso(_now),
    };

    private object RoleData(int r) => new
    {
        @object = "role", slug = RoleSlug(r), permissions = _roles[r].Permissions, resource_type_slug = "organization",
        created_at = Iso(_roles[r].CreatedAt), updated_at = Iso(_now),
    };

    // --- WorkOS's final state, as Roster must show it -------------------------------------------------------------------

    /// <summary>The state WorkOS ends in, in the words of <see cref="ConvergenceTests.SnapshotAsync"/>.</summary>
    public SortedSet<string> Expected()
    {
        var lines = new SortedSet<string>(StringComparer.Ordinal);
        for (var o = 0; o < Orgs; o++)
            if (_orgs[o].Created) lines.Add($"org {OrgId(o)} '{_orgs[o].Name}'{(_orgs[o].Deleted ? " deleted" : "")}");
        for (var p = 0; p < People; p++)
            if (_users[p].Created) lines.Add($"user {UserId(p)} {Email(p)} '{_users[p].First} Stone'{(_users[p].Deleted ? " deleted" : "")}");
        for (var r = 0; r < RoleCount; r++)
            if (_roles[r].Created) lines.Add($"role {RoleSlug(r)} [{string.Join(",", _roles[r].Permissions)}]{(_roles[r].Deleted ? " deleted" : "")}");
        foreach (var m in _memberships.Where(m => !m.Deleted))
        {
            lines.Add($"member {OrgId(m.Org)} {m.Om} {UserId(m.Person)} linked:{UserId(m.Person)} {m.Role} {m.Status} {SeatType}");
            if (m.Status == "active") lines.Add($"assignment {OrgId(m.Org)} {UserId(m.Person)} {m.Role}");
        }
        // A pending invitation holds its seat until a membership of its person made at or after it takes it.
        foreach (var i in _invitations.Where(i => i.State == "pending" && _orgs[i.Org].Live
                                                  && !_memberships.Any(m => m.Person == i.Person && m.Org == i.Org && m.CreatedAt >= i.CreatedAt)))
            lines.Add($"reserved {OrgId(i.Org)} {i.Id} {Email(i.Person)} {SeatType}");
        return lines;
    }

    /// <summary>Seats WorkOS's state implies per live organization: (active members, live reservations).</summary>
    public Dictionary<string, (int Active, int Reserved)> ExpectedSeats()
    {
        var expected = Expected();
        return Enumerable.Range(0, Orgs).Where(o => _orgs[o].Live).ToDictionary(OrgId, o => (
            _memberships.Count(m => m.Org == o && !m.Deleted && m.Status == "active"),
            expected.Count(l => l.StartsWith($"reserved {OrgId(o)} ", StringComparison.Ordinal))));
    }
}

/// <summary>
/// Any order, any concurrency, the same state. A random WorkOS history (see <see cref="WorkOsHistory"/>) is delivered to
/// the reference in WorkOS's order, one event at a time, and to the subject shuffled, a quarter of the events twice, up to
/// eight at once (on PostgreSQL spread over two instances); WorkOS's retries are played too (a 503 is sent again). Then
/// the two databases and WorkOS's own final state must agree: the same organizations, users and roles, the same live
/// members (om id, user link, role, status, seat type) and role assignments, the same live reservations; nobody holds
/// two live rows or a seat and a reservation in one organization; nothing live for a deleted user or organization; and
/// the seats endpoint counts exactly the members and reservations WorkOS's state implies.
/// </summary>
public abstract class ConvergenceTests(ConvergenceHosts hosts, ITestOutputHelper output)
{
    private const int MaxAttemptsPerDelivery = 30;
    public const string RunsVariable = "ROSTER_FUZZ_RUNS";
    private static readonly TestUser Platform = RosterApp.NewUser("platform", admin: true);
    private readonly ConcurrentDictionary<string, int> _outcomes = new();
    private readonly Stopwatch _shrinking = new();
    private int _cases;

    [Fact]
    public async Task EveryOrderAndConcurrencyOfAWorkOsHistoryEndsInWorkOsFinalState()
    {
        var cases = from n in Gen.Choose(15, 45)
                    from choices in Gen.ArrayOf(Gen.Choose(0, 1_000_000), n)
                    from seed in Gen.Choose(0, int.MaxValue)
                    from concurrency in Gen.Choose(1, 8)
                    select new ConvergenceCase(choices, seed, concurrency);
        // ROSTER_FUZZ_RUNS=<n> checks the property n times in a row, each with its own seed (with ROSTER_FUZZ_SEED=random:
        // n fresh ones), for a long hand-run without n test-suite start-ups.
        var runs = int.TryParse(Environment.GetEnvironmentVariable(RunsVariable), out var repeat) && repeat is > 1 and <= 100 ? repeat : 1;
        for (var run = 0; run < runs; run++)
            await PropertyRun.CheckAsync(nameof(EveryOrderAndConcurrencyOfAWorkOsHistoryEndsInWorkOsFinalState), PropertyRun.Seed(20261130),
                maxTest: 15, Prop.ForAll(Arb.From(cases, Shrink), RunAsync), output);

        output.WriteLine($"{_cases} histories; first answers of the subject: " +
                         string.Join(", ", _outcomes.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"{o.Key} {o.Value}")));
        // The histories must reach the orders worth checking, or the property holds vacuously.
        foreach (var reached in new[] { "applied", "stale", "duplicate" })
            Assert.True(_outcomes.ContainsKey(reached), $"No delivery answered '{reached}'; the generator needs tuning.");
    }

    /// <summary>Counter-examples the property found, replayed one delivery at a time in the order that broke convergence.</summary>
    public static TheoryData<string, int[], int[]> FoundCounterExamples => new()
    {
        // Seed 8185455639416068402 (SQLite): the invitation's accepted event comes before its created event, and the
        // invitee is deleted (their user.created stale after it) before their membership arrives: the seat staged for
        // the invitation was left live for a person WorkOS had seated and deleted.
        {
            "an invitation accepted before it is created, for a user deleted before their membership arrives",
            [787474, 697779, 801543, 984257, 353953, 119813, 592181, 253031, 825431, 59819, 515901],
            [0, 18, 9, 3, 16, 4, 1, 13, 10, 2, 19, 11, 7, 5, 17, 15, 16, 6, 19, 14, 2, 15, 8, 11, 12]
        },
        // Seed 554801438884894023 (SQLite, 8 at once): the removal of a deleted user's membership committed before the
        // invitation that seated them was staged; the invitation (by email, accepted user unknown) did not see the
        // membership, because its tombstone did not keep the person. The order below is one the race produced.
        {
            "a deleted user's membership removed before the invitation that seated them is staged",
            [145518, 574506, 634893, 617670, 168512, 167749, 610456, 494965, 835790, 721252, 161865, 193850, 502727, 541578, 720382, 210462,
             363624, 425408, 208420, 91906, 421498, 944366, 173051, 66459, 101500, 959656, 130502, 102762, 412704, 683369, 904319, 6054,
             374791, 640648, 556404, 100062, 968159, 467581, 535125, 33924],
            [18, 2, 30, 0, 7, 26, 29, 23, 27, 10, 6, 16, 21, 28, 13, 21, 5, 4, 26, 0, 5, 22, 24, 15, 12, 17, 1, 11, 2, 9, 20, 25, 14, 24, 3, 19, 8]
        },
    };

    [Theory]
    [MemberData(nameof(FoundCounterExamples))]
    public async Task ACounterExampleOnceFoundEndsInWorkOsFinalState(string what, int[] choices, int[] order)
    {
        var tag = Guid.NewGuid().ToString("N")[..10];
        var history = WorkOsHistory.Build(choices, tag, DateTime.UtcNow.AddHours(-2));
        foreach (var evt in history.Events) await DeliverAsync(hosts.Reference, evt, count: false);
        foreach (var index in order) await DeliverAsync(hosts.Subjects[0], history.Events[index], count: false);

        var inOrder = await SnapshotAsync(hosts.Reference, history);
        var shuffled = await SnapshotAsync(hosts.Subjects[0], history);
        Assert.True(inOrder.SetEquals(history.Expected()), Difference("in WorkOS's order", history.Expected(), inOrder));
        Assert.True(shuffled.SetEquals(inOrder), what + ": " + Difference("in the recorded order", inOrder, shuffled));
        await AssertInvariantsAsync(hosts.Subjects[0], history);
        await AssertSeatsAsync(hosts.Subjects[0], history);
    }

    /// <summary>Shorter histories first (halves, quarters, … single choices dropped), then one at a time; at most 90 s of it.</summary>
    private IEnumerable<ConvergenceCase> Shrink(ConvergenceCase failing)
    {
        _shrinking.Start();
        for (var chunk = failing.Choices.Length / 2; chunk >= 1; chunk /= 2)
            for (var start = 0; start + chunk <= failing.Choices.Length; start += chunk)
            {
                if (_shrinking.Elapsed > TimeSpan.FromSeconds(90)) yield break;
                yield return failing with { Choices = [.. failing.Choices.Take(start), .. failing.Choices.Skip(start + chunk)] };
            }
        if (failing.Concurrency > 1 && _shrinking.Elapsed < TimeSpan.FromSeconds(90)) yield return failing with { Concurrency = 1 };
    }

    private async Task RunAsync(ConvergenceCase c)
    {
        Interlocked.Increment(ref _cases);
        var tag = Guid.NewGuid().ToString("N")[..10];
        var history = WorkOsHistory.Build(c.Choices, tag, DateTime.UtcNow.AddHours(-2));

        foreach (var evt in history.Events) await DeliverAsync(hosts.Reference, evt, count: false);
        var order = await DeliverShuffledAsync(history, c);

        var expected = history.Expected();
        var inOrder = await SnapshotAsync(hosts.Reference, history);
        var shuffled = await SnapshotAsync(hosts.Subjects[0], history);
        Assert.True(inOrder.SetEquals(expected), Difference("in WorkOS's order", expected, inOrder));
        Assert.True(shuffled.SetEquals(inOrder), Difference("shuffled, duplicated and concurrent", inOrder, shuffled) + Environment.NewLine + order);
        await AssertInvariantsAsync(hosts.Subjects[0], history);
        await AssertSeatsAsync(hosts.Subjects[^1], history);
    }

    private static string Difference(string how, SortedSet<string> expected, SortedSet<string> actual) =>
        $"Delivered {how}, Roster does not end where it should.{Environment.NewLine}" +
        $"  missing:{Environment.NewLine}{string.Join(Environment.NewLine, expected.Except(actual).Select(l => "    " + l))}{Environment.NewLine}" +
        $"  unexpected:{Environment.NewLine}{string.Join(Environment.NewLine, actual.Except(expected).Select(l => "    " + l))}";

    /// <summary>Delivers the history shuffled and partly duplicated, <c>c.Concurrency</c> at once; returns the order it drew, for the failure message.</summary>
    private async Task<string> DeliverShuffledAsync(WorkOsHistory history, ConvergenceCase c)
    {
        var random = new Random(c.DeliverySeed);
        var deliveries = history.Events.Concat(history.Events.Where(_ => random.Next(4) == 0)).ToArray();
        random.Shuffle(deliveries);
        var next = -1;
        var subjects = hosts.Subjects;
        await Task.WhenAll(Enumerable.Range(0, c.Concurrency).Select(worker => Task.Run(async () =>
        {
            for (var i = Interlocked.Increment(ref next); i < deliveries.Length; i = Interlocked.Increment(ref next))
                await DeliverAsync(subjects[(i + worker) % subjects.Length], deliveries[i], count: true);
        })));
        var position = history.Events.Select((e, i) => (e, i)).ToDictionary(p => p.e, p => p.i);
        return "  delivery order (index in WorkOS's order, type): " + string.Join(", ", deliveries.Select(d => $"{position[d]} {d.Type}"));
    }

    /// <summary>One delivery as WorkOS makes it: anything but a 200 is tried again (a 503 is Roster asking for that).</summary>
    private async Task DeliverAsync(ReliabilityHost host, HistoryEvent evt, bool count)
    {
        var client = host.ClientFor(null);
        for (var attempt = 1; ; attempt++)
        {
            using var response = await client.Deliver(evt.Json);
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.OK)
            {
                var outcome = JsonDocument.Parse(body).RootElement.GetProperty("outcome").GetString()!;
                Assert.True(outcome != "refused", $"{evt.Type} {evt.Id} was refused with seats to spare: {body}");
                if (count) _outcomes.AddOrUpdate(outcome, 1, (_, n) => n + 1);
                return;
            }
            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable && attempt < MaxAttemptsPerDelivery,
                $"{evt.Type} {evt.Id} answered {(int)response.StatusCode} (attempt {attempt}): {body}\n{host.Errors()}");
            if (count) _outcomes.AddOrUpdate("503 (retried)", 1, (_, n) => n + 1);
            await Task.Delay(20 * attempt);
        }
    }

    /// <summary>Roster's state of one history, read from the database, in the words of <see cref="WorkOsHistory.Expected"/>.</summary>
    public static Task<SortedSet<string>> SnapshotAsync(ReliabilityHost host, WorkOsHistory history) => host.WithDbAsync(async db =>
    {
        var orgIds = history.OrgIds.ToList();
        var userIds = history.UserIds.ToList();
        var slugs = history.RoleSlugs.ToList();
        var now = DateTime.UtcNow;
        var lines = new SortedSet<string>(StringComparer.Ordinal);

        var orgs = await db.Organizations.AsNoTracking().Where(o => orgIds.Contains(o.WorkosOrganizationId!)).ToListAsync();
        foreach (var o in orgs) lines.Add($"org {o.WorkosOrganizationId} '{o.Name}'{(o.DeletedAt is null ? "" : " deleted")}");
        var users = await db.Users.AsNoTracking().Where(u => userIds.Contains(u.WorkosUserId!)).ToListAsync();
        foreach (var u in users) lines.Add($"user {u.WorkosUserId} {u.Email} '{u.Name}'{(u.DeletedAt is null ? "" : " deleted")}");
        var roles = await db.GlobalRoles.AsNoTracking().Where(r => slugs.Contains(r.WorkosSlug)).ToListAsync();
        foreach (var r in roles)
            lines.Add($"role {r.WorkosSlug} [{string.Join(",", JsonSerializer.Deserialize<string[]>(r.Permissions) ?? [])}]{(r.DeletedAt is null ? "" : " deleted")}");

        var byId = orgs.ToDictionary(o => o.Id, o => o.WorkosOrganizationId!);
        var localIds = orgs.Select(o => o.Id).ToList();
        var usersById = await db.Users.AsNoTracking().Select(u => new { u.Id, u.WorkosUserId }).Where(u => userIds.Contains(u.WorkosUserId!))
            .ToDictionaryAsync(u => u.Id, u => u.WorkosUserId);
        var members = await db.Memberships.AsNoTracking().Where(m => localIds.Contains(m.OrganizationId) && m.DeletedAt == null).ToListAsync();
        foreach (var m in members)
            lines.Add($"member {byId[m.OrganizationId]} {m.WorkosMembershipId} {m.WorkosUserId} " +
                      $"linked:{(m.UserId is { } id && usersById.TryGetValue(id, out var w) ? w : "none")} {m.Role} {m.Status} {m.SeatType}");
        var roleNames = await db.GlobalRoles.AsNoTracking().ToDictionaryAsync(r => RoleUrnOf(r.Id), r => r.WorkosSlug);
        var assignments = await db.RoleAssignments.AsNoTracking().Where(a => localIds.Contains(a.OrganizationId) && a.DeletedAt == null).ToListAsync();
        foreach (var a in assignments)
            lines.Add($"assignment {byId[a.OrganizationId]} {a.WorkosUserId} {(roleNames.TryGetValue(a.RoleUrn, out var slug) ? slug : a.RoleUrn)}");
        var reservations = await db.SeatReservations.AsNoTracking()
            .Where(r => localIds.Contains(r.OrganizationId) && r.ExpiresAt > now && r.Source != SeatReservationSources.Outbound).ToListAsync();
        foreach (var r in reservations) lines.Add($"reserved {byId[r.OrganizationId]} {r.WorkosInvitationId} {r.Email} {r.SeatType}");
        return lines;
    });

    private static string RoleUrnOf(Guid id) => RoleUrn.Global(id);

    /// <summary>Nobody holds two live rows, or a seat and a reservation, in one organization; nothing live for the deleted.</summary>
    private static async Task AssertInvariantsAsync(ReliabilityHost host, WorkOsHistory history)
    {
        var orgIds = history.OrgIds.ToList();
        var userIds = history.UserIds.ToList();
        await host.WithDbAsync(async db =>
        {
            var now = DateTime.UtcNow;
            var orgs = await db.Organizations.AsNoTracking().Where(o => orgIds.Contains(o.WorkosOrganizationId!)).ToListAsync();
            var localIds = orgs.Select(o => o.Id).ToList();
            var live = await db.Memberships.AsNoTracking().Where(m => localIds.Contains(m.OrganizationId) && m.DeletedAt == null).ToListAsync();
            Assert.All(live.GroupBy(m => (m.OrganizationId, m.WorkosUserId)), g => Assert.True(g.Count() == 1, $"{g.Key.WorkosUserId} holds {g.Count()} live rows in one organization"));
            var deletedOrgs = orgs.Where(o => o.DeletedAt is not null).Select(o => o.Id).ToHashSet();
            Assert.DoesNotContain(live, m => deletedOrgs.Contains(m.OrganizationId));
            var deletedUsers = (await db.Users.AsNoTracking().Where(u => userIds.Contains(u.WorkosUserId!) && u.DeletedAt != null)
                .Select(u => u.WorkosUserId!).ToListAsync()).ToHashSet();
            Assert.DoesNotContain(live, m => deletedUsers.Contains(m.WorkosUserId!));
            var emails = await db.Users.AsNoTracking().Where(u => userIds.Contains(u.WorkosUserId!)).ToDictionaryAsync(u => u.WorkosUserId!, u => u.Email);
            var reservations = await db.SeatReservations.AsNoTracking()
                .Where(r => localIds.Contains(r.OrganizationId) && r.ExpiresAt > now && r.Source != SeatReservationSources.Outbound).ToListAsync();
            foreach (var m in live.Where(m => m.Status == MembershipStatus.Active))
                Assert.DoesNotContain(reservations, r => r.OrganizationId == m.OrganizationId
                    && (r.WorkosUserId == m.WorkosUserId || (emails.TryGetValue(m.WorkosUserId!, out var e) && r.Email == e)));
        });
    }

    /// <summary>The seats endpoint counts the members and reservations WorkOS's state implies.</summary>
    private static async Task AssertSeatsAsync(ReliabilityHost host, WorkOsHistory history)
    {
        var client = host.ClientFor(Platform);
        foreach (var (orgId, (active, reserved)) in history.ExpectedSeats())
        {
            var seats = await (await client.GetAsync($"/api/organizations/{orgId}/seats")).ShouldBe(HttpStatusCode.OK);
            var community = seats["seatTypes"]!.AsArray().Single(t => t!.Str("seatType") == WorkOsHistory.SeatType)!;
            Assert.Equal((orgId, active, reserved), (orgId, community["active"]!.GetValue<int>(), community["reserved"]!.GetValue<int>()));
        }
    }
}

public sealed class ConvergenceTestsOnPostgres(PostgresConvergenceHosts hosts, ITestOutputHelper output)
    : ConvergenceTests(hosts, output), IClassFixture<PostgresConvergenceHosts>;

public sealed class ConvergenceTestsOnSqlite(SqliteConvergenceHosts hosts, ITestOutputHelper output)
    : ConvergenceTests(hosts, output), IClassFixture<SqliteConvergenceHosts>;
