namespace Roster.Infrastructure.Seats;

public sealed class SeatOptions
{
    public string DefaultPlan { get; set; } = "free";
    public string DefaultSeatType { get; set; } = "contributor";

    /// <summary>The seat type an un-staged WorkOS add takes.</summary>
    public string WebhookSeatType { get; set; } = "community_only";
}

/// <summary>Seat limits per plan and seat type, from configuration (Plans__plan__seatType); -1 means unlimited.</summary>
public sealed class PlanCatalog
{
    public const int Unlimited = -1;
    private readonly Dictionary<string, Dictionary<string, int>> _plans;

    public PlanCatalog(IConfiguration configuration, SeatOptions seats)
    {
        Seats = seats;
        _plans = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
        foreach (var plan in configuration.GetSection("Plans").GetChildren())
        {
            var limits = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var seatType in plan.GetChildren())
            {
                if (!int.TryParse(seatType.Value, out var limit) || limit < Unlimited)
                    throw new InvalidOperationException($"Plans:{plan.Key}:{seatType.Key} must be a whole number, -1 for unlimited.");
                limits[seatType.Key] = limit;
            }
            _plans[plan.Key] = limits;
        }
        if (!_plans.ContainsKey(seats.DefaultPlan))
            throw new InvalidOperationException($"Seats:DefaultPlan '{seats.DefaultPlan}' is not a configured plan.");
        SeatTypes = _plans.Values.SelectMany(p => p.Keys).Append(seats.DefaultSeatType).Append(seats.WebhookSeatType)
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
    }

    public SeatOptions Seats { get; }
    public IReadOnlyList<string> SeatTypes { get; }
    public IEnumerable<string> PlanNames => _plans.Keys;

    public bool IsPlan(string plan) => _plans.ContainsKey(plan);
    public bool IsSeatType(string seatType) => SeatTypes.Contains(seatType, StringComparer.Ordinal);

    public string EffectivePlan(string? plan) => plan is not null && _plans.ContainsKey(plan) ? plan : Seats.DefaultPlan;

    /// <summary>The lowest finite limit any plan sets for the seat type (0 where a plan omits it).</summary>
    public int SmallestLimit(string seatType) =>
        _plans.Values.Select(p => p.TryGetValue(seatType, out var l) ? l : 0).Where(l => l != Unlimited).DefaultIfEmpty(int.MaxValue).Min();

    public int LimitFor(string? plan, string seatType) =>
        _plans[EffectivePlan(plan)].TryGetValue(seatType, out var limit) ? limit : 0;
}
