using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Data;
using Roster.Infrastructure.Http;
using Roster.Infrastructure.Memberships;

namespace Roster.Infrastructure.Auth;

/// <summary>The authenticated person behind a request, linked to their local user row.</summary>
public sealed record Caller(Guid UserId, string WorkosUserId, string Email, string? Name, bool EmailVerified, bool IsPlatformAdmin)
{
    private const string ItemKey = "roster.caller";

    public static ValueTask<Caller?> BindAsync(HttpContext http) =>
        ValueTask.FromResult(http.Items.TryGetValue(ItemKey, out var value) ? value as Caller : null);

    internal static void Attach(HttpContext http, Caller caller) => http.Items[ItemKey] = caller;
}

/// <summary>
/// On every authenticated request, finds the caller's local user by WorkOS id, else links an existing user with
/// the same email, else creates one; memberships that arrived from WorkOS before the user existed get linked.
/// </summary>
public sealed class LocalUserProvisioning(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext http, RosterDb db, TimeProvider clock)
    {
        if (http.User.Identity?.IsAuthenticated == true)
        {
            var claims = http.User;
            var sub = claims.FindFirstValue("sub");
            var email = claims.FindFirstValue("email");
            if (!string.IsNullOrWhiteSpace(sub) && ServiceCredentials.IsServiceCredential(claims))
            {
                // A machine: no local user is made for it; only the endpoints made for it take it (their policy checks its permissions).
                if (ServiceCredentials.IsAllowed(http))
                    await next(http);
                else
                    // Not a token this route takes (it needs a person's: sub and email), as any token without an email is.
                    await Reject(http, StatusCodes.Status401Unauthorized, ErrorCodes.Unauthorized,
                        "This route needs a person's token (sub and email); a service credential (no email) may only call the endpoints made for it, such as GET /api/admin/changes.");
                return;
            }
            if (string.IsNullOrWhiteSpace(sub) || string.IsNullOrWhiteSpace(email))
            {
                await Reject(http, StatusCodes.Status401Unauthorized, ErrorCodes.Unauthorized, "The token must carry sub and email.");
                return;
            }
            var verified = string.Equals(claims.FindFirstValue("email_verified"), "true", StringComparison.OrdinalIgnoreCase);
            var name = claims.FindFirstValue("name");
            var isAdmin = claims.FindAll("permissions").Any(c => c.Value == AuthOptions.PlatformAdminPermission);

            // One connection for the whole request (the lookup here and the handler's statements), not one per statement.
            await db.Database.OpenConnectionAsync(http.RequestAborted);
            try
            {
                var (user, refusal) = await ProvisionAsync(db, clock, sub, User.NormalizeEmail(email), verified, name, http.RequestAborted);
                if (user is null)
                {
                    await (refusal == Refusal.Deleted
                        ? Reject(http, StatusCodes.Status401Unauthorized, ErrorCodes.Unauthorized, "This account was deleted.")
                        : Reject(http, StatusCodes.Status403Forbidden, ErrorCodes.Forbidden, "This email address belongs to another account."));
                    return;
                }
                Caller.Attach(http, new Caller(user.Id, sub, user.Email, user.Name, verified, isAdmin));
                await next(http);
            }
            finally
            {
                await db.Database.CloseConnectionAsync();
            }
            return;
        }
        await next(http);
    }

    private enum Refusal
    {
        None,
        Deleted,
        EmailTaken,
    }

    private static async Task<(User? User, Refusal Refusal)> ProvisionAsync(RosterDb db, TimeProvider clock, string sub, string email, bool verified,
        string? name, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            var now = clock.GetUtcNow().UtcDateTime;
            // One round trip: the user, and whether WorkOS memberships of theirs still wait to be linked (the partial index
            // ix_memberships_unlinked keeps that cheap: it holds only such rows).
            var found = await UserBySub.For(db)(db, sub, ct);
            var user = found?.User;
            if (user is { DeletedAt: not null }) return (null, Refusal.Deleted);
            var linked = found?.Unlinked == true;
            if (user is null)
            {
                user = await db.Users.FirstOrDefaultAsync(u => u.Email == email && u.DeletedAt == null, ct);
                // A row already carrying this sub is this person's: a concurrent first request of theirs committed it
                // between the two lookups. It is treated as found by sub.
                if (user is null || user.WorkosUserId != sub)
                {
                    if (user is { WorkosUserId: not null }) return (null, Refusal.EmailTaken);
                    if (user is null)
                    {
                        user = new User { Id = Guid.CreateVersion7(), Email = email, CreatedAt = now };
                        db.Users.Add(user);
                    }
                    user.WorkosUserId = sub;
                    linked = true;
                }
            }

            if (!linked && user.Email == email && user.EmailVerified == verified && (name is null || user.Name == name)) return (user, Refusal.None);
            if (user.Email != email && await db.Users.AnyAsync(u => u.Email == email && u.Id != user.Id && u.DeletedAt == null, ct))
                return (null, Refusal.EmailTaken);
            user.Email = email;
            user.EmailVerified = verified;
            user.Name = name ?? user.Name;
            user.UpdatedAt = now;
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            try
            {
                // Under the user's lock: a membership event for this person in flight right now links itself or is linked here.
                await db.LockAsync(MirrorLocks.User, sub, ct);
                await db.SaveChangesAsync(ct);
                // Memberships WorkOS told us about before this person first signed in become theirs, in the same commit
                // (and any left unlinked before, whenever this person signs in: linking is idempotent).
                if (linked) await MembershipLinking.LinkAsync(db, user, ct);
                await tx.CommitAsync(ct);
                return (user, Refusal.None);
            }
            catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex) && attempt == 0)
            {
                // Two first requests of the same person raced; the other one created the row.
                await tx.RollbackAsync(ct);
                db.ChangeTracker.Clear();
            }
        }
    }

    private sealed record Found(User User, bool Unlinked);

    private static readonly PerModelQuery<Func<RosterDb, string, CancellationToken, Task<Found?>>> UserBySub = new(() =>
        EF.CompileAsyncQuery((RosterDb db, string sub, CancellationToken ct) =>
            db.Users.Where(u => u.WorkosUserId == sub)
                .Select(u => new Found(u, db.Memberships.Any(m => m.WorkosUserId == sub && m.UserId == null)))
                .FirstOrDefault()));

    private static Task Reject(HttpContext http, int status, string code, string detail)
    {
        http.Response.StatusCode = status;
        return http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = { Status = status, Title = "Not allowed.", Detail = detail, Extensions = { ["code"] = code } },
        }).AsTask();
    }
}
