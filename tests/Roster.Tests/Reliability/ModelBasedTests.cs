using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Seats;
using Roster.Tests.Support;
using Xunit.Abstractions;

namespace Roster.Tests.Reliability;

/// <summary>Roster with one extra plan, <c>tight</c> (2 contributor, 2 community_only seats), so seat limits bite within a few steps.</summary>
public abstract class ModelApp(StorageProvider provider) : RosterApp(provider)
{
    public const string TightPlan = "tight";

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        [$"Plans:{TightPlan}:contributor"] = "2",
        [$"Plans:{TightPlan}:community_only"] = "2",
    };
}

public sealed class ModelSqliteApp() : ModelApp(StorageProvider.Sqlite);

public sealed class ModelPostgresApp() : ModelApp(StorageProvider.Postgres);

/// <summary>
/// Who acts: a given person (U0–U5, G the WorkOS-only ghost), a platform admin, or whoever holds the role in the
/// organization when the step runs (its founder when nobody does; the platform admin for the WorkOS-only O3).
/// </summary>
public enum ActorKind { User, Owner, Admin, Member, Platform }

public sealed record Actor(ActorKind Kind, int User = 0)
{
    public override string ToString() => Kind == ActorKind.User ? ModelNames.User(User) : Kind.ToString();
}

/// <summary>
/// Whom a step is about: a given person, or (<see cref="Fitting"/>) the <see cref="Person"/>-th (modulo how many there
/// are) of the people whose row in the organization is in the state the step wants — a pending invitation for an
/// accept, a pending join request for an approval, a listed member for a removal — so that steps meet rows to act on.
/// </summary>
public sealed record Target(int Person, bool Fitting)
{
    public override string ToString() => Fitting ? $"someone({Person})" : ModelNames.User(Person);

    /// <summary>The organization as a step names it: a fitting target brings its own.</summary>
    public string In(int org) => Fitting ? "their org" : ModelNames.Org(org);
}

public static class ModelNames
{
    public static string User(int i) => i == ModelWorld.Ghost ? "G" : $"U{i}";
    public static string Org(int i) => $"O{i}";
}

/// <summary>One step of a generated program; steps name people and organizations, the rows they act on are looked up when they run.</summary>
public abstract record Step
{
    /// <summary>A REST call that adds, answers, changes or ends a membership (invariant (c) is checked after these).</summary>
    public virtual bool IsMemberOperation => true;
}

public sealed record AddStep(int Org, Actor By, int Subject, string? Role, string? SeatType, bool ByWorkosId) : Step
{
    public override string ToString() => $"{By} adds {ModelNames.User(Subject)} to {ModelNames.Org(Org)} (role {Role ?? "-"}, seat {SeatType ?? "-"}{(ByWorkosId ? ", by WorkOS id" : "")})";
}

public sealed record AcceptStep(int Org, Target Subject, Actor? By) : Step
{
    public override string ToString() => $"{By?.ToString() ?? Subject.ToString()} accepts {Subject}'s invitation to {Subject.In(Org)}";
}

public sealed record DeclineStep(int Org, Target Subject, Actor? By) : Step
{
    public override string ToString() => $"{By?.ToString() ?? Subject.ToString()} declines {Subject}'s invitation to {Subject.In(Org)}";
}

public sealed record JoinStep(int Org, int Subject) : Step
{
    public override string ToString() => $"{ModelNames.User(Subject)} asks to join {ModelNames.Org(Org)}";
}

public sealed record WithdrawStep(int Org, Target Subject) : Step
{
    public override string ToString() => $"{Subject} withdraws their request to join {Subject.In(Org)}";
}

public sealed record ApproveStep(int Org, Actor By, Target Subject, string? SeatType) : Step
{
    public override string ToString() => $"{By} approves {Subject}'s request to join {Subject.In(Org)} (seat {SeatType ?? "-"})";
}

public sealed record RejectStep(int Org, Actor By, Target Subject) : Step
{
    public override string ToString() => $"{By} rejects {Subject}'s request to join {Subject.In(Org)}";
}

public sealed record RemoveStep(int Org, Actor By, Target Subject) : Step
{
    public override string ToString() => $"{By} removes {Subject} from {Subject.In(Org)}";
}

public sealed record ChangeStep(int Org, Actor By, Target Subject, string? Role, string? SeatType) : Step
{
    public override string ToString() => $"{By} changes {Subject} in {Subject.In(Org)} (role {Role ?? "-"}, seat {SeatType ?? "-"})";
}

public sealed record LeaveStep(int Org, Actor Who) : Step
{
    public override string ToString() => $"{Who} leaves {ModelNames.Org(Org)}";
}

public sealed record SignInStep(int Subject) : Step
{
    public override bool IsMemberOperation => false;
    public override string ToString() => $"{ModelNames.User(Subject)} signs in";
}

/// <param name="Generation">Which WorkOS membership of the person (om id): 1 is a later one, made after the first was deleted.</param>
/// <param name="Lag">0: updated_at is the step's time; n &gt; 0: n seconds older (stale, out of order).</param>
public sealed record MembershipEventStep(string Type, int Org, int Subject, int Generation, string Status, string Role, int Lag) : Step
{
    public override bool IsMemberOperation => false;
    public override string ToString() =>
        $"webhook {Type} {ModelNames.User(Subject)} in {ModelNames.Org(Org)} (om #{Generation}, {Status}, {Role}{(Lag > 0 ? $", {Lag}s stale" : "")})";
}

/// <summary>The exact delivery <paramref name="Back"/> deliveries ago again (same event id).</summary>
public sealed record RedeliverStep(int Back) : Step
{
    public override bool IsMemberOperation => false;
    public override string ToString() => $"webhook redelivered: the delivery {Back} back";
}

/// <summary>The payload of the delivery <paramref name="Back"/> deliveries ago under a new event id (an old state replayed late).</summary>
public sealed record ReplayStep(int Back) : Step
{
    public override bool IsMemberOperation => false;
    public override string ToString() => $"webhook replayed late: the payload {Back} deliveries back, new event id";
}

public sealed record InvitationStep(bool Revoke, int Org, int Subject) : Step
{
    public override bool IsMemberOperation => false;
    public override string ToString() => $"webhook invitation.{(Revoke ? "revoked" : "created")} for {ModelNames.User(Subject)} to {ModelNames.Org(Org)}";
}

public sealed record ModelProgram(IReadOnlyList<Step> Steps)
{
    public override string ToString() =>
        $"{Steps.Count} steps:{Environment.NewLine}" + string.Join(Environment.NewLine, Steps.Select((s, i) => $"    {i,2}: {s}"));
}

/// <summary>One delivered webhook and the outcome its first delivery answered.</summary>
public sealed record Delivery(string EventId, string Json, string Outcome);

/// <summary>
/// The people and organizations of one program: U0–U5 (signed in), G (known to WorkOS only, until it signs in), a
/// platform admin; O0 (U0's, plan tight 2/2), O1 (U1's, individual_professional 1/0), O2 (U2's, free 5/5), and O3 made by
/// an organization.created webhook (no owner, plan tight). Every organization has a WorkOS id.
/// </summary>
public sealed class ModelWorld
{
    public const int Ghost = 6;
    public const int People = 7;
    public const int Orgs = 4;

    public required string Tag { get; init; }
    public required DateTime T0 { get; init; }
    public required TestUser[] Users { get; init; }
    public required TestUser Platform { get; init; }
    public required Guid[] OrgIds { get; init; }
    public required string[] WorkosOrgIds { get; init; }
    public List<Delivery> Deliveries { get; } = [];

    public int? FounderOf(int org) => org < 3 ? org : null;
    public int? PersonOf(string? workosUserId) => Array.FindIndex(Users, u => u.Sub == workosUserId) is var i and >= 0 ? i : null;
}

/// <summary>
/// Model-based tests: random programs of 40–80 steps — adds, accepts and declines (by the invitee or by someone else),
/// join requests, approvals and rejections, removals, role and seat changes, leaving, and WorkOS webhooks (membership
/// created/updated/deleted, invitations; duplicated, replayed late, stale) — run over HTTP against a small world. After
/// EVERY step the database is checked directly:
/// (a) every ACTIVE owner_add membership was accepted by its own user (an 'accepted' audit row by the subject);
/// (b) per organization and seat type with a finite limit: active + pending owner_add + unexpired reservations ≤ limit;
/// (c) an organization that had an active owner before a member operation still has one after it;
/// (d) no two live rows for one person in one organization (by user, and by WorkOS user);
/// (e) every webhook answered 200 is recorded in webhook_events exactly once, with the outcome it answered.
/// And: never a 5xx, every 4xx a problem with a code that changed nothing, a webhook always 200, a redelivery a
/// duplicate, an invitation accepted by someone else always 404.
/// Plans are set once, before the program: a plan change may legitimately leave an organization over its cap.
/// </summary>
public abstract class ModelBasedTests(ModelApp app, ITestOutputHelper output)
{
    private static readonly string[] SeatTypes = ["contributor", "community_only"];
    private readonly Scenario _s = new(app);
    private readonly ConcurrentDictionary<string, int> _coverage = new();
    private readonly ConcurrentDictionary<string, HttpClient> _clients = new();
    private readonly HttpClient _workos = app.CreateClient();
    private int _failedAt = -1;
    private TimeSpan _shrinking;

    [Fact]
    public async Task RandomProgramsKeepEveryInvariantAfterEveryStep()
    {
        var programs = Gen.Choose(40, 80).SelectMany(n => Gen.ArrayOf(AnyStep, n)).Select(steps => new ModelProgram(steps));
        await PropertyRun.CheckAsync(nameof(RandomProgramsKeepEveryInvariantAfterEveryStep), PropertyRun.Seed(20261201),
            maxTest: 10, Prop.ForAll(Arb.From(programs, Shrink), RunAsync), output);

        output.WriteLine("Answers per kind of step:");
        foreach (var (what, count) in _coverage.OrderBy(c => c.Key, StringComparer.Ordinal)) output.WriteLine($"  {what}: {count}");
        // The programs must reach the states worth checking, or the invariants hold vacuously.
        foreach (var reached in new[]
                 {
                     "AddStep 201", "AddStep 409 seat_limit_reached", "AcceptStep 200", "AcceptStep 404 (someone else)", "DeclineStep 204",
                     "WithdrawStep 204", "ApproveStep 200", "RejectStep 204", "RemoveStep 204", "ChangeStep 200", "LeaveStep 204",
                     "LeaveStep 409 last_owner", "webhook applied", "webhook refused", "webhook stale", "webhook duplicate",
                 })
            Assert.True(_coverage.ContainsKey(reached), $"No program reached '{reached}'; the generator needs tuning.");
    }

    // ---- generation ---------------------------------------------------------------------------------------------------

    private static readonly Gen<int> AnyOrg = Gen.Choose(0, ModelWorld.Orgs - 1);
    private static readonly Gen<int> AnyPerson = Gen.Choose(0, ModelWorld.People - 1);
    private static readonly Gen<Actor> Person = AnyPerson.Select(i => new Actor(ActorKind.User, i));
    private static readonly Gen<Target> Subject = Gen.Frequency(
        (3, AnyPerson.Select(k => new Target(k, Fitting: true))), (1, AnyPerson.Select(p => new Target(p, Fitting: false))));

    private static readonly Gen<Actor> Manager = Gen.Frequency(
        (6, Gen.Constant(new Actor(ActorKind.Owner))), (3, Gen.Constant(new Actor(ActorKind.Admin))), (1, Gen.Constant(new Actor(ActorKind.Member))),
        (1, Gen.Constant(new Actor(ActorKind.Platform))), (1, Person));

    private static readonly Gen<string?> Role = Gen.Frequency(
        (5, Gen.Constant<string?>("member")), (2, Gen.Constant<string?>("admin")), (2, Gen.Constant<string?>("owner")),
        (1, Gen.Constant<string?>("billing")), (2, Gen.Constant<string?>(null)));

    private static readonly Gen<string?> SeatType = Gen.Frequency(
        (3, Gen.Constant<string?>(null)), (2, Gen.Constant<string?>("contributor")), (2, Gen.Constant<string?>("community_only")));

    /// <summary>Someone else now and then; mostly the invitee themself, so invitations do get accepted.</summary>
    private static readonly Gen<Actor?> InviteeOrSomeoneElse = Gen.Frequency(
        (4, Gen.Constant<Actor?>(null)), (1, Gen.Frequency((2, Person), (1, Gen.Elements(ActorKind.Owner, ActorKind.Admin, ActorKind.Platform)
            .Select(k => new Actor(k)))).Select(a => (Actor?)a)));

    private static readonly Gen<Step> AnyStep = Gen.Frequency(
        (7, from o in AnyOrg from actor in Manager from p in AnyPerson from r in Role from st in SeatType from w in Gen.Elements(false, false, false, true)
            select (Step)new AddStep(o, actor, p, r, st, w)),
        (6, from o in AnyOrg from p in Subject from actor in InviteeOrSomeoneElse select (Step)new AcceptStep(o, p, actor)),
        (2, from o in AnyOrg from p in Subject from actor in InviteeOrSomeoneElse select (Step)new DeclineStep(o, p, actor)),
        (4, from o in AnyOrg from p in AnyPerson select (Step)new JoinStep(o, p)),
        (1, from o in AnyOrg from p in Subject select (Step)new WithdrawStep(o, p)),
        (4, from o in AnyOrg from actor in Manager from p in Subject from st in SeatType select (Step)new ApproveStep(o, actor, p, st)),
        (2, from o in AnyOrg from actor in Manager from p in Subject select (Step)new RejectStep(o, actor, p)),
        (3, from o in AnyOrg from actor in Manager from p in Subject select (Step)new RemoveStep(o, actor, p)),
        (4, from o in AnyOrg from actor in Manager from p in Subject from r in Role from st in SeatType select (Step)new ChangeStep(o, actor, p, r, st)),
        (3, from o in AnyOrg
            from who in Gen.Frequency((2, Gen.Constant(new Actor(ActorKind.Owner))), (2, Gen.Constant(new Actor(ActorKind.Admin))),
                (3, Gen.Constant(new Actor(ActorKind.Member))), (2, Person))
            select (Step)new LeaveStep(o, who)),
        (1, Gen.Constant<Step>(new SignInStep(ModelWorld.Ghost))),
        (7, from type in Gen.Frequency((3, Gen.Constant("organization_membership.created")), (3, Gen.Constant("organization_membership.updated")),
                (2, Gen.Constant("organization_membership.deleted")))
            from o in AnyOrg
            from p in AnyPerson
            from g in Gen.Frequency((4, Gen.Constant(0)), (1, Gen.Constant(1)))
            from status in Gen.Frequency((5, Gen.Constant("active")), (1, Gen.Constant("inactive")), (1, Gen.Constant("pending")))
            from role in Gen.Frequency((4, Gen.Constant("member")), (1, Gen.Constant("admin")), (1, Gen.Constant("owner")))
            from lag in Gen.Frequency((2, Gen.Constant(0)), (1, Gen.Choose(1, 30)))
            select (Step)new MembershipEventStep(type, o, p, g, status, role, lag)),
        (2, Gen.Choose(1, 8).Select(b => (Step)new RedeliverStep(b))),
        (3, Gen.Choose(1, 8).Select(b => (Step)new ReplayStep(b))),
        (1, from revoke in Gen.Elements(false, false, true) from o in AnyOrg from p in AnyPerson select (Step)new InvitationStep(revoke, o, p)));

    /// <summary>
    /// Shorter programs that may fail the same way: first cut right after the failing step, then drop chunks (halves,
    /// quarters, …, single steps). Each candidate runs on a fresh world, so shrinking stops after three minutes.
    /// </summary>
    private IEnumerable<ModelProgram> Shrink(ModelProgram program)
    {
        var failedAt = _failedAt;
        return Candidates();

        IEnumerable<ModelProgram> Candidates()
        {
            var steps = program.Steps;
            if (_shrinking > TimeSpan.FromMinutes(3)) yield break;
            if (failedAt >= 0 && failedAt + 1 < steps.Count) yield return new ModelProgram([.. steps.Take(failedAt + 1)]);
            for (var chunk = steps.Count / 2; chunk >= 1; chunk /= 2)
                for (var start = 0; start + chunk <= steps.Count; start += chunk)
                    yield return new ModelProgram([.. steps.Take(start), .. steps.Skip(start + chunk)]);
        }
    }

    // ---- running --------------------------------------------------------------------------------------------------------

    private async Task RunAsync(ModelProgram program)
    {
        var started = DateTime.UtcNow;
        var isShrinking = _failedAt >= 0;
        _failedAt = -1;
        try
        {
            var world = await NewWorldAsync();
            var before = await ObserveAsync(world);
            Check(world, before, null, null);
            for (var i = 0; i < program.Steps.Count; i++)
            {
                // A person's first request creates their local user (DESIGN.md section 5), a change of its own even when
                // the request is then refused; so the ghost signs in as a step of its own before it first acts.
                var steps = await ActingUserAsync(world, program.Steps[i]) is { } acting && acting.Sub == world.Users[ModelWorld.Ghost].Sub
                            && await LocalUserIdAsync(acting) is null
                    ? new Step[] { new SignInStep(ModelWorld.Ghost), program.Steps[i] }
                    : [program.Steps[i]];
                foreach (var step in steps)
                {
                    var answer = await ExecuteAsync(world, step, i);
                    var after = await ObserveAsync(world);
                    try
                    {
                        if (!answer.Skipped)
                        {
                            Assert.True(answer.Status < 500, "A server error.");
                            var defect = answer.Status >= 400 ? ProblemBody.Defect(answer.Status, answer.MediaType, answer.Body) : null;
                            Assert.True(defect is null, $"Answered {defect}.");
                            if (answer.Status is >= 400 and < 500)
                                Assert.True(before.Fingerprint == after.Fingerprint, $"Answered {answer.Status} but changed the database.");
                        }
                        Check(world, after, before, step);
                        CheckAnswer(step, answer);
                    }
                    catch (Exception ex)
                    {
                        _failedAt = i;
                        throw new InvalidOperationException(
                            $"Step {i} ({step}) answered {answer}:{Environment.NewLine}  {ex.Message}{Environment.NewLine}" +
                            $"  state after the step:{Environment.NewLine}{Describe(world, after)}", ex);
                    }
                    before = after;
                }
            }
        }
        finally
        {
            if (isShrinking || _failedAt >= 0) _shrinking += DateTime.UtcNow - started;
        }
    }

    /// <summary>What a step got back: the status, the problem code or webhook outcome, and the body (for messages).</summary>
    private sealed record Answer(int Status, string? Detail, string Body, string? MediaType, bool Skipped = false, bool ByOther = false)
    {
        public override string ToString() => Skipped ? "nothing (skipped)" : $"{Status} {Detail} {FuzzBody.Preview(Body, 300)}";
    }

    private void CheckAnswer(Step step, Answer answer)
    {
        if (answer.Skipped) return;
        var kind = step.GetType().Name;
        switch (step)
        {
            case MembershipEventStep or InvitationStep or RedeliverStep or ReplayStep:
                Assert.True(answer.Status == 200, "A well-formed, signed WorkOS event must be answered 200.");
                if (step is RedeliverStep) Assert.True(answer.Detail == WebhookOutcomes.Duplicate, "A redelivered event must be a duplicate.");
                _coverage.AddOrUpdate($"webhook {answer.Detail}", 1, (_, n) => n + 1);
                break;
            case AcceptStep or DeclineStep when answer.ByOther:
                Assert.True(answer.Status == 404, "Only the invitee may answer an invitation; anyone else gets 404.");
                _coverage.AddOrUpdate($"{kind} {answer.Status} (someone else)", 1, (_, n) => n + 1);
                break;
            default:
                _coverage.AddOrUpdate($"{kind} {answer.Status}{(answer.Status >= 400 ? " " + answer.Detail : "")}", 1, (_, n) => n + 1);
                break;
        }
    }

    private async Task<Answer> ExecuteAsync(ModelWorld w, Step step, int index)
    {
        // Every third step names the organization by its WorkOS id, the rest by Roster's id.
        string OrgPath(int org) => $"/api/organizations/{(index % 3 == 0 ? w.WorkosOrgIds[org] : w.OrgIds[org].ToString())}";
        TestUser Who(int person) => w.Users[person];

        switch (step)
        {
            case AddStep s:
            {
                var by = await ActorAsync(w, s.By, s.Org);
                var userId = s.ByWorkosId ? Who(s.Subject).Sub : (await LocalUserIdAsync(Who(s.Subject)))?.ToString() ?? Who(s.Subject).Sub;
                return await SendAsync(by, HttpMethod.Post, $"{OrgPath(s.Org)}/members", new { userId, role = s.Role, seatType = s.SeatType });
            }
            case AcceptStep s:
            {
                var (org, person, id) = await SubjectAsync(w, s.Org, s.Subject, Invited);
                var by = s.By is null ? Who(person) : await ActorAsync(w, s.By, org);
                return (await SendAsync(by, HttpMethod.Put, $"/api/membership-requests/{id}/accept")) with { ByOther = by.Sub != Who(person).Sub };
            }
            case DeclineStep s:
            {
                var (org, person, id) = await SubjectAsync(w, s.Org, s.Subject, Invited);
                var by = s.By is null ? Who(person) : await ActorAsync(w, s.By, org);
                return (await SendAsync(by, HttpMethod.Delete, $"/api/membership-requests/{id}")) with { ByOther = by.Sub != Who(person).Sub };
            }
            case JoinStep s:
                return await SendAsync(Who(s.Subject), HttpMethod.Post, $"{OrgPath(s.Org)}/requests");
            case WithdrawStep s:
            {
                var (_, person, id) = await SubjectAsync(w, s.Org, s.Subject, Requested);
                return await SendAsync(Who(person), HttpMethod.Delete, $"/api/membership-requests/{id}");
            }
            case ApproveStep s:
            {
                var (org, _, id) = await SubjectAsync(w, s.Org, s.Subject, Requested);
                return await SendAsync(await ActorAsync(w, s.By, org), HttpMethod.Put, $"{OrgPath(org)}/requests/{id}/approve",
                    s.SeatType is null ? null : new { seatType = s.SeatType });
            }
            case RejectStep s:
            {
                var (org, _, id) = await SubjectAsync(w, s.Org, s.Subject, Requested);
                return await SendAsync(await ActorAsync(w, s.By, org), HttpMethod.Put, $"{OrgPath(org)}/requests/{id}/reject");
            }
            case RemoveStep s:
            {
                var (org, _, id) = await SubjectAsync(w, s.Org, s.Subject, Listed);
                return await SendAsync(await ActorAsync(w, s.By, org), HttpMethod.Delete, $"{OrgPath(org)}/members/{id}");
            }
            case ChangeStep s:
            {
                var (org, _, id) = await SubjectAsync(w, s.Org, s.Subject, Listed);
                return await SendAsync(await ActorAsync(w, s.By, org), HttpMethod.Patch, $"{OrgPath(org)}/members/{id}",
                    new { role = s.Role ?? (s.SeatType is null ? "member" : null), seatType = s.SeatType });
            }
            case LeaveStep s:
                return await SendAsync(await ActorAsync(w, s.Who, s.Org), HttpMethod.Post, $"{OrgPath(s.Org)}/leave");
            case SignInStep s:
                return await SendAsync(Who(s.Subject), HttpMethod.Get, "/api/membership-requests/mine");
            case MembershipEventStep s:
            {
                var data = WorkOs.Membership($"om_{w.Tag}_{s.Org}_{s.Subject}_{s.Generation}", Who(s.Subject).Sub, w.WorkosOrgIds[s.Org], s.Status, s.Role,
                    updatedAt: w.T0.AddSeconds(index - s.Lag), orgName: ModelNames.Org(s.Org));
                return await DeliverAsync(w, WorkOs.Envelope(s.Type, data));
            }
            case InvitationStep s:
            {
                var data = WorkOs.Invitation($"invitation_{w.Tag}_{s.Org}_{s.Subject}", Who(s.Subject).Email, w.WorkosOrgIds[s.Org],
                    state: s.Revoke ? "revoked" : "pending", expiresAt: w.T0.AddDays(7));
                return await DeliverAsync(w, WorkOs.Envelope(s.Revoke ? "invitation.revoked" : "invitation.created", data));
            }
            case RedeliverStep s:
                return s.Back > w.Deliveries.Count
                    ? new Answer(0, null, "", null, Skipped: true)
                    : await DeliverAsync(w, w.Deliveries[^s.Back].Json, redelivery: true);
            case ReplayStep s:
            {
                if (s.Back > w.Deliveries.Count) return new Answer(0, null, "", null, Skipped: true);
                var replayed = JsonNode.Parse(w.Deliveries[^s.Back].Json)!.AsObject();
                replayed["id"] = WorkOs.NextEventId();
                return await DeliverAsync(w, replayed.ToJsonString());
            }
            default:
                throw new InvalidOperationException($"Unknown step {step}");
        }
    }

    /// <summary>The signed-in person a REST step acts as (null for webhooks).</summary>
    private async Task<TestUser?> ActingUserAsync(ModelWorld w, Step step)
    {
        async Task<TestUser> ByOrSubject(int org, Target subject, Actor? by, Func<Membership, bool> wanted)
        {
            var (o, person, _) = await SubjectAsync(w, org, subject, wanted);
            return by is null ? w.Users[person] : await ActorAsync(w, by, o);
        }

        return step switch
        {
            AddStep s => await ActorAsync(w, s.By, s.Org),
            AcceptStep s => await ByOrSubject(s.Org, s.Subject, s.By, Invited),
            DeclineStep s => await ByOrSubject(s.Org, s.Subject, s.By, Invited),
            JoinStep s => w.Users[s.Subject],
            WithdrawStep s => await ByOrSubject(s.Org, s.Subject, null, Requested),
            ApproveStep s => await ByOrSubject(s.Org, s.Subject, s.By, Requested),
            RejectStep s => await ByOrSubject(s.Org, s.Subject, s.By, Requested),
            RemoveStep s => await ByOrSubject(s.Org, s.Subject, s.By, Listed),
            ChangeStep s => await ByOrSubject(s.Org, s.Subject, s.By, Listed),
            LeaveStep s => await ActorAsync(w, s.Who, s.Org),
            _ => null,
        };
    }

    private static bool Listed(Membership m) =>
        m.Status == MembershipStatus.Active || (m.Status == MembershipStatus.Pending && m.Source == MembershipSource.OwnerAdd);

    private static bool Invited(Membership m) => m.Status == MembershipStatus.Pending && m.Source == MembershipSource.OwnerAdd;

    private static bool Requested(Membership m) => m.Status == MembershipStatus.Pending && m.Source == MembershipSource.JoinRequest;

    /// <summary>
    /// The organization and person a step is about, and the row it acts on. A <see cref="Target.Fitting"/> target is the
    /// k-th of the rows (in any of the world's organizations) in the state the step wants; a given person is taken in the
    /// step's own organization. The row is the person's live row in that state, else their latest row of any kind (so
    /// the call meets a row in the wrong state), else an id that names nothing.
    /// </summary>
    private Task<(int Org, int Person, Guid Row)> SubjectAsync(ModelWorld w, int org, Target target, Func<Membership, bool> wanted) =>
        app.WithDbAsync(async db =>
        {
            var orgs = w.OrgIds;
            var rows = (await db.Memberships.AsNoTracking().Where(m => orgs.Contains(m.OrganizationId)).ToListAsync())
                .OrderBy(m => m.CreatedAt).ThenBy(m => m.Id).ToList();
            var fitting = rows.Where(m => m.DeletedAt == null && wanted(m) && w.PersonOf(m.WorkosUserId) is not null)
                .Select(m => (Org: Array.IndexOf(orgs, m.OrganizationId), Person: w.PersonOf(m.WorkosUserId)!.Value)).Distinct().ToList();
            var (o, person) = target.Fitting && fitting.Count > 0 ? fitting[target.Person % fitting.Count] : (org, target.Person);
            var sub = w.Users[person].Sub;
            var own = rows.Where(m => m.OrganizationId == orgs[o] && m.WorkosUserId == sub).ToList();
            var row = own.Where(m => m.DeletedAt == null && wanted(m)).Select(m => (Guid?)m.Id).FirstOrDefault()
                      ?? own.Select(m => (Guid?)m.Id).LastOrDefault()
                      ?? Guid.Empty;
            return (o, person, row);
        });

    private async Task<Answer> SendAsync(TestUser user, HttpMethod method, string url, object? body = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (body is not null) request.Content = JsonContent.Create(body, options: Http.Json);
        using var response = await _clients.GetOrAdd(user.Sub, _ => _s.As(user)).SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var status = (int)response.StatusCode;
        string? code = null;
        if (status >= 400)
        {
            try
            {
                code = JsonNode.Parse(text)?["code"]?.GetValue<string>();
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException)
            {
                code = null;
            }
        }
        return new Answer(status, code, text, response.Content.Headers.ContentType?.MediaType);
    }

    private async Task<Answer> DeliverAsync(ModelWorld w, string json, bool redelivery = false)
    {
        using var response = await _workos.Deliver(json);
        var text = await response.Content.ReadAsStringAsync();
        var status = (int)response.StatusCode;
        string? outcome = null;
        if (status == 200) outcome = JsonNode.Parse(text)?["outcome"]?.GetValue<string>();
        var eventId = JsonNode.Parse(json)!["id"]!.GetValue<string>();
        if (!redelivery && status == 200) w.Deliveries.Add(new Delivery(eventId, json, outcome!));
        return new Answer(status, outcome, text, response.Content.Headers.ContentType?.MediaType);
    }

    private async Task<TestUser> ActorAsync(ModelWorld w, Actor actor, int org)
    {
        if (actor.Kind == ActorKind.User) return w.Users[actor.User];
        if (actor.Kind == ActorKind.Platform) return w.Platform;
        var orgId = w.OrgIds[org];
        var holders = await app.WithDbAsync(db => db.Memberships.AsNoTracking()
            .Where(m => m.OrganizationId == orgId && m.DeletedAt == null && m.Status == MembershipStatus.Active && m.UserId != null)
            .OrderBy(m => m.CreatedAt).ThenBy(m => m.Id)
            .Select(m => new { m.WorkosUserId, m.Role }).ToListAsync());
        var holder = holders.FirstOrDefault(m => actor.Kind switch
        {
            ActorKind.Owner => m.Role == Roles.Owner,
            ActorKind.Admin => m.Role == Roles.Admin,
            _ => !Roles.IsManager(m.Role),
        });
        return w.PersonOf(holder?.WorkosUserId) is { } person ? w.Users[person]
            : w.FounderOf(org) is { } founder ? w.Users[founder]
            : w.Platform;
    }

    private Task<Guid?> LocalUserIdAsync(TestUser user) =>
        app.WithDbAsync(db => db.Users.Where(u => u.WorkosUserId == user.Sub).Select(u => (Guid?)u.Id).FirstOrDefaultAsync());

    private async Task<ModelWorld> NewWorldAsync()
    {
        var tag = Guid.NewGuid().ToString("N")[..10];
        var users = Enumerable.Range(0, ModelWorld.Ghost).Select(i => RosterApp.NewUser($"u{i}")).Append(RosterApp.NewUser("ghost")).ToArray();
        foreach (var user in users.Take(ModelWorld.Ghost)) await _s.UserIdOf(user);
        var platform = RosterApp.NewUser("platform", admin: true);
        await _s.UserIdOf(platform);

        var workosIds = Enumerable.Range(0, ModelWorld.Orgs).Select(i => $"org_{tag}_{i}").ToArray();
        var orgIds = new Guid[ModelWorld.Orgs];
        for (var i = 0; i < 3; i++)
        {
            orgIds[i] = (await _s.NewOrg(users[i])).Id;
            var (id, workosId) = (orgIds[i], workosIds[i]);
            await app.WithDbAsync(db => db.Organizations.Where(o => o.Id == id).ExecuteUpdateAsync(s => s.SetProperty(o => o.WorkosOrganizationId, workosId)));
        }
        Assert.Equal(WebhookOutcomes.Applied, await app.CreateClient().DeliverOk(WorkOs.Envelope("organization.created", WorkOs.Organization(workosIds[3], "O3"))));
        orgIds[3] = await app.WithDbAsync(db => db.Organizations.Where(o => o.WorkosOrganizationId == workosIds[3]).Select(o => o.Id).SingleAsync());

        string[] plans = [ModelApp.TightPlan, "individual_professional", "free", ModelApp.TightPlan];
        for (var i = 0; i < ModelWorld.Orgs; i++)
            await (await _s.As(platform).PutJson($"/api/organizations/{(i == 3 ? workosIds[i] : orgIds[i].ToString())}/plan", new { plan = plans[i] }))
                .ShouldBe(System.Net.HttpStatusCode.OK);

        // Webhook times start a minute back, so "n seconds stale" stays in the past; step i is T0 + i seconds.
        var t0 = DateTime.UtcNow.AddMinutes(-1);
        return new ModelWorld { Tag = tag, T0 = new DateTime(t0.Ticks - t0.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc), Users = users, Platform = platform, OrgIds = orgIds, WorkosOrgIds = workosIds };
    }

    // ---- observing and checking -------------------------------------------------------------------------------------------

    private sealed record Observation(
        List<Membership> Rows, List<SeatReservation> Reservations, List<AuditEvent> Accepted, Dictionary<string, List<string>> Recorded,
        Dictionary<Guid, string?> Plans, string Fingerprint);

    private Task<Observation> ObserveAsync(ModelWorld w) => app.WithDbAsync(async db =>
    {
        var orgs = w.OrgIds;
        var subs = w.Users.Select(u => u.Sub).Append(w.Platform.Sub).ToArray();
        var rows = await db.Memberships.AsNoTracking().Where(m => orgs.Contains(m.OrganizationId)).OrderBy(m => m.Id).ToListAsync();
        var reservations = await db.SeatReservations.AsNoTracking().Where(r => orgs.Contains(r.OrganizationId)).OrderBy(r => r.Id).ToListAsync();
        var accepted = await db.AuditEvents.AsNoTracking().Where(a => orgs.Contains(a.OrganizationId) && a.Action == "accepted").ToListAsync();
        var audits = await db.AuditEvents.CountAsync(a => orgs.Contains(a.OrganizationId));
        var users = await db.Users.AsNoTracking().Where(u => subs.Contains(u.WorkosUserId))
            .Select(u => new { u.Id, u.WorkosUserId, u.Email, u.EmailVerified, u.Name, u.DeletedAt }).OrderBy(u => u.Id).ToListAsync();
        var eventIds = w.Deliveries.Select(d => d.EventId).ToArray();
        var recorded = (await db.WebhookEvents.AsNoTracking().Where(e => eventIds.Contains(e.EventId)).Select(e => new { e.EventId, e.Outcome }).ToListAsync())
            .GroupBy(e => e.EventId).ToDictionary(g => g.Key, g => g.Select(e => e.Outcome).ToList());
        var organizations = await db.Organizations.AsNoTracking().Where(o => orgs.Contains(o.Id)).Select(o => new { o.Id, o.Plan, o.Name, o.DeletedAt }).ToListAsync();
        var refusals = await db.MembershipRefusals.CountAsync(r => orgs.Contains(r.OrganizationId));
        var outbox = await db.NotificationOutbox.CountAsync();
        var webhookEvents = await db.WebhookEvents.CountAsync();
        var fingerprint = JsonSerializer.Serialize(new
        {
            rows = rows.Select(m => new { m.Id, m.UserId, m.WorkosUserId, m.WorkosMembershipId, m.Role, m.Status, m.Source, m.SeatType, m.DeletedAt, m.UpdatedAt, m.WorkosUpdatedAt, m.WorkosLastEventId }),
            reservations = reservations.Select(r => new { r.Id, r.ExpiresAt, r.WorkosUserId }),
            users, organizations, audits, refusals, outbox, webhookEvents,
        });
        return new Observation(rows, reservations, accepted, recorded, organizations.ToDictionary(o => o.Id, o => o.Plan), fingerprint);
    });

    private void Check(ModelWorld w, Observation o, Observation? before, Step? step)
    {
        var plans = app.Services.GetRequiredService<PlanCatalog>();
        var now = DateTime.UtcNow;
        var live = o.Rows.Where(m => m.DeletedAt == null).ToList();

        // (a) consent: an ACTIVE owner_add was accepted by the person it was for.
        foreach (var m in live.Where(m => m.Status == MembershipStatus.Active && m.Source == MembershipSource.OwnerAdd))
            Assert.True(m.UserId is not null && o.Accepted.Any(a => a.MembershipId == m.Id && a.ActorUserId == m.UserId && a.SubjectUserId == m.UserId),
                $"(a) {Row(w, m)} is ACTIVE but was never accepted by its own user.");

        // (b) seats: used ≤ limit for every finite limit.
        for (var org = 0; org < ModelWorld.Orgs; org++)
        {
            var orgId = w.OrgIds[org];
            foreach (var seatType in SeatTypes)
            {
                var limit = plans.LimitFor(o.Plans[orgId], seatType);
                if (limit == PlanCatalog.Unlimited) continue;
                var members = live.Count(m => m.OrganizationId == orgId && m.SeatType == seatType
                                              && (m.Status == MembershipStatus.Active || (m.Status == MembershipStatus.Pending && m.Source == MembershipSource.OwnerAdd)));
                var reserved = o.Reservations.Count(r => r.OrganizationId == orgId && r.SeatType == seatType && r.ExpiresAt > now
                                                         && r.Source != SeatReservationSources.Outbound);
                Assert.True(members + reserved <= limit,
                    $"(b) {ModelNames.Org(org)} uses {members} + {reserved} reserved {seatType} seats of {limit} ({o.Plans[orgId]}).");
            }
        }

        // (c) an org with an active owner keeps one through every member operation.
        if (before is not null && step is { IsMemberOperation: true })
        {
            for (var org = 0; org < ModelWorld.Orgs; org++)
            {
                if (ActiveOwners(before, w.OrgIds[org]) > 0)
                    Assert.True(ActiveOwners(o, w.OrgIds[org]) > 0, $"(c) {ModelNames.Org(org)} had an active owner before this step and has none after it.");
            }
        }

        // (d) one live row per person and organization.
        foreach (var twice in live.Where(m => m.UserId != null).GroupBy(m => (m.OrganizationId, m.UserId)).Where(g => g.Count() > 1))
            Assert.Fail($"(d) Two live rows for one user in one organization: {string.Join(" | ", twice.Select(m => Row(w, m)))}");
        foreach (var twice in live.Where(m => m.WorkosUserId != null).GroupBy(m => (m.OrganizationId, m.WorkosUserId)).Where(g => g.Count() > 1))
            Assert.Fail($"(d) Two live rows for one WorkOS user in one organization: {string.Join(" | ", twice.Select(m => Row(w, m)))}");

        // (e) every accepted webhook recorded exactly once, with the outcome it answered.
        foreach (var delivery in w.Deliveries)
        {
            Assert.True(o.Recorded.TryGetValue(delivery.EventId, out var outcomes) && outcomes.Count == 1,
                $"(e) Event {delivery.EventId} (answered {delivery.Outcome}) is recorded {(outcomes?.Count ?? 0)} times.");
            if (delivery.Outcome != WebhookOutcomes.Duplicate)
                Assert.True(outcomes![0] == delivery.Outcome, $"(e) Event {delivery.EventId} answered {delivery.Outcome} but is recorded as {outcomes[0]}.");
        }
    }

    private static int ActiveOwners(Observation o, Guid orgId) =>
        o.Rows.Count(m => m.OrganizationId == orgId && m.DeletedAt == null && m.Status == MembershipStatus.Active && m.Role == Roles.Owner);

    private static string Row(ModelWorld w, Membership m) =>
        $"{ModelNames.Org(Array.IndexOf(w.OrgIds, m.OrganizationId))}/{(w.PersonOf(m.WorkosUserId) is { } p ? ModelNames.User(p) : m.WorkosUserId)}" +
        $" {m.Status} {m.Source} {m.Role} {m.SeatType}{(m.DeletedAt is null ? "" : " deleted")}{(m.UserId is null ? " (no local user)" : "")}" +
        $"{(m.WorkosMembershipId is null ? "" : " " + m.WorkosMembershipId.Split('_')[^2] + "#" + m.WorkosMembershipId.Split('_')[^1])} [{m.Id.ToString()[^6..]}]";

    private static string Describe(ModelWorld w, Observation o)
    {
        var text = new StringBuilder();
        for (var org = 0; org < ModelWorld.Orgs; org++)
        {
            text.Append(CultureInfo.InvariantCulture, $"    {ModelNames.Org(org)} ({o.Plans[w.OrgIds[org]]}):");
            foreach (var m in o.Rows.Where(m => m.OrganizationId == w.OrgIds[org]).OrderBy(m => m.CreatedAt)) text.Append(Environment.NewLine).Append("      ").Append(Row(w, m));
            foreach (var r in o.Reservations.Where(r => r.OrganizationId == w.OrgIds[org]))
                text.Append(Environment.NewLine).Append(CultureInfo.InvariantCulture, $"      reservation {r.Source} {r.SeatType} {(r.ExpiresAt > DateTime.UtcNow ? "held" : "released")}");
            text.Append(Environment.NewLine);
        }
        return text.ToString();
    }
}

public sealed class ModelBasedTestsOnSqlite(ModelSqliteApp app, ITestOutputHelper output) : ModelBasedTests(app, output), IClassFixture<ModelSqliteApp>;

public sealed class ModelBasedTestsOnPostgres(ModelPostgresApp app, ITestOutputHelper output) : ModelBasedTests(app, output), IClassFixture<ModelPostgresApp>;
