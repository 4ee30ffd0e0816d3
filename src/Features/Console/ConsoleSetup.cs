using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc.ApplicationModels;
using Microsoft.AspNetCore.Mvc;
using Roster.Infrastructure.Configuration;

namespace Roster.Features.Console;

/// <summary>
/// The console: server-rendered Razor Pages under <c>/console</c> (no Node build, no client framework), signed in with
/// WorkOS AuthKit or, in Development only, with a form that mints a token with the dev key. Every page reads and acts
/// through <see cref="ConsoleApi"/>, i.e. through the service's own API.
/// </summary>
public static class ConsoleSetup
{
    public const string PolicyName = "roster-console";
    public const string SignInPath = "/console/sign-in";

    /// <summary>The Razor page of the Development sign-in form; it gets no route outside Development.</summary>
    public const string DevSignInPage = "/DevSignIn";

    public static IServiceCollection AddRosterConsole(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        services.AddSettings<ConsoleOptions>("Console");
        var console = configuration.GetSection("Console").Get<ConsoleOptions>() ?? new ConsoleOptions();

        services.AddRazorPages(pages =>
        {
            pages.RootDirectory = "/Features/Console/Pages";
            pages.Conventions.AuthorizeFolder("/", PolicyName);
            pages.Conventions.AllowAnonymousToPage("/SignIn");
            pages.Conventions.AllowAnonymousToPage("/Callback");
            pages.Conventions.AllowAnonymousToPage(DevSignInPage);
            // Never mapped outside Development: no route exists, so the form cannot be reached, not merely refused.
            if (!environment.IsDevelopment()) pages.Conventions.Add(new NoRouteFor(DevSignInPage));
        });

        services.AddAuthentication().AddCookie(ConsoleSession.Scheme, cookie =>
        {
            cookie.Cookie.Name = ConsoleSession.CookieName;
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SecurePolicy = CookieSecurePolicy.Always;
            // Lax, not Strict: a "Manage team" link in Slack is a cross-site navigation and must arrive signed in.
            cookie.Cookie.SameSite = SameSiteMode.Lax;
            // Sent to the console only: the API keeps bearer authentication alone.
            cookie.Cookie.Path = "/console";
            cookie.LoginPath = SignInPath;
            cookie.ReturnUrlParameter = "returnUrl";
            cookie.ExpireTimeSpan = TimeSpan.FromMinutes(console.SessionMinutes);
            cookie.SlidingExpiration = true;
        });
        services.AddAuthorizationBuilder().AddPolicy(PolicyName, policy => policy
            .AddAuthenticationSchemes(ConsoleSession.Scheme)
            .RequireAuthenticatedUser());

        services.AddAntiforgery(antiforgery =>
        {
            antiforgery.Cookie.Name = "roster_console_csrf";
            // Secure on HTTPS; antiforgery refuses to run at all over plain HTTP with Always, and `dotnet run` serves http://localhost.
            antiforgery.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            antiforgery.Cookie.Path = "/console";
            antiforgery.FormFieldName = "__csrf";
        });
        services.Configure<CookieTempDataProviderOptions>(flash =>
        {
            flash.Cookie.Name = "roster_console_flash";
            flash.Cookie.SecurePolicy = CookieSecurePolicy.Always;
            flash.Cookie.Path = "/console";
            flash.Cookie.SameSite = SameSiteMode.Lax;
        });

        services.AddHttpContextAccessor();
        services.AddHttpClient(ConsoleApi.HttpClientName).ConfigurePrimaryHttpMessageHandler(() =>
            new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });
        services.AddScoped<ConsoleApi>();

        var clientId = console.WorkOsClientId;
        var apiKey = configuration["WorkOS:ApiKey"];
        if (AuthKit.IsConfigured(clientId, apiKey))
        {
            var baseUrl = configuration["WorkOS:BaseUrl"] is { Length: > 0 } configured ? configured : "https://api.workos.com/";
            services.AddHttpClient(AuthKit.HttpClientName, client =>
            {
                client.BaseAddress = new Uri(baseUrl.TrimEnd('/') + "/");
                client.Timeout = TimeSpan.FromSeconds(15);
            });
            services.AddSingleton(sp => new AuthKit(sp.GetRequiredService<IHttpClientFactory>().CreateClient(AuthKit.HttpClientName), clientId!, apiKey!));
        }
        return services;
    }

    public static WebApplication MapRosterConsole(this WebApplication app)
    {
        app.MapGet("/", () => TypedResults.Redirect("/console")).ExcludeFromDescription();
        app.MapRazorPages();
        return app;
    }

    /// <summary>Removes every route of one page, so it is not an endpoint at all.</summary>
    private sealed class NoRouteFor(string page) : IPageRouteModelConvention
    {
        public void Apply(PageRouteModel model)
        {
            if (string.Equals(model.ViewEnginePath, page, StringComparison.Ordinal)) model.Selectors.Clear();
        }
    }
}
