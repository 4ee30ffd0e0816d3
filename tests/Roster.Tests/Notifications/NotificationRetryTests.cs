using System.Net;
using Roster.Features.Notifications;
using Roster.Infrastructure.Data;
using Roster.Tests.Support;
using Roster.Infrastructure.Outbox;

namespace Roster.Tests.Notifications;

/// <summary>
/// The operator's way back for failed rows: POST /api/admin/notifications/{id}/retry and …/retry-failed. Its own
/// fixture, because retry-failed touches every failed row of the database.
/// </summary>
public abstract class NotificationRetryTests(SlackApp app)
{
    private readonly Scenario _s = new(app);
    private FakeSlack Slack => app.Slack;
    private HttpClient PlatformAdmin => _s.As(RosterApp.NewUser("platform", admin: true));

    private IReadOnlyList<SlackCall> PostsAbout(TestUser person) =>
        Slack.Posted.Where(c => c.Arg("text")!.Contains(person.Email, StringComparison.Ordinal)).ToList();

    private async Task<(TestUser Refused, NotificationOutboxRow Row)> FailedAsync(Guid orgId, SlackFault fault)
    {
        var refused = RosterApp.NewUser("refused");
        var row = await app.EnqueueRefusalAsync(orgId, refused.Email, refused.Name);
        Slack.Fail(fault, "chat.postMessage", times: 1);
        try
        {
            await app.DispatchUntilIdleAsync();
        }
        finally
        {
            Slack.Recover();
        }
        Assert.NotNull((await app.RowAsync(row.Id)).FailedAt);
        return (refused, row);
    }

    [Fact]
    public async Task AFailedRowRetriedByAPlatformAdminIsSentOnce()
    {
        var org = await _s.NewOrg();
        Slack.Map(org.Owner.Email);
        var (refused, row) = await FailedAsync(org.Id, new SlackFault.Error("channel_not_found"));

        var view = await (await PlatformAdmin.PostAsync($"/api/admin/notifications/{row.Id}/retry", null)).ShouldBe(HttpStatusCode.OK);

        Assert.Equal(("pending", 0), (view.Str("status"), view["attempts"]!.GetValue<int>()));
        Assert.Equal("chat.postMessage: channel_not_found", view.Str("lastError")); // why it failed, until it is sent
        await app.DispatchUntilIdleAsync();
        var sent = await app.RowAsync(row.Id);
        Assert.NotNull(sent.SentAt);
        Assert.Null(sent.FailedAt);
        Assert.Null(sent.LastError);
        Assert.Single(PostsAbout(refused));

        await (await PlatformAdmin.PostAsync($"/api/admin/notifications/{row.Id}/retry", null))
            .ShouldBeProblem(HttpStatusCode.Conflict, ListNotifications.NotificationNotFailed); // sent: nothing to retry
        await (await PlatformAdmin.PostAsync($"/api/admin/notifications/{Guid.NewGuid()}/retry", null))
            .ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
        await (await PlatformAdmin.PostAsync("/api/admin/notifications/not-a-guid/retry", null))
            .ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task APendingRowCannotBeRetried()
    {
        var org = await _s.NewOrg();
        var refused = RosterApp.NewUser("refused");
        var row = await app.EnqueueRefusalAsync(org.Id, refused.Email, refused.Name);

        await (await PlatformAdmin.PostAsync($"/api/admin/notifications/{row.Id}/retry", null))
            .ShouldBeProblem(HttpStatusCode.Conflict, ListNotifications.NotificationNotFailed);

        var after = await app.RowAsync(row.Id);
        Assert.Equal((0, (DateTime?)null), (after.Attempts, after.FailedAt));
        Slack.Map(org.Owner.Email);
        await app.DispatchUntilIdleAsync();
    }

    [Fact]
    public async Task RetryFailedRequeuesEveryFailedRowButLeavesThoseThatMayHaveBeenDeliveredToBeCheckedOneByOne()
    {
        var org = await _s.NewOrg();
        Slack.Map(org.Owner.Email);
        var (lost1, row1) = await FailedAsync(org.Id, new SlackFault.Error("channel_not_found"));
        var (lost2, row2) = await FailedAsync(org.Id, new SlackFault.Error("not_in_channel"));
        var (maybe, maybeRow) = await FailedAsync(org.Id, new SlackFault.DoneThenError("internal_error"));
        Assert.Single(PostsAbout(maybe));

        var result = await (await PlatformAdmin.PostAsync("/api/admin/notifications/retry-failed", null)).ShouldBe(HttpStatusCode.OK);

        Assert.True(result["requeued"]!.GetValue<int>() >= 2);
        Assert.True(result["leftMayHaveBeenDelivered"]!.GetValue<int>() >= 1);
        await app.DispatchUntilIdleAsync();
        foreach (var row in new[] { row1, row2 }) Assert.NotNull((await app.RowAsync(row.Id)).SentAt);
        Assert.Single(PostsAbout(lost1));
        Assert.Single(PostsAbout(lost2));
        var still = await app.RowAsync(maybeRow.Id);
        Assert.NotNull(still.FailedAt);
        Assert.StartsWith(OutboxErrors.MayHaveBeenDeliveredPrefix, still.LastError);
        Assert.Single(PostsAbout(maybe)); // not posted twice

        // Someone checked the channel and it is not there: that one row is retried on purpose.
        await (await PlatformAdmin.PostAsync($"/api/admin/notifications/{maybeRow.Id}/retry", null)).ShouldBe(HttpStatusCode.OK);
        await app.DispatchUntilIdleAsync();
        Assert.NotNull((await app.RowAsync(maybeRow.Id)).SentAt);
        Assert.Equal(2, PostsAbout(maybe).Count);
    }

    [Fact]
    public async Task OnlyAPlatformAdminMayRetry()
    {
        var org = await _s.NewOrg();
        Slack.Map(org.Owner.Email);
        var (_, row) = await FailedAsync(org.Id, new SlackFault.Error("channel_not_found"));

        await (await _s.As(org.Owner).PostAsync($"/api/admin/notifications/{row.Id}/retry", null)).ShouldBeProblem(HttpStatusCode.Forbidden, "forbidden");
        await (await _s.As(org.Owner).PostAsync("/api/admin/notifications/retry-failed", null)).ShouldBeProblem(HttpStatusCode.Forbidden, "forbidden");
        await (await app.CreateClient().PostAsync("/api/admin/notifications/retry-failed", null)).ShouldBeProblem(HttpStatusCode.Unauthorized, "unauthorized");

        Assert.NotNull((await app.RowAsync(row.Id)).FailedAt);
    }
}

public sealed class NotificationRetryTestsOnSqlite(SqliteSlackApp app) : NotificationRetryTests(app), IClassFixture<SqliteSlackApp>;

public sealed class NotificationRetryTestsOnPostgres(PostgresSlackApp app) : NotificationRetryTests(app), IClassFixture<PostgresSlackApp>;
