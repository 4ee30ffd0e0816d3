using System.Linq.Expressions;
using System.Reflection;
using Roster.Infrastructure.Data;

namespace Roster.Infrastructure.Memberships;

/// <summary>
/// The one definition of "this membership holds a seat" (DESIGN.md principle 2, plus expiry): a live row that is active,
/// or a pending owner_add whose invitation has not expired. Every seat count, the members list, the caller's pending
/// invitations and the invitee's accept read it from here, so an expired invitation frees its seat everywhere at the
/// instant it expires, before the sweep tombstones it.
/// <para>
/// In a query: <c>.Where(SeatHolding.At(now))</c>. Inside a compiled query (whose <c>now</c> is one of its parameters),
/// call the marker methods <see cref="Holds"/> / <see cref="IsLiveInvitation"/> and wrap the lambda in <see cref="Inline{T}"/>,
/// which replaces each call by the rule's own expression.
/// </para>
/// </summary>
public static class SeatHolding
{
    /// <summary>A pending owner_add that is still waiting for its invitee (not expired, not tombstoned).</summary>
    public static readonly Expression<Func<Membership, DateTime, bool>> LiveInvitationRule = (m, now) =>
        m.DeletedAt == null && m.Status == MembershipStatus.Pending && m.Source == MembershipSource.OwnerAdd
        && (m.ExpiresAt == null || m.ExpiresAt > now);

    /// <summary>A live membership that counts against the plan: active, or a live invitation.</summary>
    public static readonly Expression<Func<Membership, DateTime, bool>> HoldsRule = (m, now) =>
        m.DeletedAt == null
        && (m.Status == MembershipStatus.Active
            || (m.Status == MembershipStatus.Pending && m.Source == MembershipSource.OwnerAdd && (m.ExpiresAt == null || m.ExpiresAt > now)));

    /// <summary>A pending owner_add past its expiry that the sweep has not tombstoned yet.</summary>
    public static readonly Expression<Func<Membership, DateTime, bool>> ExpiredRule = (m, now) =>
        m.DeletedAt == null && m.Status == MembershipStatus.Pending && m.Source == MembershipSource.OwnerAdd
        && m.ExpiresAt != null && m.ExpiresAt <= now;

    /// <summary>A staged reservation that holds a seat: not expired, and not the marker of Roster's own outbound create.</summary>
    public static readonly Expression<Func<SeatReservation, DateTime, bool>> ReservationHoldsRule = (r, now) =>
        r.ExpiresAt > now && r.Source != SeatReservationSources.Outbound;

    private static readonly Func<SeatReservation, DateTime, bool> ReservationHoldsCompiled = ReservationHoldsRule.Compile();

    /// <summary>Marker for compiled queries (see <see cref="Inline{T}"/>); in memory it evaluates the same rule.</summary>
    public static bool ReservationHolds(SeatReservation r, DateTime now) => ReservationHoldsCompiled(r, now);

    private static readonly Func<Membership, DateTime, bool> HoldsCompiled = HoldsRule.Compile();
    private static readonly Func<Membership, DateTime, bool> LiveInvitationCompiled = LiveInvitationRule.Compile();

    public static Expression<Func<Membership, bool>> At(DateTime now) => Bind(HoldsRule, now);

    public static Expression<Func<Membership, bool>> LiveInvitationAt(DateTime now) => Bind(LiveInvitationRule, now);

    public static Expression<Func<Membership, bool>> ExpiredAt(DateTime now) => Bind(ExpiredRule, now);

    /// <summary>Every row but an expired invitation: what still stands in its (organization, user) place.</summary>
    public static Expression<Func<Membership, bool>> NotExpiredAt(DateTime now) =>
        Bind(Expression.Lambda<Func<Membership, DateTime, bool>>(Expression.Not(ExpiredRule.Body), ExpiredRule.Parameters), now);

    /// <summary>Marker for compiled queries (see <see cref="Inline{T}"/>); in memory it evaluates the same rule.</summary>
    public static bool Holds(Membership m, DateTime now) => HoldsCompiled(m, now);

    /// <summary>Marker for compiled queries (see <see cref="Inline{T}"/>); in memory it evaluates the same rule.</summary>
    public static bool IsLiveInvitation(Membership m, DateTime now) => LiveInvitationCompiled(m, now);

    /// <summary>Marker for compiled queries: <paramref name="rule"/> applied to a membership (see <see cref="Inline{T}"/>).</summary>
    public static bool Is(Expression<Func<Membership, DateTime, bool>> rule, Membership m, DateTime now) => rule.Compile()(m, now);

    /// <summary>Replaces calls to the marker methods in a query lambda with the rules themselves, so EF can translate them.</summary>
    public static Expression<T> Inline<T>(Expression<T> query) => (Expression<T>)new Inliner().Visit(query);

    // "now" as a captured variable, so EF sends it as a parameter (one cached plan) rather than a literal.
    private static Expression<Func<Membership, bool>> Bind(Expression<Func<Membership, DateTime, bool>> rule, DateTime now)
    {
        var holder = new NowHolder(now);
        var body = new Replace(rule.Parameters[1], Expression.Field(Expression.Constant(holder), nameof(NowHolder.Value))).Visit(rule.Body);
        return Expression.Lambda<Func<Membership, bool>>(body, rule.Parameters[0]);
    }

    private sealed class NowHolder(DateTime value)
    {
        public readonly DateTime Value = value;
    }

    private static readonly MethodInfo HoldsMethod = typeof(SeatHolding).GetMethod(nameof(Holds))!;
    private static readonly MethodInfo LiveInvitationMethod = typeof(SeatHolding).GetMethod(nameof(IsLiveInvitation))!;
    private static readonly MethodInfo IsMethod = typeof(SeatHolding).GetMethod(nameof(Is))!;
    private static readonly MethodInfo ReservationHoldsMethod = typeof(SeatHolding).GetMethod(nameof(ReservationHolds))!;

    private sealed class Inliner : ExpressionVisitor
    {
        protected override Expression VisitMethodCall(MethodCallExpression node)
        {
            if (node.Method == ReservationHoldsMethod)
            {
                var reservation = Visit(node.Arguments[0]);
                var at = Visit(node.Arguments[1]);
                var held = new Replace(ReservationHoldsRule.Parameters[0], reservation).Visit(ReservationHoldsRule.Body);
                return new Replace(ReservationHoldsRule.Parameters[1], at).Visit(held);
            }
            var (rule, first) = node.Method == HoldsMethod ? (HoldsRule, 0)
                : node.Method == LiveInvitationMethod ? (LiveInvitationRule, 0)
                : node.Method == IsMethod ? (Expression.Lambda<Func<Expression<Func<Membership, DateTime, bool>>>>(node.Arguments[0]).Compile()(), 1)
                : (null, 0);
            if (rule is null) return base.VisitMethodCall(node);
            var membership = Visit(node.Arguments[first]);
            var now = Visit(node.Arguments[first + 1]);
            var body = new Replace(rule.Parameters[0], membership).Visit(rule.Body);
            return new Replace(rule.Parameters[1], now).Visit(body);
        }
    }

    private sealed class Replace(ParameterExpression from, Expression to) : ExpressionVisitor
    {
        protected override Expression VisitParameter(ParameterExpression node) => node == from ? to : base.VisitParameter(node);
    }
}
