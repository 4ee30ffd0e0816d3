using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Roster.Infrastructure.Auth;

namespace Roster.Features.Console.Pages;

/// <summary>
/// Where WorkOS sends the browser back (the AuthKit <c>redirect_uri</c>): the state must be the one this browser was given,
/// then the code is exchanged for the person and their tokens, and the console session starts.
/// </summary>
public sealed class CallbackModel(IDataProtectionProvider protection, IServiceProvider services, ILogger<CallbackModel> logger) : PageModel
{
    public const string Path = "/console/auth/callback";

    public async Task<IActionResult> OnGetAsync(string? code, string? state, string? error, CancellationToken ct)
    {
        var kept = Request.Cookies[SignInModel.StateCookie];
        Response.Cookies.Delete(SignInModel.StateCookie, new CookieOptions { Path = "/console", Secure = true, HttpOnly = true, SameSite = SameSiteMode.Lax });
        if (error is not null) return Failed("denied");
        var authKit = services.GetService<AuthKit>();
        if (authKit is null || string.IsNullOrEmpty(code)) return Failed("workos");
        if (Unprotect(kept) is not { } expected || state is null
            || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(expected.State), Encoding.UTF8.GetBytes(state)))
            return Failed("state");

        AuthKitSession session;
        try
        {
            session = await authKit.ExchangeCodeAsync(code, ct);
        }
        catch (AuthKitException ex)
        {
            logger.LogWarning("AuthKit sign-in failed: {Reason}", ex.Message);
            return Failed("workos");
        }
        // Platform admin is the token's permission (the API reads the same claim from the same token on every call).
        var admin = AuthKit.PayloadOf(session.AccessToken) is { } claims && claims.TryGetProperty("permissions", out var permissions)
            && permissions.ValueKind == System.Text.Json.JsonValueKind.Array
            && permissions.EnumerateArray().Any(p => p.ValueKind == System.Text.Json.JsonValueKind.String && p.GetString() == AuthOptions.PlatformAdminPermission);
        await ConsoleSession.SignInAsync(HttpContext,
            ConsoleSession.Principal(ConsoleSession.AuthKitKind, session.UserId, session.Email, session.Name, admin),
            session.AccessToken, session.RefreshToken);
        return Redirect(SignInModel.LocalOrNull(expected.ReturnUrl) ?? "/console");
    }

    private (string State, string ReturnUrl)? Unprotect(string? kept)
    {
        if (string.IsNullOrEmpty(kept)) return null;
        try
        {
            var parts = protection.CreateProtector(SignInModel.StatePurpose).Unprotect(kept).Split('\n', 2);
            return parts.Length == 2 ? (parts[0], parts[1]) : null;
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    private RedirectResult Failed(string reason) => Redirect($"{ConsoleSetup.SignInPath}?failed={reason}");
}
