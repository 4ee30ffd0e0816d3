using System.Threading.RateLimiting;
using FluentValidation;
using Microsoft.AspNetCore.RateLimiting;
using Roster.Features.WorkOsSync;
using Roster.Features.WebhookIngest;
using Roster.Features.Notifications;
using Roster.Cli;
using Roster.Features.Actions;
using Roster.Features.Changes;
using Roster.Infrastructure.Changes;
using Roster.Features.WebhookSubscriptions;
using Roster.Features.AcceptMembership;
using Roster.Features.AddMember;
using Roster.Features.Console;
using Roster.Features.JoinRequests;
using Roster.Features.Members;
using Roster.Features.Organizations;
using Roster.Features.Refusals;
using Roster.Features.Ownership;
using Roster.Features.Preflight;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Roster.Infrastructure.Auth;
using Roster.Infrastructure.Configuration;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Http;
using Roster.Infrastructure.Memberships;
using Roster.Infrastructure.Outbox;
using Roster.Infrastructure.WorkOs;
using Roster.Infrastructure.Http.OpenApi;
using Roster.Infrastructure.Seats;
using Roster.Infrastructure.Telemetry;
using Roster.Migrations;

var isCommand = RosterCommands.IsCommand(args);
// Command arguments are not configuration; only the service's own switches (--urls, …) are.
// The content root is the app's own folder, so appsettings.json (the shipped plan catalog) is found wherever it is started from;
// relative paths in configuration (the SQLite file, the dev key) stay relative to the working folder.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = isCommand ? [] : args, ContentRootPath = AppContext.BaseDirectory });

builder.Services.AddRosterStorage(builder.Configuration);
builder.Services.AddSingleton<MigrationRunner>();
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddRosterAuth(builder.Configuration, builder.Environment);
builder.Services.AddPlatformAdminPolicy();
builder.Services.AddRosterProblemDetails();
builder.Services.AddRosterOpenApi();
builder.Services.AddRosterTelemetry(builder.Configuration);
builder.Services.ConfigureHttpJsonOptions(json =>
{
    json.SerializerOptions.AllowTrailingCommas = false;
    // Numbers are JSON numbers, both ways: the web default also reads "5" as 5, which the OpenAPI document then has to
    // type as integer | string. A number sent as a string is a 400 like any other wrong type.
    json.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict;
});
builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);

builder.Services.AddSettings<SeatOptions>("Seats");
builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SeatOptions>, SeatOptions.PlanCatalogValidator>());
builder.Services.AddSettings<RateLimitOptions>("RateLimits");
builder.Services.AddSingleton<PlanCatalog>();
builder.Services.AddScoped<SeatLedger>();
builder.Services.AddScoped<SeatWarnings>();
builder.Services.AddScoped<SeatGate>();
builder.Services.AddOutbox();
builder.Services.AddWorkOs();
builder.Services.AddNotifications(builder.Configuration);
builder.Services.AddWebhookIngest(builder.Configuration);
builder.Services.AddWorkOsActions(builder.Configuration);
builder.Services.AddWorkOsSync();
builder.Services.AddChangeFeed(builder.Configuration);
builder.Services.AddWebhookSubscriptions(builder.Configuration, builder.Environment);
builder.Services.AddSettings<InvitationOptions>("Invitations");
builder.Services.AddSingleton<Sweeper>();
if (builder.Configuration.GetValue("Invitations:SweepEnabled", true)) builder.Services.AddHostedService(sp => sp.GetRequiredService<Sweeper>());

builder.Services.AddRosterConsole(builder.Configuration, builder.Environment);

builder.Services.AddSingleton<IValidator<CreateOrganizationRequest>, CreateOrganizationValidator>();
builder.Services.AddSingleton<IValidator<ChangePlanRequest>, ChangePlanValidator>();
builder.Services.AddSingleton<IValidator<AddMemberRequest>, AddMemberValidator>();
builder.Services.AddSingleton<IValidator<ApproveRequest>, ApproveRequestValidator>();
builder.Services.AddSingleton<IValidator<UpdateMemberRequest>, UpdateMemberValidator>();
builder.Services.AddSingleton<IValidator<RenameOrganizationRequest>, RenameOrganizationValidator>();

builder.Services.AddRateLimiter(limiter =>
{
    // Exact-email search must not become a way to enumerate who uses the product.
    limiter.AddPolicy(MembersEndpoints.SearchRateLimit, http => RateLimitPartition.GetFixedWindowLimiter(
        http.User.FindFirst("sub")?.Value ?? http.Connection.RemoteIpAddress?.ToString() ?? "anonymous",
        _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = http.RequestServices.GetRequiredService<RateLimitOptions>().MemberSearchPerMinute,
            Window = TimeSpan.FromMinutes(1),
        }));
    limiter.OnRejected = async (context, ct) =>
    {
        context.HttpContext.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        context.HttpContext.Response.Headers.RetryAfter = "60";
        await context.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context.HttpContext,
            ProblemDetails = { Status = 429, Title = "Too many requests.", Detail = "Too many searches; try again in a minute." },
        });
    };
});

var app = builder.Build();

// A wrong setting stops the service (and every command) here, before migrations, with a message naming the key.
// (The host would validate the same when it starts; this runs first so that nothing touches the database before.)
try
{
    Settings.ValidateNow(app.Services);
}
catch (Exception ex) when (Settings.DescribeError(ex) is { } message)
{
    await Console.Error.WriteLineAsync(message);
    if (isCommand) return 1;
    throw;
}

if (isCommand)
    return await RosterCommands.RunAsync(app.Services, args, Console.Out, Console.Error);

// The Roster meter's instruments exist from the start, so the outbox and sync gauges are there before the first webhook.
_ = app.Services.GetRequiredService<RosterMetrics>();

if (app.Services.GetRequiredService<StorageOptions>().MigrateOnStartup)
    await app.Services.GetRequiredService<MigrationRunner>().MigrateAsync();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseAuthentication();
app.UseMiddleware<LocalUserProvisioning>();
app.UseAuthorization();
app.UseRateLimiter();
app.UseKnownRequestCharsets();
app.UseValidUtf8JsonBodies();
app.UseIdempotencyKeyBuffering();

app.MapRosterOpenApi();
app.MapApiReferenceWhenEnabled();
app.MapHealth();
app.MapWorkOsWebhook();
app.MapWorkOsActions();
// Everything under /api: a mutating request there honours Idempotency-Key (a test holds every /api route to it).
var api = app.MapGroup("").WithIdempotencyKeys();
api.MapOrganizations();
api.MapMyOrganizations();
api.MapAddMember();
api.MapMembers();
api.MapAcceptMembership();
api.MapJoinRequests();
api.MapPreflight();
api.MapOwnershipTransfer();
api.MapRoles();
api.MapRefusals();
api.MapChanges();
api.MapAuditExport();
api.MapGroup("/api/admin")
    .RequireAuthorization(PlatformAdminPolicy.Name)
    .ProducesProblem(StatusCodes.Status401Unauthorized)
    .ProducesProblem(StatusCodes.Status403Forbidden)
    .MapSeatAudit()
    .MapNotificationAdmin()
    .MapWebhookSubscriptions();
// The console: HTML pages at /console (and / redirects there), calling the API above for everything they show or do.
app.MapRosterConsole();
app.MapPrometheusWhenEnabled();

await app.RunAsync();
return 0;

public partial class Program;
