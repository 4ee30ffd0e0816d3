using System.Net;
using System.Text.Json.Nodes;
using Roster.Tests.Support;

namespace Roster.Tests.Features;

/// <summary>
/// The Membership representation and the invitee's view of an invitation write their fields in the order they always
/// have: an invitation is a membership plus the organization's and inviter's names, and <c>expiresAt</c> stays last in
/// both (src/Infrastructure/Memberships/MembershipView.cs builds one from the other).
/// </summary>
public abstract class ViewShapeTests(RosterApp app)
{
    private readonly Scenario _s = new(app);

    private static readonly string[] Membership =
        ["id", "organizationId", "userId", "email", "name", "role", "status", "source", "seatType", "addedBy", "createdAt", "updatedAt", "expiresAt"];

    private static readonly string[] Invitation =
        ["id", "organizationId", "userId", "email", "name", "role", "status", "source", "seatType", "addedBy", "createdAt", "updatedAt",
         "organizationName", "addedByName", "expiresAt"];

    private static string[] Keys(JsonNode? node) => node!.AsObject().Select(p => p.Key).ToArray();

    [Fact]
    public async Task AnInvitationIsTheMembershipsFieldsThenTheNamesThenItsExpiryInThatOrder()
    {
        var org = await _s.NewOrg();
        var invitee = RosterApp.NewUser("invitee");
        var membershipId = await _s.Invite(org.Id, org.Owner, invitee);

        var added = await (await _s.As(org.Owner).GetAsync($"/api/organizations/{org.Id}/members")).ShouldBe(HttpStatusCode.OK);
        var asMember = added.AsArray().Single(m => m!["id"]!.GetValue<string>() == membershipId.ToString());
        Assert.Equal(Membership, Keys(asMember));

        var pending = await (await _s.As(invitee).GetAsync("/api/membership-requests/mine/pending")).ShouldBe(HttpStatusCode.OK);
        var asInvitation = pending.AsArray().Single();
        Assert.Equal(Invitation, Keys(asInvitation));
        // The shared fields are the membership's own values; the names are the organization's and the inviter's.
        foreach (var field in Membership)
            Assert.Equal(asMember![field]?.ToJsonString(), asInvitation![field]?.ToJsonString());
        Assert.Equal($"Org of {org.Owner.Name}", asInvitation!["organizationName"]!.GetValue<string>());
        Assert.Equal(org.Owner.Name, asInvitation["addedByName"]!.GetValue<string>());
    }

    [Fact]
    public async Task TheOpenApiDocumentDescribesBothWithEveryFieldRequiredInThatOrder()
    {
        // Generated clients read these: an invitation's inherited fields must not turn optional.
        var document = await (await _s.As(null).GetAsync("/openapi/v1.json")).ShouldBe(HttpStatusCode.OK);
        var schemas = document["components"]!["schemas"]!;
        foreach (var (name, fields) in new[] { ("MembershipView", Membership), ("InvitationView", Invitation) })
        {
            Assert.Equal(fields, Keys(schemas[name]!["properties"]));
            Assert.Equal(fields.Order(StringComparer.Ordinal), schemas[name]!["required"]!.AsArray().Select(r => r!.GetValue<string>()).Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public async Task AJoinRequestAsItsAskerSeesItHasTheInvitationsShape()
    {
        var org = await _s.NewOrg();
        var asker = RosterApp.NewUser("asker");
        await _s.RequestToJoin(org.Id, asker);

        var mine = await (await _s.As(asker).GetAsync("/api/membership-requests/mine")).ShouldBe(HttpStatusCode.OK);
        var request = mine.AsArray().Single();
        Assert.Equal(Invitation, Keys(request));
        Assert.Equal("join_request", request!["source"]!.GetValue<string>());
        Assert.Null(request["addedByName"]);
    }
}

public sealed class ViewShapeTestsOnSqlite(SqliteApp app) : ViewShapeTests(app), IClassFixture<SqliteApp>;

public sealed class ViewShapeTestsOnPostgres(PostgresApp app) : ViewShapeTests(app), IClassFixture<PostgresApp>;
