using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Roster.Features.Console.Pages;

/// <summary>Ends the console session (a POST with the antiforgery token; a GET only goes back to the console).</summary>
public sealed class SignOutModel : PageModel
{
    public IActionResult OnGet() => Redirect("/console");

    public async Task<IActionResult> OnPostAsync()
    {
        await HttpContext.SignOutAsync(ConsoleSession.Scheme);
        return Redirect($"{ConsoleSetup.SignInPath}?signedOut=true");
    }
}
