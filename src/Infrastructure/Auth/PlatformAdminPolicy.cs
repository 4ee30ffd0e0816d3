namespace Roster.Infrastructure.Auth;

public static class PlatformAdminPolicy
{
    public const string Name = "PlatformAdmin";

    public static IServiceCollection AddPlatformAdminPolicy(this IServiceCollection services) =>
        services.AddAuthorizationBuilder()
            .AddPolicy(Name, policy => policy.RequireAuthenticatedUser().RequireClaim("permissions", AuthOptions.PlatformAdminPermission))
            .Services;
}
