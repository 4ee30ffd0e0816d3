using System.Text.Json;

namespace Roster.Tests.Contracts;

public class SdkVersionTests
{
    [Fact]
    public async Task TheContractSuiteRunsThePinnedOfficialSdks()
    {
        var result = (await NodeContract.RunAsync("sdk-versions.mjs")).EnsureSuccess();
        using var versions = JsonDocument.Parse(result.Stdout);
        Assert.Equal("11.0.0", versions.RootElement.GetProperty("workos").GetString());
        Assert.Equal("8.2.0", versions.RootElement.GetProperty("slack").GetString());
    }
}
