"""One error tree, mapped once to OpenAI's error envelope.

::

    ModelyardError (500 server_error)
    ├── InvalidRequest (400 invalid_request_error)
    │   ├── UnsupportedParameter (400)
    │   └── PayloadTooLarge (413)
    ├── AuthenticationFailed (401 authentication_error)
    ├── PermissionDenied (403 permission_error)
    ├── NotFound (404 not_found_error)
    ├── Conflict (409 conflict_error)
    ├── RateLimited (429 rate_limit_error)
    │   └── QuotaExceeded (429): a caller's own quota, refused before any work (never billed)
    ├── UpstreamError (502 upstream_error)
    │   └── UpstreamTimeout (504)
    ├── LoopDetected (508 loop_detected): one of our own provider calls came back to us
    └── BackendUnavailable (503 service_unavailable)
        └── ModelNotReady (503): still importing or loading, or failed to; has Retry-After

Messages are written for the caller: they never carry a stack trace or a file path.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AuthenticationFailed",
    "BackendUnavailable",
    "Conflict",
    "InvalidRequest",
    "LoopDetected",
    "ModelNotReady",
    "ModelyardError",
    "NotFound",
    "PayloadTooLarge",
    "PermissionDenied",
    "QuotaExceeded",
    "RateLimited",
    "UnsupportedParameter",
    "UpstreamError",
    "UpstreamTimeout",
    "error_body",
]


class ModelyardError(Exception):
    status_code: int = 500
    error_type: str = "server_error"
    default_code: str | None = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code or self.default_code
        self.headers = headers or {}

    def to_body(self) -> dict[str, Any]:
        return error_body(self.message, self.error_type, param=self.param, code=self.code)


class InvalidRequest(ModelyardError):
    status_code = 400
    error_type = "invalid_request_error"
    default_code = "invalid_request"


class UnsupportedParameter(InvalidRequest):
    default_code = "unsupported_parameter"


class PayloadTooLarge(InvalidRequest):
    status_code = 413
    default_code = "payload_too_large"


class AuthenticationFailed(ModelyardError):
    status_code = 401
    error_type = "authentication_error"
    default_code = "invalid_api_key"


class PermissionDenied(ModelyardError):
    status_code = 403
    error_type = "permission_error"
    default_code = "permission_denied"


class NotFound(ModelyardError):
    status_code = 404
    error_type = "not_found_error"
    default_code = "not_found"


class Conflict(ModelyardError):
    status_code = 409
    error_type = "conflict_error"
    default_code = "conflict"


class RateLimited(ModelyardError):
    status_code = 429
    error_type = "rate_limit_error"
    default_code = "rate_limit_exceeded"


class QuotaExceeded(RateLimited):
    default_code = "quota_exceeded"


class UpstreamError(ModelyardError):
    status_code = 502
    error_type = "upstream_error"
    default_code = "upstream_error"


class LoopDetected(ModelyardError):
    status_code = 508
    error_type = "loop_detected"
    default_code = "loop_detected"


class UpstreamTimeout(UpstreamError):
    status_code = 504
    default_code = "upstream_timeout"


class BackendUnavailable(ModelyardError):
    status_code = 503
    error_type = "service_unavailable"
    default_code = "backend_unavailable"


class ModelNotReady(BackendUnavailable):
    default_code = "model_not_ready"


def error_body(
    message: str, error_type: str, *, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}
