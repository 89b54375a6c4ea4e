"""Maps every failure to OpenAI's error envelope; nothing internal reaches the caller."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from modelyard.errors import ModelyardError, error_body

__all__ = ["install_error_handlers"]

log = logging.getLogger(__name__)

_HTTP_TYPES = {
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
}


# pydantic names the member of a union it tried ("int", "constrained-int", "literal['auto']");
# those are not fields, and a caller should see only the field's name.
_UNION_TAG = re.compile(r"^(constrained-)?(int|float|str|bool|bytes)$|[\[\]-]")


def _param_of(error: dict[str, Any]) -> str:
    location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")]
    while len(location) > 1 and _UNION_TAG.search(location[-1]):
        location.pop()
    return ".".join(location) or "body"


async def _modelyard_error(_request: Request, exc: ModelyardError) -> JSONResponse:
    return JSONResponse(exc.to_body(), status_code=exc.status_code, headers=exc.headers)


async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    first = exc.errors()[0] if exc.errors() else {}
    param = _param_of(first)
    # pydantic's message, never its echo of the input (it may hold a secret).
    message = f"invalid value for '{param}': {first.get('msg', 'invalid request body')}"
    return JSONResponse(
        error_body(message, "invalid_request_error", param=param, code="invalid_value"),
        status_code=400,
    )


async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
    message = exc.detail if isinstance(exc.detail, str) else "request failed"
    error_type = _HTTP_TYPES.get(exc.status_code, "invalid_request_error")
    return JSONResponse(
        error_body(message, error_type, code=str(exc.status_code)),
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return JSONResponse(
        error_body("the server had an internal error", "server_error", code="internal_error"),
        status_code=500,
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ModelyardError, _modelyard_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected)
