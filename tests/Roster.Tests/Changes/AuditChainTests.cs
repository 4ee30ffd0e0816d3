using System.Net;
using Microsoft.EntityFrameworkCore;
using Roster.Cli;
using Roster.Tests.Support;

namespace Roster.Tests.Changes;

/// <summary>The tamper-evident audit export: every audit row chained by hash, exported as NDJSON, verified offline by `roster audit verify`.</summary>
public abstract class AuditChainTests(RosterApp app) : IDisposable
{
    private readonly Scenario _s = new(app);
    private readonly string _folder = Directory.CreateTempSubdirectory("roster-audit-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private async Task<Staffed> HistoryAsync()
    {
        var org = await _s.NewStaffedOrg();
        await (await _s.As(org.Owner).PatchJson($"/api/organizations/{org.Id}/members/{org.MemberMembershipId}", new { role = "admin" })).ShouldBe(HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.NoContent, (await _s.As(org.Owner).DeleteAsync($"/api/organizations/{org.Id}/members/{org.MemberMembershipId}")).StatusCode);
        await (await _s.As(org.Owner).PatchJson($"/api/organizations/{org.Id}", new { name = "Renamed for the audit" })).ShouldBe(HttpStatusCode.OK);
        return org;
    }

    private async Task<(string File, string[] Lines)> ExportAsync(Staffed org, TestUser? who = null)
    {
        using var response = await _s.As(who ?? org.Owner).GetAsync($"/api/organizations/{org.Id}/audit/export");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType!.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        var file = Path.Combine(_folder, $"{Guid.NewGuid():N}.ndjson");
        await File.WriteAllTextAsync(file, text);
        return (file, text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    private async Task<(int Code, string Output)> VerifyAsync(string file)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await RosterCommands.RunAsync(app.Services, ["audit", "verify", file], output, error);
        return (code, output + error.ToString());
    }

    [Fact]
    public async Task TheExportIsTheOrganizationsAuditChainInOrderAndVerifiesIntact()
    {
        var org = await HistoryAsync();
        var (file, lines) = await ExportAsync(org);

        var rows = lines.Select(l => System.Text.Json.Nodes.JsonNode.Parse(l)!).ToList();
        var audits = await app.WithDbAsync(db => db.AuditEvents.CountAsync(a => a.OrganizationId == org.Id));
        Assert.Equal(audits, rows.Count);
        Assert.Equal(["founded", "added", "accepted", "added", "accepted", "role_changed", "removed", "organization_renamed"], rows.Select(r => r.Str("action")));
        Assert.Equal("", rows[0].Str("previousHash"));
        for (var i = 1; i < rows.Count; i++) Assert.Equal(rows[i - 1].Str("hash"), rows[i].Str("previousHash"));
        Assert.True(rows.Select(r => r.Long("sequence")).SequenceEqual(rows.Select(r => r.Long("sequence")).Order()));
        var head = await app.WithDbAsync(db => db.Organizations.Where(o => o.Id == org.Id).Select(o => o.AuditHead).SingleAsync());
        Assert.Equal(head, rows[^1].Str("hash"));

        var (code, output) = await VerifyAsync(file);
        Assert.Equal(0, code);
        Assert.Contains($"OK: {rows.Count} audit rows", output);
    }

    [Fact]
    public async Task EditingOneRowInTheDatabaseBreaksTheChainAtThatRow()
    {
        var org = await HistoryAsync();
        var (_, before) = await ExportAsync(org);
        var target = System.Text.Json.Nodes.JsonNode.Parse(before[5])!; // the role change
        Assert.Equal("role_changed", target.Str("action"));
        var id = Guid.Parse(target.Str("id"));
        // Someone with database access quietly makes the promotion look like one to owner.
        await app.WithDbAsync(db => db.AuditEvents.Where(a => a.Id == id).ExecuteUpdateAsync(s => s.SetProperty(a => a.NewRole, "owner")));

        var (file, after) = await ExportAsync(org);
        Assert.Equal(before.Length, after.Length);
        var (code, output) = await VerifyAsync(file);
        Assert.Equal(1, code);
        Assert.Contains($"line 6 (audit row {id}", output);
        Assert.Contains("does not match its hash", output);
        Assert.Contains("5 rows before it verified", output);
    }

    [Fact]
    public async Task RemovingARowBreaksTheChainAtTheRowAfterIt()
    {
        var org = await HistoryAsync();
        var (_, lines) = await ExportAsync(org);
        var removed = Guid.Parse(System.Text.Json.Nodes.JsonNode.Parse(lines[3])!.Str("id"));
        var next = System.Text.Json.Nodes.JsonNode.Parse(lines[4])!.Str("id");
        await app.WithDbAsync(db => db.AuditEvents.Where(a => a.Id == removed).ExecuteDeleteAsync());

        var (file, _) = await ExportAsync(org);
        var (code, output) = await VerifyAsync(file);
        Assert.Equal(1, code);
        Assert.Contains($"line 4 (audit row {next}", output);
        Assert.Contains("previousHash does not match", output);
    }

    [Fact]
    public async Task OnlyOwnersAndPlatformAdminsExport()
    {
        var org = await _s.NewStaffedOrg();
        var url = $"/api/organizations/{org.Id}/audit/export";
        await ExportAsync(org, org.PlatformAdmin);
        await (await _s.As(org.Admin).GetAsync(url)).ShouldBeProblem(HttpStatusCode.Forbidden, "forbidden");
        await (await _s.As(org.Member).GetAsync(url)).ShouldBeProblem(HttpStatusCode.Forbidden, "forbidden");
        await (await _s.As(org.Outsider).GetAsync(url)).ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task AFileThatIsNotAnExportIsReportedNotTrusted()
    {
        var file = Path.Combine(_folder, "junk.ndjson");
        await File.WriteAllTextAsync(file, "{\"id\":\"nope\"}\n");
        var (code, output) = await VerifyAsync(file);
        Assert.Equal(1, code);
        Assert.Contains("line 1 is not an audit row", output);
        Assert.Equal(2, (await VerifyAsync(Path.Combine(_folder, "missing.ndjson"))).Code);
    }
}

public sealed class AuditChainTestsOnSqlite(SqliteApp app) : AuditChainTests(app), IClassFixture<SqliteApp>;

public sealed class AuditChainTestsOnPostgres(PostgresApp app) : AuditChainTests(app), IClassFixture<PostgresApp>;
