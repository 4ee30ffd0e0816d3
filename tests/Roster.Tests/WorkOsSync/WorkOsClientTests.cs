using System.Net;
using Roster.Tests.Support;
using Roster.Infrastructure.WorkOs;

namespace Roster.Tests.WorkOsSync;

/// <summary>The typed client against the fake WorkOS (no storage involved).</summary>
public sealed class WorkOsClientTests : IAsyncLifetime
{
    private FakeWorkOs _fake = null!;
    private WorkOsClient _client = null!;

    public async Task InitializeAsync()
    {
        _fake = await FakeWorkOs.StartAsync();
        _client = new WorkOsClient(new HttpClient(),
            new WorkOsOptions { ApiKey = _fake.ApiKey, BaseUrl = _fake.BaseUrl.ToString(), MaxRetries = 2, RetryBaseDelayMilliseconds = 5 });
    }

    public async Task DisposeAsync() => await _fake.DisposeAsync();

    [Fact]
    public async Task MembershipsCanBeCreatedReadListedUpdatedAndDeleted()
    {
        var (org, _) = _fake.CreateOrganization("Client Co");
        var (user, _) = _fake.CreateUser("client@example.com");

        var created = await _client.CreateMembershipAsync(user, org, ["member"], "key-created", CancellationToken.None);
        Assert.Equal(("active", "member"), (created.Status, created.RoleSlug));
        Assert.Equal(created.Id, (await _client.GetMembershipAsync(created.Id!, CancellationToken.None))!.Id);
        Assert.Equal(created.Id, Assert.Single((await _client.ListMembershipsAsync(org, user, null, CancellationToken.None)).Data).Id);
        Assert.Equal("admin", (await _client.UpdateMembershipRolesAsync(created.Id!, ["admin"], CancellationToken.None)).RoleSlug);
        Assert.True(await _client.DeleteMembershipAsync(created.Id!, CancellationToken.None));
        Assert.False(await _client.DeleteMembershipAsync(created.Id!, CancellationToken.None));
        Assert.Null(await _client.GetMembershipAsync(created.Id!, CancellationToken.None));
    }

    [Fact]
    public async Task UsersRolesAndEventPagesAreRead()
    {
        var (user, _) = _fake.CreateUser("reader@example.com", "Rea", "Der");
        _fake.CreateRole("viewer", "Viewer", ["posts:read"]);

        Assert.Equal("reader@example.com", (await _client.GetUserAsync(user, CancellationToken.None))!.Email);
        Assert.Null(await _client.GetUserAsync("user_missing", CancellationToken.None));
        Assert.Contains(await _client.ListRolesAsync(CancellationToken.None), r => r.Slug == "viewer" && r.Permissions!.Contains("posts:read"));
        var page = await _client.ListEventsAsync(["role.created"], null, null, null, 100, CancellationToken.None);
        Assert.Equal("role.created", Assert.Single(page.Events).Event.Event);
        Assert.Null(page.After);
    }

    [Fact]
    public async Task RateLimitsAndServerErrorsAreRetriedButClientErrorsAreNot()
    {
        var (user, _) = _fake.CreateUser("retry@example.com");
        _fake.FailNext(1, 429, TimeSpan.FromSeconds(1));
        Assert.NotNull(await _client.GetUserAsync(user, CancellationToken.None));
        _fake.FailNext(2, 503);
        Assert.NotNull(await _client.GetUserAsync(user, CancellationToken.None));

        _fake.FailNext(3, 500);
        var gaveUp = await Assert.ThrowsAsync<WorkOsApiException>(() => _client.GetUserAsync(user, CancellationToken.None));
        Assert.Equal(HttpStatusCode.InternalServerError, gaveUp.Status);

        var before = _fake.Requests.Count;
        var refused = await Assert.ThrowsAsync<WorkOsApiException>(() => _client.CreateMembershipAsync(user, "org_missing", ["member"], "key-missing", CancellationToken.None));
        Assert.Equal(HttpStatusCode.NotFound, refused.Status);
        Assert.Equal("entity_not_found", refused.Code);
        Assert.Equal(before + 1, _fake.Requests.Count);
    }

    [Fact]
    public async Task WithMaxRetriesZeroTheClientIsBuiltAndTriesOnce()
    {
        var (user, _) = _fake.CreateUser("once@example.com");
        var once = new WorkOsClient(new HttpClient(), new WorkOsOptions { ApiKey = _fake.ApiKey, BaseUrl = _fake.BaseUrl.ToString(), MaxRetries = 0 });
        Assert.NotNull(await once.GetUserAsync(user, CancellationToken.None));

        _fake.FailNext(1, 503);
        var before = _fake.Requests.Count;
        var gaveUp = await Assert.ThrowsAsync<WorkOsApiException>(() => once.GetUserAsync(user, CancellationToken.None));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, gaveUp.Status);
        Assert.Equal(before + 1, _fake.Requests.Count);
    }
}
