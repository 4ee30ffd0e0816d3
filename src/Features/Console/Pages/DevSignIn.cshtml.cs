using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Roster.Infrastructure.Auth;

namespace Roster.Features.Console.Pages;

/// <summary>
/// Development only (the page has no route elsewhere, see <see cref="ConsoleSetup"/>): signs in as the person typed in,
/// with a token minted by the dev signing key exactly as <c>dev-token</c> mints one, so the API trusts it as it trusts those.
/// </summary>
public sealed class DevSignInModel(SigningKeyHolder keys, AuthOptions auth, ConsoleOptions options) : PageModel
{
    [BindProperty(SupportsGet = true)] public string? ReturnUrl { get; set; }
    [BindProperty] public string? Sub { get; set; }
    [BindProperty] public string? Email { get; set; }
    [BindProperty] public string? Name { get; set; }
    [BindProperty] public bool EmailVerified { get; set; } = true;
    [BindProperty] public bool PlatformAdmin { get; set; }

    public ApiProblem? Problem { get; private set; }

    public void OnGet() => ReturnUrl = SignInModel.LocalOrNull(ReturnUrl);

    public async Task<IActionResult> OnPostAsync()
    {
        if (string.IsNullOrWhiteSpace(Sub) || string.IsNullOrWhiteSpace(Email) || !Email.Contains('@'))
        {
            Problem = new ApiProblem(400, "validation_failed", null, "Give a WorkOS user id and an email address.", null);
            return Page();
        }
        if (keys.DevKey is null)
        {
            Problem = new ApiProblem(400, "validation_failed", null, "No dev signing key: set Auth__DevSigningKey or run in Development.", null);
            return Page();
        }
        var name = string.IsNullOrWhiteSpace(Name) ? null : Name.Trim();
        var token = TokenMinter.Mint(keys.DevKey, auth, new TokenRequest(Sub.Trim(), Email.Trim(), name, EmailVerified, PlatformAdmin,
            TimeSpan.FromMinutes(options.SessionMinutes)));
        await ConsoleSession.SignInAsync(HttpContext,
            ConsoleSession.Principal(ConsoleSession.DevKind, Sub.Trim(), Email.Trim(), name, PlatformAdmin), token, refreshToken: null);
        return Redirect(SignInModel.LocalOrNull(ReturnUrl) ?? "/console");
    }
}
