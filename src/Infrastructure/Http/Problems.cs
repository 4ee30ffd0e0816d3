using Microsoft.AspNetCore.Http.HttpResults;

namespace Roster.Infrastructure.Http;

/// <summary>Every non-2xx answer is an RFC 9457 problem carrying a machine-readable <c>code</c>.</summary>
public static class Problems
{
    public static ProblemHttpResult Of(int status, string code, string title, string? detail = null) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title,
            extensions: new Dictionary<string, object?> { ["code"] = code });

    public static ProblemHttpResult Validation(IDictionary<string, string[]> errors, string? detail = null) =>
        TypedResults.Problem(new HttpValidationProblemDetails(errors)
        {
            Status = StatusCodes.Status400BadRequest,
            Title = "The request is invalid.",
            Detail = detail,
            Extensions = { ["code"] = ErrorCodes.ValidationFailed },
        });

    public static ProblemHttpResult Validation(string field, string message) =>
        Validation(new Dictionary<string, string[]> { [field] = [message] });

    public static ProblemHttpResult NotFound(string detail = "No such resource is visible to you.") =>
        Of(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "Not found.", detail);

    public static ProblemHttpResult Forbidden(string detail) =>
        Of(StatusCodes.Status403Forbidden, ErrorCodes.Forbidden, "Forbidden.", detail);

    public static ProblemHttpResult Conflict(string code, string detail) =>
        Of(StatusCodes.Status409Conflict, code, "Conflict.", detail);

    /// <summary>The code a bare status gets when nothing more specific was said.</summary>
    public static string DefaultCode(int status) => status switch
    {
        400 => ErrorCodes.ValidationFailed,
        401 => ErrorCodes.Unauthorized,
        403 => ErrorCodes.Forbidden,
        404 => ErrorCodes.NotFound,
        405 => ErrorCodes.MethodNotAllowed,
        409 => ErrorCodes.Conflict,
        413 => ErrorCodes.PayloadTooLarge,
        415 => ErrorCodes.UnsupportedMediaType,
        429 => ErrorCodes.RateLimited,
        503 => ErrorCodes.StorageUnavailable,
        _ => ErrorCodes.InternalError,
    };
}

public static class ErrorCodes
{
    public const string ValidationFailed = "validation_failed";
    public const string UserNotFound = "user_not_found";
    public const string AlreadyMember = "already_member";
    public const string PendingMembershipExists = "pending_membership_exists";
    public const string InvitationPending = "invitation_pending";
    public const string JoinRequestPending = "join_request_pending";
    public const string EmailNotVerified = "email_not_verified";
    public const string RoleEscalation = "role_escalation";
    public const string LastOwner = "last_owner";
    public const string SeatLimitReached = "seat_limit_reached";
    public const string NotFound = "not_found";
    public const string Forbidden = "forbidden";
    public const string InvalidSignature = "invalid_signature";

    // Codes of the product API (issue 13).
    public const string ManagedByWorkOs = "managed_by_workos";
    public const string IdempotencyKeyReused = "idempotency_key_reused";
    public const string IdempotencyKeyInUse = "idempotency_key_in_use";
    public const string AlreadyOwner = "already_owner";

    // Codes of the change feed and outgoing webhooks (issue 17).
    public const string CursorExpired = "cursor_expired";

    // Codes for statuses DESIGN.md names without a code of their own.
    public const string Unauthorized = "unauthorized";
    public const string MethodNotAllowed = "method_not_allowed";
    public const string Conflict = "conflict";
    public const string PayloadTooLarge = "payload_too_large";
    public const string UnsupportedMediaType = "unsupported_media_type";
    public const string RateLimited = "rate_limited";
    public const string StorageUnavailable = "storage_unavailable";
    public const string UpstreamUnavailable = "upstream_unavailable";
    public const string InternalError = "internal_error";
}
