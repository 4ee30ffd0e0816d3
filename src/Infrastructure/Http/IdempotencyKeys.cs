using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Roster.Infrastructure.Auth;
using Roster.Infrastructure.Data;

namespace Roster.Infrastructure.Http;

/// <summary>Marks the endpoints whose mutating requests honour <c>Idempotency-Key</c> (every /api route).</summary>
public sealed class IdempotencyKeysMetadata
{
    public static readonly IdempotencyKeysMetadata Instance = new();
}

/// <summary>
/// Idempotency keys with Stripe's semantics on every mutating /api request. A POST/PUT/PATCH/DELETE carrying
/// <c>Idempotency-Key</c> is remembered per caller for 24 hours with a fingerprint of the request (method, path, query,
/// body bytes) and, once answered, its answer (status, body, Location):
/// <list type="bullet">
/// <item>the same caller, key and request again → the first answer replayed with <c>Idempotent-Replayed: true</c>; nothing runs;</item>
/// <item>the same key with another request → 422 <c>idempotency_key_reused</c>;</item>
/// <item>the same key while the first is still running → 409 <c>idempotency_key_in_use</c>.</item>
/// </list>
/// Like Stripe, an answer is kept only once the endpoint ran: a 400 (the request was malformed or invalid) and a 5xx
/// (storage failed; nothing was changed) release the key, so a corrected or retried request runs. A request whose
/// server died mid-way holds its key for <see cref="AbandonedAfter"/>, then the key can be used again. Without the header
/// nothing changes. Expired keys are swept (<see cref="SweepAsync"/>).
/// </summary>
public sealed class IdempotencyFilter(TimeProvider clock, ILogger<IdempotencyFilter> logger) : IEndpointFilter
{
    public const string Header = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";
    public const int MaxKeyLength = 255;
    public static readonly TimeSpan Retention = TimeSpan.FromHours(24);
    public static readonly TimeSpan AbandonedAfter = TimeSpan.FromMinutes(5);

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (!IsMutating(http.Request.Method) || !http.Request.Headers.TryGetValue(Header, out var values)) return await next(context);
        if (values.Count != 1 || values[0] is not { Length: > 0 and <= MaxKeyLength } key || key.Any(c => c is < '!' or > '~'))
            return Problems.Validation(Header, $"Idempotency-Key is one value of 1 to {MaxKeyLength} visible ASCII characters.");
        if (await Caller.BindAsync(http) is not { } caller) return await next(context);

        var db = http.RequestServices.GetRequiredService<RosterDb>();
        var ct = http.RequestAborted;
        var fingerprint = await FingerprintAsync(http.Request, ct);
        var now = clock.GetUtcNow().UtcDateTime;

        if (await ClaimAsync(db, caller.UserId, key, fingerprint, now, ct) is { } answer) return answer;

        object? result;
        try
        {
            result = await next(context);
        }
        catch
        {
            await ReleaseAsync(db, caller.UserId, key);
            throw;
        }
        if (result is not IResult executable)
        {
            await ReleaseAsync(db, caller.UserId, key);
            return result;
        }

        var captured = await CaptureAsync(http, executable);
        if (captured.Status is StatusCodes.Status400BadRequest or >= 500)
        {
            await ReleaseAsync(db, caller.UserId, key);
        }
        else
        {
            var completedAt = clock.GetUtcNow().UtcDateTime;
            await db.IdempotencyKeys.Where(r => r.UserId == caller.UserId && r.Key == key && r.CompletedAt == null)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(r => r.StatusCode, captured.Status)
                    .SetProperty(r => r.ContentType, captured.ContentType)
                    .SetProperty(r => r.Location, captured.Location)
                    .SetProperty(r => r.Body, captured.Body)
                    .SetProperty(r => r.CompletedAt, completedAt), CancellationToken.None);
        }
        return new StoredAnswer(captured, Replayed: false);
    }

    /// <summary>Takes the key for this request, or answers for it: the replay, 422 or 409.</summary>
    private static async Task<IResult?> ClaimAsync(RosterDb db, Guid userId, string key, string fingerprint, DateTime now, CancellationToken ct)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var record = new IdempotencyRecord
            {
                UserId = userId, Key = key, Fingerprint = fingerprint, CreatedAt = now, ExpiresAt = now.Add(Retention),
            };
            db.IdempotencyKeys.Add(record);
            try
            {
                await db.SaveChangesAsync(ct);
                return null;
            }
            catch (DbUpdateException ex) when (ex.IsUniqueViolation())
            {
                db.ChangeTracker.Clear();
            }

            var existing = await db.IdempotencyKeys.AsNoTracking().FirstOrDefaultAsync(r => r.UserId == userId && r.Key == key, ct);
            if (existing is null) continue; // released meanwhile: try again
            if (existing.ExpiresAt <= now)
            {
                // Past its 24 hours: the key is new again.
                await db.IdempotencyKeys.Where(r => r.UserId == userId && r.Key == key && r.ExpiresAt <= now).ExecuteDeleteAsync(ct);
                continue;
            }
            if (existing.Fingerprint != fingerprint)
                return Problems.Of(StatusCodes.Status422UnprocessableEntity, ErrorCodes.IdempotencyKeyReused, "Idempotency key reused.",
                    "This Idempotency-Key was already used with a different request; use a new key for a new request.");
            if (existing.CompletedAt is null)
            {
                if (existing.CreatedAt > now - AbandonedAfter)
                    return Problems.Conflict(ErrorCodes.IdempotencyKeyInUse,
                        "A request with this Idempotency-Key is still being processed; retry once it has finished.");
                // Its request never finished (the server went away): take the key over.
                var taken = await db.IdempotencyKeys
                    .Where(r => r.UserId == userId && r.Key == key && r.CompletedAt == null && r.CreatedAt == existing.CreatedAt)
                    .ExecuteUpdateAsync(s => s.SetProperty(r => r.CreatedAt, now).SetProperty(r => r.ExpiresAt, now.Add(Retention)), ct);
                if (taken == 1) return null;
                continue;
            }
            return new StoredAnswer(new Captured(existing.StatusCode!.Value, existing.ContentType, existing.Location, existing.Body), Replayed: true);
        }
        return Problems.Conflict(ErrorCodes.IdempotencyKeyInUse, "This Idempotency-Key is contended; retry shortly.");
    }

    private async Task ReleaseAsync(RosterDb db, Guid userId, string key)
    {
        try
        {
            await db.IdempotencyKeys.Where(r => r.UserId == userId && r.Key == key && r.CompletedAt == null).ExecuteDeleteAsync(CancellationToken.None);
        }
        catch (Exception ex) when (DbErrors.IsUnavailable(ex))
        {
            // The key stays claimed until AbandonedAfter; a retry then runs the request again.
            logger.LogWarning(ex, "Could not release an idempotency key");
        }
    }

    public static bool IsMutating(string method) =>
        HttpMethods.IsPost(method) || HttpMethods.IsPut(method) || HttpMethods.IsPatch(method) || HttpMethods.IsDelete(method);

    /// <summary>SHA-256 of method, path, query and the body's bytes (buffered by <see cref="IdempotencyKeys.UseIdempotencyKeyBuffering"/>).</summary>
    private static async Task<string> FingerprintAsync(HttpRequest request, CancellationToken ct)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{request.Method}\n{request.Path}\n{request.QueryString}\n"));
        if (request.Body.CanSeek)
        {
            request.Body.Position = 0;
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = await request.Body.ReadAsync(buffer, ct)) > 0) hash.AppendData(buffer, 0, read);
            request.Body.Position = 0;
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Runs the endpoint's result into memory, to keep it and to send it (the same bytes either way).</summary>
    private static async Task<Captured> CaptureAsync(HttpContext http, IResult result)
    {
        var original = http.Features.Get<IHttpResponseBodyFeature>()!;
        using var buffer = new MemoryStream();
        http.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(buffer));
        try
        {
            await result.ExecuteAsync(http);
        }
        finally
        {
            http.Features.Set(original);
        }
        var body = buffer.Length == 0 ? null : Encoding.UTF8.GetString(buffer.ToArray());
        return new Captured(http.Response.StatusCode, http.Response.ContentType, http.Response.Headers.Location.ToString() is { Length: > 0 } l ? l : null, body);
    }

    private sealed record Captured(int Status, string? ContentType, string? Location, string? Body);

    /// <summary>An answer as it was first given; a replay says so in <c>Idempotent-Replayed: true</c>.</summary>
    private sealed record StoredAnswer(Captured Answer, bool Replayed) : IResult
    {
        public async Task ExecuteAsync(HttpContext http)
        {
            http.Response.StatusCode = Answer.Status;
            if (Answer.Location is not null) http.Response.Headers.Location = Answer.Location;
            if (Replayed) http.Response.Headers[ReplayedHeader] = "true";
            if (Answer.Body is null) return;
            http.Response.ContentType = Answer.ContentType;
            await http.Response.WriteAsync(Answer.Body, Encoding.UTF8, http.RequestAborted);
        }
    }

    /// <summary>Deletes keys past their 24 hours (a batch at a time).</summary>
    public static async Task<int> SweepAsync(RosterDb db, DateTime now, CancellationToken ct)
    {
        var total = 0;
        for (var round = 0; round < 20; round++)
        {
            var expired = await db.IdempotencyKeys.AsNoTracking().Where(r => r.ExpiresAt <= now).OrderBy(r => r.ExpiresAt).Take(500)
                .Select(r => new { r.UserId, r.Key }).ToListAsync(ct);
            if (expired.Count == 0) break;
            foreach (var r in expired)
                total += await db.IdempotencyKeys.Where(x => x.UserId == r.UserId && x.Key == r.Key && x.ExpiresAt <= now).ExecuteDeleteAsync(ct);
            if (expired.Count < 500) break;
        }
        return total;
    }
}

public static class IdempotencyKeys
{
    /// <summary>
    /// Buffers the body of a mutating request that carries an Idempotency-Key, so the filter can fingerprint the bytes
    /// the endpoint already read. Requests without the header are untouched.
    /// </summary>
    public static IApplicationBuilder UseIdempotencyKeyBuffering(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        if (IdempotencyFilter.IsMutating(http.Request.Method) && http.Request.Headers.ContainsKey(IdempotencyFilter.Header))
            http.Request.EnableBuffering();
        await next(http);
    });

    /// <summary>Every mutating route mapped on this builder honours Idempotency-Key.</summary>
    public static TBuilder WithIdempotencyKeys<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.AddEndpointFilter<TBuilder, IdempotencyFilter>();
        builder.WithMetadata(IdempotencyKeysMetadata.Instance);
        return builder;
    }
}
