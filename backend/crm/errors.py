"""Errors are exceptions carrying an HTTP status; one function turns them into JSON."""


class ApiError(Exception):
    status = 400

    def __init__(self, message, fields=None, status=None, headers=None, extra=None):
        super().__init__(message)
        self.message = message
        self.fields = fields or None
        self.headers = headers or {}
        self.extra = extra or {}  # more keys for the body, e.g. a conflict's current values
        if status is not None:
            self.status = status

    def body(self) -> dict:
        body = {"error": self.message, **self.extra}
        if self.fields:
            body["fields"] = self.fields
        return body


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class MethodNotAllowed(ApiError):
    status = 405


class Conflict(ApiError):
    status = 409


class LengthRequired(ApiError):
    status = 411


class PayloadTooLarge(ApiError):
    status = 413


class UnsupportedMediaType(ApiError):
    status = 415


class Invalid(ApiError):
    """Validation failed; `fields` names each bad field and what is wrong with it."""
    status = 422

    def __init__(self, fields, message=None):
        names = ", ".join(sorted(fields))
        super().__init__(message or f"invalid fields: {names}", fields=fields)


class Locked(ApiError):
    status = 423


class TooManyRequests(ApiError):
    status = 429

    def __init__(self, message, retry_after: int):
        super().__init__(message, headers={"Retry-After": str(max(1, int(retry_after)))})


class Unavailable(ApiError):
    """A part of the API that is switched off or cannot answer now."""
    status = 503
