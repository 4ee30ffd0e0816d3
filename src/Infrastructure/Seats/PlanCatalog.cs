using Microsoft.Extensions.Options;
using Roster.Infrastructure.Configuration;

namespace Roster.Infrastructure.Seats;

public sealed class SeatOptions : IValidatedSettings
{
    public string DefaultPlan { get; set; } = "free";
    public string DefaultSeatType { get; set; } = "contributor";

    /// <summary>The seat type an un-staged WorkOS add takes.</summary>
    public string WebhookSeatType { get; set; } = "community_only";

    /// <summary>A person denied sign-in to one organization again and again notifies its admins at most once per this many minutes.</summary>
    public int DenialNotifyMinutes { get; set; } = 60;

    public IEnumerable<string> Problems()
    {
        if (string.IsNullOrWhiteSpace(DefaultPlan)) yield return "Seats:DefaultPlan must name a plan.";
        if (string.IsNullOrWhiteSpace(DefaultSeatType)) yield return "Seats:DefaultSeatType must name a seat type.";
        if (string.IsNullOrWhiteSpace(WebhookSeatType)) yield return "Seats:WebhookSeatType must name a seat type.";
        if (DenialNotifyMinutes < 0) yield return "Seats:DenialNotifyMinutes must be 0 or more.";
    }

    /// <summary>The plan catalog (<c>Plans:*</c>) is checked with the seat settings, since the default plan must be one of its plans.</summary>
    internal sealed class PlanCatalogValidator(IConfiguration configuration) : IValidateOptions<SeatOptions>
    {
        public ValidateOptionsResult Validate(string? name, SeatOptions options)
        {
            var problems = PlanCatalog.Read(configuration, options, out _);
            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }
}

/// <summary>Seat limits per plan and seat type, from configuration (Plans__plan__seatType); -1 means unlimited.</summary>
public sealed class PlanCatalog
{
    public const int Unlimited = -1;
    private readonly Dictionary<string, Dictionary<string, int>> _plans;

    public PlanCatalog(IConfiguration configuration, SeatOptions seats)
    {
        Seats = seats;
        var problems = Read(configuration, seats, out _plans);
        // The host checks the same at start (SeatOptions.PlanCatalogValidator); this only guards a catalog built by hand.
        if (problems.Count > 0) throw new InvalidOperationException(string.Join(" ", problems));
        SeatTypes = _plans.Values.SelectMany(p => p.Keys).Append(seats.DefaultSeatType).Append(seats.WebhookSeatType)
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
    }

    /// <summary>Reads <c>Plans:&lt;plan&gt;:&lt;seatType&gt;</c> limits; returns what is wrong with them, naming each key.</summary>
    internal static List<string> Read(IConfiguration configuration, SeatOptions seats, out Dictionary<string, Dictionary<string, int>> plans)
    {
        var problems = new List<string>();
        plans = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
        foreach (var plan in configuration.GetSection("Plans").GetChildren())
        {
            var limits = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var seatType in plan.GetChildren())
            {
                if (!int.TryParse(seatType.Value, System.Globalization.NumberStyles.AllowLeadingSign,
                        System.Globalization.CultureInfo.InvariantCulture, out var limit) || limit < Unlimited)
                    problems.Add($"Plans:{plan.Key}:{seatType.Key} must be a whole number, -1 for unlimited (it is '{seatType.Value}').");
                else
                    limits[seatType.Key] = limit;
            }
            plans[plan.Key] = limits;
        }
        if (!plans.ContainsKey(seats.DefaultPlan))
            problems.Add($"Seats:DefaultPlan '{seats.DefaultPlan}' is not a configured plan (Plans:{seats.DefaultPlan}:…).");
        return problems;
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
