using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Roster.Infrastructure.Auth;
using Roster.Infrastructure.Data;

namespace Roster.Bench;

/// <summary>
/// The read path's floor (benchmark 2), outside the product: a minimal ASP.NET Core app with the service's own
/// authentication setup — the same Kestrel, JWT bearer validation (<see cref="AuthSetup.AddRosterAuth"/>, same key and
/// settings), local-user middleware (one user lookup by WorkOS id, on the same database through the same storage
/// registration) and authorization — and one endpoint that returns a constant. The bench starts it as a child process
/// (<c>Roster.Bench.dll read-floor --urls …</c>) with the service's environment, so the difference between it and a real
/// read is that endpoint's own work.
/// </summary>
public static class ReadFloorApp
{
    public const string Command = "read-floor";

    public static async Task<int> RunAsync(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddRosterStorage(builder.Configuration);
        builder.Services.AddRosterAuth(builder.Configuration, builder.Environment);
        var app = builder.Build();
        app.UseAuthentication();
        app.UseMiddleware<LocalUserProvisioning>();
        app.UseAuthorization();
        app.MapGet("/health/ready", () => Results.Ok());
        app.MapGet("/floor", () => Results.Ok(new { status = "ok" })).RequireAuthorization();
        await app.RunAsync();
        return 0;
    }
}
