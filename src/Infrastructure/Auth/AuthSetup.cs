using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using Roster.Infrastructure.Configuration;

namespace Roster.Infrastructure.Auth;

public static class AuthSetup
{
    public static IServiceCollection AddRosterAuth(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        // Read here as well because the JWT handler is configured from it; wrong values are reported at start
        // (AddSettings validates them, naming the key) and only fall back to defaults here.
        services.AddSettings<AuthOptions>("Auth");
        AuthOptions options;
        try { options = configuration.GetSection("Auth").Get<AuthOptions>() ?? new AuthOptions(); }
        catch (InvalidOperationException) { options = new AuthOptions(); }
        var devKey = DevSigningKey.Resolve(options, environment);
        services.AddSingleton(new SigningKeyHolder(devKey));

        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme)
            .AddJwtBearer(jwt =>
            {
                jwt.MapInboundClaims = false;
                jwt.RequireHttpsMetadata = false;
                jwt.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = options.Issuer,
                    ValidAudience = options.Audience,
                    ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
                    IssuerSigningKeys = devKey is null ? [] : [devKey],
                    NameClaimType = "sub",
                    ClockSkew = TimeSpan.FromSeconds(30),
                    RequireExpirationTime = true,
                    RequireSignedTokens = true,
                };
                if (!string.IsNullOrWhiteSpace(options.JwksUrl))
                {
                    jwt.ConfigurationManager = new ConfigurationManager<OpenIdConnectConfiguration>(
                        options.JwksUrl, new JwksRetriever(options.Issuer),
                        new HttpDocumentRetriever { RequireHttps = options.JwksUrl.StartsWith("https", StringComparison.OrdinalIgnoreCase) });
                }
            });
        services.AddAuthorization();
        return services;
    }
}

public sealed record SigningKeyHolder(SecurityKey? DevKey);

/// <summary>Reads a bare JWKS document (what WorkOS publishes) as the signing keys of an OpenID configuration.</summary>
internal sealed class JwksRetriever(string issuer) : IConfigurationRetriever<OpenIdConnectConfiguration>
{
    public async Task<OpenIdConnectConfiguration> GetConfigurationAsync(string address, IDocumentRetriever retriever, CancellationToken cancel)
    {
        var json = await retriever.GetDocumentAsync(address, cancel);
        var keys = new JsonWebKeySet(json);
        var configuration = new OpenIdConnectConfiguration { Issuer = issuer, JsonWebKeySet = keys };
        foreach (var key in keys.GetSigningKeys()) configuration.SigningKeys.Add(key);
        return configuration;
    }
}
