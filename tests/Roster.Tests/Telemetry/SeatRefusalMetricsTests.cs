using System.Net;
using Roster.Tests.Support;

namespace Roster.Tests.Telemetry;

/// <summary>
/// roster.seat.refusals counts each refusal a seat gate answers, tagged with the gate (src/Infrastructure/Seats/SeatGate.cs
/// counts it, at one place): an approval and a seat-type change under their own names, and nothing for an add that was
/// refused for another reason first or for a preflight that only asks. Its own hosts, so its counts are its own.
/// </summary>
public abstract class SeatRefusalMetricsTests(TelemetryApp app)
{
    private readonly Scenario _s = new(app);

    [Fact]
    public async Task EachSeatGateCountsTheRefusalItAnswersUnderItsOwnNameAndNothingElse()
    {
        // On the free plan a member takes a community_only seat and one asks to join; then the plan shrinks to
        // individual_professional (1 contributor: the founder's, no community_only), so every new seat is refused.
        var org = await _s.NewOrg();
        var member = RosterApp.NewUser("member");
        var memberId = await _s.AddActive(org.Id, org.Owner, member, seatType: "community_only");
        var asking = await _s.RequestToJoin(org.Id, RosterApp.NewUser("asking"));
        await _s.SetPlan(org.Id, "individual_professional");
        var owner = _s.As(org.Owner);
        var before = app.Collect();

        await (await owner.PutJson($"/api/organizations/{org.Id}/requests/{asking}/approve", new { seatType = "contributor" }))
            .ShouldBeProblem(HttpStatusCode.Conflict, "seat_limit_reached");
        await (await owner.PatchJson($"/api/organizations/{org.Id}/members/{memberId}", new { seatType = "contributor" }))
            .ShouldBeProblem(HttpStatusCode.Conflict, "seat_limit_reached");
        // Refused for another reason first (already a member): the add answers that, and no seat was asked for.
        await (await owner.PostJson($"/api/organizations/{org.Id}/members", new { userId = await _s.UserIdOf(member), seatType = "contributor" }))
            .ShouldBeProblem(HttpStatusCode.Conflict, "already_member");
        // Preflight lists the seat refusal the add would answer, but asks without taking: nothing is counted.
        var preflight = await (await owner.GetAsync(
            $"/api/organizations/{org.Id}/preflight?action=add&userId={await _s.UserIdOf(RosterApp.NewUser("maybe"))}&seatType=contributor")).ShouldBe(HttpStatusCode.OK);
        Assert.Contains("seat_limit_reached", preflight.ToJsonString(), StringComparison.Ordinal);

        var after = app.Collect();
        long Delta(string gate, string seatType) =>
            TelemetryTests.Sum(after, "roster.seat.refusals", ("roster.gate", gate), ("roster.seat_type", seatType))
            - TelemetryTests.Sum(before, "roster.seat.refusals", ("roster.gate", gate), ("roster.seat_type", seatType));
        Assert.Equal(1, Delta("approve", "contributor"));
        Assert.Equal(1, Delta("update_member", "contributor"));
        Assert.Equal(0, Delta("add_member", "contributor"));
        Assert.Equal(2, TelemetryTests.Sum(after, "roster.seat.refusals") - TelemetryTests.Sum(before, "roster.seat.refusals"));
    }
}

[Collection(TelemetryCollection.Name)]
public sealed class SeatRefusalMetricsTestsOnSqlite(SqliteTelemetryApp app) : SeatRefusalMetricsTests(app), IClassFixture<SqliteTelemetryApp>;

[Collection(TelemetryCollection.Name)]
public sealed class SeatRefusalMetricsTestsOnPostgres(PostgresTelemetryApp app) : SeatRefusalMetricsTests(app), IClassFixture<PostgresTelemetryApp>;
