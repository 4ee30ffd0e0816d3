using System.Net;
using System.Net.Http.Headers;
using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Auth;
using Roster.Infrastructure.Data;
using Roster.Tests.Support;

namespace Roster.Tests.Features;

/// <summary>
/// Values PostgreSQL refuses to store — a NUL character in text, a value too long for a btree index row — are the
/// request's fault: a 400 validation_failed problem with nothing written, never a 500 (found by Reliability/FuzzTests).
/// SQLite stores them, so there the same requests succeed.
/// </summary>
public abstract class UnstorableValueTests(RosterApp app)
{
    private readonly Scenario _s = new(app);
    private bool Refuses => app.Provider == StorageProvider.Postgres;

    [Fact]
    public async Task ANulInAnOrganizationNameIsRefusedOnEveryProvider()
    {
        var owner = RosterApp.NewUser("owner");
        await _s.UserIdOf(owner);
        var before = await DbState.CaptureAsync(app);

        using var response = await _s.As(owner).SendRaw(HttpMethod.Post, "/api/organizations", """{"name":"Acme\u0000Evil"}""");

        // An organization name is validated before any database sees it: no control characters, on either provider.
        var problem = await response.ShouldBeProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(problem["errors"]!["name"]);
        DbState.AssertUnchanged(before, await DbState.CaptureAsync(app));
    }

    [Fact]
    public async Task ATokenWhoseNameHoldsANulSignsInOrIsRefusedButNeverFails()
    {
        var user = RosterApp.NewUser("nul") with { Name = "Nul\u0000Name" };
        using var response = await _s.As(user).GetAsync("/api/membership-requests/mine");

        if (Refuses)
        {
            await ShouldBeRefused(response);
            Assert.False(await app.WithDbAsync(db => db.Users.AnyAsync(u => u.WorkosUserId == user.Sub)));
        }
        else await response.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task AWebhookValueTooLongToIndexIsMalformedAndNotRecorded()
    {
        var eventId = WorkOs.NextEventId();
        // Random, so that PostgreSQL cannot compress it under the btree row limit (2704 bytes).
        var slug = "org-" + string.Concat(Enumerable.Range(0, 100).Select(_ => Guid.NewGuid().ToString("N")));
        var json = WorkOs.Envelope("organization_role.created", WorkOs.Role(slug, "Too long", orgId: WorkOs.NewId("org")), eventId);
        using var response = await app.CreateClient().Deliver(json);

        if (Refuses)
        {
            await ShouldBeRefused(response);
            Assert.False(await app.WithDbAsync(db => db.WebhookEvents.AnyAsync(e => e.EventId == eventId)));
        }
        else Assert.Equal("applied", (await response.ShouldBe(HttpStatusCode.OK)).Str("outcome"));
    }

    private static async Task ShouldBeRefused(HttpResponseMessage response)
    {
        var problem = await response.ShouldBeProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.True(problem["errors"]?["request"] is System.Text.Json.Nodes.JsonArray { Count: 1 }, problem.ToJsonString());
    }
}

public sealed class UnstorableValueTestsOnSqlite(SqliteApp app) : UnstorableValueTests(app), IClassFixture<SqliteApp>;

public sealed class UnstorableValueTestsOnPostgres(PostgresApp app) : UnstorableValueTests(app), IClassFixture<PostgresApp>;
