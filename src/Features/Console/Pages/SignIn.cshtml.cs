using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Roster.Features.Console.Pages;

/// <summary>The sign-in page, and the start of the AuthKit authorization-code flow.</summary>
public sealed class SignInModel(IWebHostEnvironment environment, ConsoleOptions options, IDataProtectionProvider protection,
    IServiceProvider services) : PageModel
{
    public const string StateCookie = "roster_console_state";
    public const string StatePurpose = "Roster.Console.AuthKitState";

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    [BindProperty(SupportsGet = true)]
    public bool Expired { get; set; }

    [BindProperty(SupportsGet = true)]
    public bool SignedOut { get; set; }

    /// <summary>Why a sign-in failed, as one of a few fixed reasons (never text from the query, so nothing is reflected).</summary>
    [BindProperty(SupportsGet = true)]
    public string? Failed { get; set; }

    public bool AuthKitConfigured => services.GetService<AuthKit>() is not null;
    public bool IsDevelopment => environment.IsDevelopment();

    public bool NoticeIsProblem => Failed is not null || Expired;

    public string? Notice => Failed switch
    {
        "state" => "The sign-in could not be completed: it was started in another browser or took too long. Try again.",
        "workos" => "WorkOS did not complete the sign-in. Try again.",
        "denied" => "The sign-in was cancelled.",
        not null => "The sign-in failed. Try again.",
        null when Expired => "Your session has ended. Sign in again.",
        null when SignedOut => "You are signed out.",
        _ => null,
    };

    public void OnGet() => ReturnUrl = LocalOrNull(ReturnUrl);

    public IActionResult OnPostAuthKit()
    {
        var authKit = services.GetService<AuthKit>();
        if (authKit is null) return RedirectToPage();
        // state ties the callback to this browser: a random value kept (protected) in a short-lived cookie and sent to WorkOS.
        var state = Base64Url(RandomNumberGenerator.GetBytes(32));
        var protector = protection.CreateProtector(StatePurpose);
        Response.Cookies.Append(StateCookie, protector.Protect($"{state}\n{LocalOrNull(ReturnUrl) ?? "/console"}"), new CookieOptions
        {
            HttpOnly = true, Secure = true, SameSite = SameSiteMode.Lax, Path = "/console", MaxAge = TimeSpan.FromMinutes(10), IsEssential = true,
        });
        return Redirect(authKit.AuthorizationUrl(RedirectUri(Request, options), state));
    }

    /// <summary>Console__PublicUrl + the callback path, else this request's own address.</summary>
    public static string RedirectUri(HttpRequest request, ConsoleOptions options) =>
        (string.IsNullOrWhiteSpace(options.PublicUrl) ? $"{request.Scheme}://{request.Host}" : options.PublicUrl.TrimEnd('/')) + CallbackModel.Path;

    /// <summary>Only a path of this console is a place to go back to (never another site).</summary>
    public static string? LocalOrNull(string? url) =>
        url is { Length: > 1 } && url.StartsWith("/console", StringComparison.Ordinal) && !url.StartsWith("//", StringComparison.Ordinal)
        && !url.Contains('\\') ? url : null;

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
