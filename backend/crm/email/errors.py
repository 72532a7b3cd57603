"""What can go wrong talking to Google, as four kinds the retry loop and the sync act on.

`Transient` is worth retrying (429, 5xx, rate-limit 403s, a dropped connection,
a timeout); `PermissionDenied` needs an admin (delegation not granted, a revoked
refresh token, a missing scope); `NotFound` is a history id too old or a message
gone; `BadRequest` is our own mistake. `classify` is the one place an answer
from Google becomes one of them, for the Gmail API's error shape
(`{"error": {"code", "message", "errors": [{"reason"}], "status"}}`) and the
token endpoint's (`{"error": "invalid_grant", "error_description"}`).

Every `.message` is our own plain words plus Google's reason code: never a
token, a request or response body, or Google's free text, so it is safe to log
and to show an admin.
"""
import json
import time
from email.utils import parsedate_to_datetime

RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
_SCOPE_PREFIX = "https://www.googleapis.com/auth/"


class GmailError(Exception):
    """`.status` is the HTTP status (None when no answer came); `.reason` Google's reason code or None."""

    def __init__(self, message: str, status: int | None = None, reason: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.reason = reason


class Transient(GmailError):
    """Retry later; `.retry_after` is the seconds Google asked for, or None."""

    def __init__(self, message, status=None, reason=None, retry_after: float | None = None):
        super().__init__(message, status, reason)
        self.retry_after = retry_after


class PermissionDenied(GmailError):
    pass


class NotFound(GmailError):
    pass


class BadRequest(GmailError):
    pass


def short_scope(scope: str) -> str:
    """'https://www.googleapis.com/auth/gmail.readonly' -> 'gmail.readonly', for messages."""
    return " ".join(s.removeprefix(_SCOPE_PREFIX) for s in scope.split())


def classify(status: int, body, headers=None, *, scope: str | None = None, grant: str | None = None) -> GmailError:
    """The error for a non-2xx answer. `body` is bytes, an already-parsed dict, or None.

    `scope` and `grant` ("jwt", "authorization_code", "refresh_token") say what a token
    endpoint call asked for, so its refusals read as what they mean to an admin.
    """
    error = _error_field(_as_dict(body))
    if isinstance(error, str):
        return _token_refusal(status, error, scope, grant)
    reason = _reason(error)
    retry_after = retry_after_seconds(headers)
    if status == 429 or status >= 500 or status == 408:
        return Transient(f"Google is busy or failing (HTTP {status}{_code(reason)}): will retry",
                         status, reason, retry_after)
    if status == 403 and reason in RATE_LIMIT_REASONS:
        return Transient(f"Gmail rate limit reached (HTTP 403, {reason}): will retry", status, reason, retry_after)
    if status == 401:
        return PermissionDenied(f"Google refused the access token (HTTP 401{_code(reason)})", status, reason)
    if status == 403:
        return PermissionDenied(_forbidden_words(reason), status, reason)
    if status == 404:
        return NotFound(f"not found at Google (HTTP 404{_code(reason)})", status, reason)
    return BadRequest(f"Google refused the request as malformed (HTTP {status}{_code(reason)})", status, reason)


def unreachable(exc: Exception) -> Transient:
    """A connection error or timeout (no answer at all), named by its type only."""
    return Transient(f"could not reach Google ({type(exc).__name__}): will retry", None, None, None)


def retry_after_seconds(headers) -> float | None:
    """Retry-After as seconds (it may be a number or an HTTP date); None when absent or unreadable."""
    value = (headers or {}).get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _as_dict(body) -> dict:
    if isinstance(body, dict):
        return body
    if not body:
        return {}
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _error_field(body: dict):
    error = body.get("error")
    return error if isinstance(error, (str, dict)) else {}


def _reason(error: dict) -> str | None:
    for item in error.get("errors") or []:
        if isinstance(item, dict) and isinstance(item.get("reason"), str):
            return item["reason"]
    status = error.get("status")
    return status if isinstance(status, str) else None


def _code(reason) -> str:
    return f", {reason}" if reason else ""


def _forbidden_words(reason) -> str:
    if reason == "insufficientPermissions":
        return "the access token lacks the Gmail scope this call needs (HTTP 403, insufficientPermissions)"
    if reason == "domainPolicy":
        return "the Workspace domain's policy forbids this Gmail access (HTTP 403, domainPolicy)"
    return f"Gmail refused this call (HTTP 403{_code(reason)})"


def _token_refusal(status: int, error: str, scope, grant) -> GmailError:
    """An OAuth error code from the token endpoint, in words that say what to fix."""
    if status >= 500 or status == 429:
        return Transient(f"Google's token endpoint is failing (HTTP {status}, {error}): will retry", status, error)
    words = short_scope(scope) if scope else "the requested scopes"
    if error == "unauthorized_client" and grant == "jwt":
        message = (f"delegation not granted for scope {words}: a Workspace admin must allow the "
                   "service account's client ID for it (domain-wide delegation)")
    elif error == "unauthorized_client":
        message = "the OAuth client is not allowed this grant"
    elif error == "access_denied":
        message = f"access denied for scope {words}"
    elif error == "invalid_grant" and grant == "refresh_token":
        message = "the refresh token was revoked or has expired: the user must connect Gmail again"
    elif error == "invalid_grant" and grant == "authorization_code":
        message = "the authorisation code is invalid, used or expired: start the connection again"
    elif error == "invalid_grant":
        message = ("the service account's assertion was refused (invalid_grant): check the key, the "
                   "server clock and that the user exists in the Workspace domain")
    elif error == "invalid_client":
        message = "the OAuth client id or secret was refused"
    else:
        return BadRequest(f"the token endpoint refused the request (HTTP {status}, {error})", status, error)
    return PermissionDenied(message, status, error)
