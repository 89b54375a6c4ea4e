"""OpenAI's Files API, plus split and validate: HTTP in, HTTP out.

Uploads are read under a byte limit while they arrive: the multipart body is counted
as the server receives it and refused with 413 once it passes the limit, so a client
cannot make the server hold (or spool to disk) more than ``max_upload_bytes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.types import Message, Receive

from modelyard.api.deps import AuthenticatedRouter, PrincipalDep, ServicesDep
from modelyard.errors import InvalidRequest, PayloadTooLarge
from modelyard.files.protocol import SplitIn, ValidateIn, deleted_object, file_object, validation_object
from modelyard.files.service import FilesService

__all__ = ["FilesDep", "router"]

router: APIRouter = AuthenticatedRouter(scope="files", prefix="/v1/files", tags=["files"])

# Room for the multipart envelope (boundaries, part headers, the purpose field).
_FORM_OVERHEAD = 64 * 1024
_MAX_FORM_FIELDS = 16


async def _files(services: ServicesDep) -> FilesService:
    return services.files


FilesDep = Annotated[FilesService, Depends(_files)]


@dataclass(frozen=True, slots=True)
class _Upload:
    filename: str
    purpose: str
    data: bytes


# -- reading a bounded multipart upload ----------------------------------------
def _too_large(limit: int) -> PayloadTooLarge:
    # The limit is the caller's upload quota where it has one, else this server's cap.
    return PayloadTooLarge(f"the file is larger than the upload limit of {limit} bytes", param="file")


def _bounded(receive: Receive, body_limit: int, file_limit: int) -> Receive:
    """``receive`` that fails as soon as the body passes ``body_limit`` bytes."""
    received = 0

    async def bounded_receive() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > body_limit:
                raise _too_large(file_limit)
        return message

    return bounded_receive


def _check_declared_length(request: Request, body_limit: int, file_limit: int) -> None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > body_limit:
        raise _too_large(file_limit)


async def _read_upload(request: Request, limit: int) -> _Upload:
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InvalidRequest("send multipart/form-data with a 'file' and a 'purpose' field", param="file")
    body_limit = limit + _FORM_OVERHEAD
    _check_declared_length(request, body_limit, limit)
    bounded = Request(request.scope, _bounded(request.receive, body_limit, limit))
    form = await bounded.form(max_files=1, max_fields=_MAX_FORM_FIELDS)
    try:
        upload, purpose = form.get("file"), form.get("purpose")
        if not isinstance(upload, UploadFile):
            raise InvalidRequest("missing the 'file' field (a file part)", param="file")
        if not isinstance(purpose, str) or not purpose:
            raise InvalidRequest("missing the 'purpose' field", param="purpose")
        data = await upload.read(limit + 1)
        if len(data) > limit:
            raise _too_large(limit)
        return _Upload(upload.filename or "upload", purpose, data)
    finally:
        await form.close()


# -- routes --------------------------------------------------------------------
@router.post("")
async def upload_file(request: Request, principal: PrincipalDep, files: FilesDep) -> dict[str, Any]:
    upload = await _read_upload(request, files.upload_limit(principal))
    # Parsing and validating up to max_upload_bytes is CPU work: keep it off the event loop.
    record = await run_in_threadpool(
        files.create, principal, filename=upload.filename, purpose=upload.purpose, data=upload.data
    )
    return file_object(record)


@router.get("")
def list_files(
    principal: PrincipalDep,
    files: FilesDep,
    purpose: str | None = None,
    after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 10_000,
    order: Literal["asc", "desc"] = "desc",
) -> dict[str, Any]:
    rows = files.list(principal, purpose, after=after, limit=limit + 1, order=order)
    data = [file_object(r) for r in rows[:limit]]
    return {
        "object": "list",
        "data": data,
        "has_more": len(rows) > limit,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
    }


@router.get("/{file_id}")
def get_file(file_id: str, principal: PrincipalDep, files: FilesDep) -> dict[str, Any]:
    return file_object(files.get(principal, file_id))


@router.get("/{file_id}/content")
def file_content(file_id: str, principal: PrincipalDep, files: FilesDep) -> Response:
    return Response(files.content(principal, file_id), media_type="application/octet-stream")


@router.delete("/{file_id}")
def delete_file(file_id: str, principal: PrincipalDep, files: FilesDep) -> dict[str, Any]:
    files.delete(principal, file_id)
    return deleted_object(file_id)


@router.post("/{file_id}/split")
def split_file(file_id: str, body: SplitIn, principal: PrincipalDep, files: FilesDep) -> dict[str, Any]:
    records = files.split(
        principal, file_id, train=body.train, validation=body.validation, test=body.test, seed=body.seed
    )
    return {"object": "list", "data": [file_object(r) for r in records]}


@router.post("/{file_id}/validate")
def validate_file(file_id: str, body: ValidateIn, principal: PrincipalDep, files: FilesDep) -> dict[str, Any]:
    return validation_object(files.validate_for_model(principal, file_id, body.model))
