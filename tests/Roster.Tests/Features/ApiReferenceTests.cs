using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Http;
using Roster.Tests.Support;

namespace Roster.Tests.Features;

/// <summary>A host with the API reference page switched on (as Development has it by default).</summary>
public sealed class ReferenceApp() : RosterApp(StorageProvider.Sqlite)
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?> { ["OpenApi:ReferenceEnabled"] = "true" };
}

/// <summary>The API reference page (Scalar) at /docs, over /openapi/v1.json.</summary>
public sealed class ApiReferenceTests(ReferenceApp app, SqliteApp plain) : IClassFixture<ReferenceApp>, IClassFixture<SqliteApp>
{
    [Fact]
    public async Task DocsServesTheReferencePageOverTheOpenApiDocument()
    {
        var client = app.ClientFor(null);
        using var redirect = await client.GetAsync("/docs");
        Assert.Equal(HttpStatusCode.Found, redirect.StatusCode);
        Assert.Equal("docs/", redirect.Headers.Location?.OriginalString);

        using var page = await client.GetAsync("/docs/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<title>Roster API</title>", html, StringComparison.Ordinal);
        // The page loads the document the service serves, resolved against the site root.
        Assert.Contains("\"url\":\"openapi/v1.json\"", html, StringComparison.Ordinal);
        Assert.Contains("\"telemetry\":false", html, StringComparison.Ordinal);

        // Its scripts come from the service itself (no CDN), and so does the document.
        foreach (var script in new[] { "scalar.js", "scalar.aspnetcore.js" })
        {
            Assert.Contains($"src=\"{script}\"", html, StringComparison.Ordinal);
            using var js = await client.GetAsync($"/docs/{script}");
            Assert.Equal(HttpStatusCode.OK, js.StatusCode);
            Assert.Equal("text/javascript", js.Content.Headers.ContentType?.MediaType);
            Assert.True((await js.Content.ReadAsByteArrayAsync()).Length > 1000, $"{script} is empty");
        }
        using var document = await client.GetAsync("/openapi/v1.json");
        await document.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task DocsIsNotMappedWhenTheReferenceIsOff()
    {
        // The test hosts run as "Testing", where the reference is off unless switched on.
        using var response = await plain.ClientFor(null).GetAsync("/docs/");
        await response.ShouldBeProblem(HttpStatusCode.NotFound, "not_found");
    }

    [Theory]
    [InlineData("Development", null, true)]
    [InlineData("Production", null, false)]
    [InlineData("Testing", null, false)]
    [InlineData("Development", "false", false)]
    [InlineData("Production", "true", true)]
    public void TheReferenceIsOnByDefaultInDevelopmentAndSwitchable(string environment, string? setting, bool enabled)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(setting is null ? [] : [new KeyValuePair<string, string?>(OpenApiDocument.ReferenceSetting, setting)])
            .Build();
        Assert.Equal(enabled, OpenApiDocument.IsReferenceEnabled(configuration, new Environment(environment)));
    }

    private sealed class Environment(string name) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;
        public string ApplicationName { get; set; } = "Roster";
        public string ContentRootPath { get; set; } = "/";
        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
