using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Roster.Features.Organizations;

namespace Roster.Features.Console.Pages;

/// <summary>
/// What every signed-in console page shares: the API client, the message of the last action (after its redirect), the
/// problems to show next to the action that failed, and the end of a session that can no longer call the API.
/// </summary>
public abstract class ConsolePageModel : PageModel
{
    protected ConsoleApi Api => HttpContext.RequestServices.GetRequiredService<ConsoleApi>();

    /// <summary>What the last action did, shown once after the redirect that follows it.</summary>
    [TempData(Key = "flash")]
    public string? Flash { get; set; }

    /// <summary>Problems of a failed action, keyed by the form that sent it (each page renders them beside that form).</summary>
    public Dictionary<string, ApiProblem> Problems { get; } = new(StringComparer.Ordinal);

    /// <summary>A problem loading the page's own data (e.g. 404 for an organization the caller cannot see).</summary>
    public ApiProblem? LoadProblem { get; protected set; }

    public string SignedInAs => ConsoleSession.DisplayName(User);
    public bool IsPlatformAdmin => ConsoleSession.IsPlatformAdmin(User);

    public ApiProblem? ProblemFor(string form) => Problems.GetValueOrDefault(form);

    /// <summary>After a successful action: say what happened and show the page afresh (POST, redirect, GET).</summary>
    protected IActionResult Done(string message, string? url = null)
    {
        Flash = message;
        return Redirect(url ?? Request.Path);
    }

    /// <summary>After a refused action: the page again, with the API's problem beside the form that failed.</summary>
    protected async Task<IActionResult> FailedAsync(string form, ApiProblem problem)
    {
        Problems[form] = problem;
        Response.StatusCode = StatusCodes.Status200OK;
        await LoadAsync();
        return Page();
    }

    /// <summary>Reads what the page shows; every GET and every failed action calls it.</summary>
    protected abstract Task LoadAsync();

    public virtual async Task<IActionResult> OnGetAsync()
    {
        await LoadAsync();
        return Page();
    }

    public override async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        var executed = await next();
        if (executed.Exception is ConsoleSessionEndedException && !executed.ExceptionHandled)
        {
            executed.ExceptionHandled = true;
            await HttpContext.SignOutAsync(ConsoleSession.Scheme);
            var back = Request.Method == HttpMethods.Get ? Request.Path + Request.QueryString : (string)Request.Path;
            executed.Result = Redirect($"{ConsoleSetup.SignInPath}?expired=true&returnUrl={Uri.EscapeDataString(back)}");
        }
    }
}

/// <summary>A page about one organization: its name, the caller's role in it, and the join-request badge of the tabs.</summary>
public abstract class OrganizationPageModel : ConsolePageModel
{
    [FromRoute]
    public string OrgId { get; set; } = "";

    public OrganizationDetailView? Organization { get; private set; }

    /// <summary>Pending join requests (owners and admins): the count badge of the tabs; null when the caller cannot see them.</summary>
    public int? PendingRequests { get; private set; }
    public bool PendingRequestsMore { get; private set; }

    public bool IsOwnerOrAdmin => IsPlatformAdmin || Organization?.Role is "owner" or "admin";
    public bool IsOwner => IsPlatformAdmin || Organization?.Role == "owner";

    protected string ApiOrg => $"/api/organizations/{Uri.EscapeDataString(OrgId)}";

    /// <summary>Reads the organization and the badge; false (with <see cref="ConsolePageModel.LoadProblem"/> set) when it cannot be seen.</summary>
    protected async Task<bool> LoadOrganizationAsync()
    {
        var org = await Api.GetAsync<OrganizationDetailView>(ApiOrg);
        if (!org.Ok)
        {
            LoadProblem = org.Problem;
            return false;
        }
        Organization = org.Value;
        if (IsOwnerOrAdmin)
        {
            var requests = await Api.GetAsync<List<System.Text.Json.JsonElement>>($"{ApiOrg}/requests?limit=99");
            if (requests.Ok)
            {
                PendingRequests = requests.Value!.Count;
                PendingRequestsMore = requests.NextAfter is not null;
            }
        }
        return true;
    }
}
