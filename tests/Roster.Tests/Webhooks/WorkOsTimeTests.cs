using System.Net;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Roster.Tests.Support;
using Roster.Infrastructure.WorkOs;

namespace Roster.Tests.Webhooks;

/// <summary>
/// WorkOS writes times two ways: ISO 8601 with Z, and "2020-05-06 04:21:48.649164" (UTC, microseconds) as its SDK's
/// fixtures and docs show. Both are WorkOS times wherever one is sent.
/// </summary>
public class WorkOsTimeParsingTests
{
    [Theory]
    [InlineData("2020-05-06 04:21:48.649164", 2020, 5, 6, 4, 21, 48, 6491640)]
    [InlineData("2026-11-01T10:00:00.000Z", 2026, 11, 1, 10, 0, 0, 0)]
    [InlineData("2026-11-01T10:00:00Z", 2026, 11, 1, 10, 0, 0, 0)]
    [InlineData("2026-11-01T12:00:00.5+02:00", 2026, 11, 1, 10, 0, 0, 5000000)]
    [InlineData("2026-11-01 10:00:00", 2026, 11, 1, 10, 0, 0, 0)]
    public void BothWorkOsFormsReadAsUtc(string text, int y, int mo, int d, int h, int mi, int s, long extraTicks)
    {
        Assert.True(WorkOsTime.TryParse(text, out var at));
        Assert.Equal(new DateTime(y, mo, d, h, mi, s, DateTimeKind.Utc).AddTicks(extraTicks), at);
        Assert.Equal(DateTimeKind.Utc, at.Kind);
    }

    [Theory]
    [InlineData("")]
    [InlineData("yesterday")]
    [InlineData("5/6/2020")]
    [InlineData("2020-05-06")]
    [InlineData("1588738908")]
    public void AnythingElseIsNotAWorkOsTime(string text) => Assert.False(WorkOsTime.TryParse(text, out _));

    [Fact]
    public void TheEnvelopesCreatedAtIsReadInTheFormTheSdkFixturesUse()
    {
        var evt = WorkOsEvent.Parse(Encoding.UTF8.GetBytes(
            """{"id":"event_01","event":"user.created","data":{"id":"user_01"},"created_at":"2020-05-06 04:21:48.649164"}"""));

        Assert.Equal(new DateTime(2020, 5, 6, 4, 21, 48, DateTimeKind.Utc).AddTicks(6491640), evt!.CreatedAt);
    }
}

public abstract class WorkOsTimeTests(RosterApp app)
{
    private readonly Scenario _s = new(app);
    private readonly HttpClient _workos = app.ClientFor(null);

    private static string Spaced(DateTime at) => at.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss.ffffff");

    [Fact]
    public async Task AMembershipWhoseUpdatedAtIsInTheSpacedFormIsAppliedAndOrderedAgainstIsoTimes()
    {
        var org = await _s.NewOrg();
        var workosOrg = WorkOs.NewId("org");
        await app.WithDbAsync(db => db.Organizations.Where(o => o.Id == org.Id).ExecuteUpdateAsync(u => u.SetProperty(o => o.WorkosOrganizationId, workosOrg)));
        var om = WorkOs.NewId("om");
        var user = WorkOs.NewId("user");
        var t = DateTime.UtcNow.AddMinutes(-5);
        var spaced = WorkOs.Envelope("organization_membership.created", Replace(WorkOs.Membership(om, user, workosOrg, role: "admin", updatedAt: t), t));

        Assert.Equal("applied", await _workos.DeliverOk(spaced));
        var stored = await app.WithDbAsync(db => db.Memberships.Where(m => m.WorkosMembershipId == om).Select(m => m.WorkosUpdatedAt).SingleAsync());
        Assert.Equal(t.Ticks / 10, stored!.Value.Ticks / 10); // microseconds kept
        // An ISO event older than the spaced one is stale; a newer one applies.
        Assert.Equal("stale", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.updated",
            WorkOs.Membership(om, user, workosOrg, role: "member", updatedAt: t.AddSeconds(-1)))));
        Assert.Equal("applied", await _workos.DeliverOk(WorkOs.Envelope("organization_membership.updated",
            WorkOs.Membership(om, user, workosOrg, role: "member", updatedAt: t.AddSeconds(1)))));
    }

    [Fact]
    public async Task AnyWorkOsTimeFieldInTheSpacedFormIsReadNotRefused()
    {
        var at = Spaced(DateTime.UtcNow.AddMinutes(-1));
        var orgId = WorkOs.NewId("org");
        var body = $$$"""
            {"id":"{{{WorkOs.NextEventId()}}}","event":"organization.created","created_at":"{{{at}}}",
             "data":{"object":"organization","id":"{{{orgId}}}","name":"Spaced Inc","domains":[],"created_at":"{{{at}}}","updated_at":"{{{at}}}"}}
            """;

        Assert.Equal("applied", (await (await _workos.Deliver(body)).ShouldBe(HttpStatusCode.OK)).Str("outcome"));
        Assert.Equal("Spaced Inc", await app.WithDbAsync(db => db.Organizations.Where(o => o.WorkosOrganizationId == orgId).Select(o => o.Name).SingleAsync()));
        var user = WorkOs.NewId("user");
        var userBody = $$$"""
            {"id":"{{{WorkOs.NextEventId()}}}","event":"user.created","created_at":"{{{at}}}",
             "data":{"object":"user","id":"{{{user}}}","email":"{{{user}}}@example.com","email_verified":true,"first_name":"Sam","last_name":"Pace",
                     "profile_picture_url":null,"last_sign_in_at":"{{{at}}}","created_at":"{{{at}}}","updated_at":"{{{at}}}"}}
            """;
        Assert.Equal("applied", (await (await _workos.Deliver(userBody)).ShouldBe(HttpStatusCode.OK)).Str("outcome"));
        var invitation = WorkOs.NewId("invitation");
        var expires = Spaced(DateTime.UtcNow.AddDays(3));
        var invitationBody = $$$"""
            {"id":"{{{WorkOs.NextEventId()}}}","event":"invitation.created","created_at":"{{{at}}}",
             "data":{"object":"invitation","id":"{{{invitation}}}","email":"x.{{{invitation}}}@example.com","state":"pending","accepted_at":null,
                     "revoked_at":null,"expires_at":"{{{expires}}}","organization_id":"{{{orgId}}}","inviter_user_id":null,"accepted_user_id":null,
                     "created_at":"{{{at}}}","updated_at":"{{{at}}}"}}
            """;
        Assert.Equal("applied", (await (await _workos.Deliver(invitationBody)).ShouldBe(HttpStatusCode.OK)).Str("outcome"));
        var reservation = await app.WithDbAsync(db => db.SeatReservations.Where(r => r.WorkosInvitationId == invitation).Select(r => r.ExpiresAt).SingleAsync());
        Assert.True(reservation > DateTime.UtcNow.AddDays(2));
    }

    /// <summary>The membership object with its updated_at written in the spaced form.</summary>
    private static Dictionary<string, object?> Replace(object membership, DateTime updatedAt)
    {
        var json = System.Text.Json.JsonSerializer.SerializeToElement(membership);
        var copy = json.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value);
        copy["updated_at"] = Spaced(updatedAt);
        copy["created_at"] = Spaced(updatedAt.AddMinutes(-1));
        return copy;
    }
}

public sealed class WorkOsTimeTestsOnSqlite(SqliteApp app) : WorkOsTimeTests(app), IClassFixture<SqliteApp>;

public sealed class WorkOsTimeTestsOnPostgres(PostgresApp app) : WorkOsTimeTests(app), IClassFixture<PostgresApp>;
