namespace Roster.Infrastructure.Auth;

/// <summary>
/// A service credential is a machine's token from the trusted issuer (e.g. a WorkOS M2M / client-credentials token): a
/// <c>sub</c> naming the client and <c>permissions</c>, but no <c>email</c> — nobody signs in with it, so it gets no local
/// user. It may call only the endpoints marked with <see cref="AllowServiceCredential{TBuilder}"/>, whose authorization
/// policy then decides by its permissions (403 without the one it needs); anywhere else that needs a token it is refused as
/// a token without an email always was (401: that route takes a person's token), before any handler or user lookup runs.
/// </summary>
public static class ServiceCredentials
{
    /// <summary>Endpoint metadata: a service credential may call this endpoint.</summary>
    public sealed class AllowedMetadata;

    /// <summary>Lets service credentials reach the endpoint (its policy must still name the permission they need).</summary>
    public static TBuilder AllowServiceCredential<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new AllowedMetadata());

    /// <summary>
    /// The endpoint takes a service credential: one marked for it, or one that needs no token at all (health, the OpenAPI
    /// document, signed webhooks), which it reaches as it would with no token.
    /// </summary>
    public static bool IsAllowed(HttpContext http)
    {
        var metadata = http.GetEndpoint()?.Metadata;
        if (metadata is null) return true; // no endpoint: routing answers 404/405 as it does to anyone
        return metadata.GetMetadata<AllowedMetadata>() is not null
               || metadata.GetOrderedMetadata<Microsoft.AspNetCore.Authorization.IAuthorizeData>().Count == 0
               || metadata.GetMetadata<Microsoft.AspNetCore.Authorization.IAllowAnonymous>() is not null;
    }

    /// <summary>A token without an email that carries permissions is a machine's, not a person's with a claim missing.</summary>
    public static bool IsServiceCredential(System.Security.Claims.ClaimsPrincipal user) =>
        string.IsNullOrWhiteSpace(user.FindFirst("email")?.Value) && user.FindAll("permissions").Any();
}
