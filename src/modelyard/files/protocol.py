"""Wire models and shapes of OpenAI's Files API, plus our split and validate extensions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from modelyard.store.tables import FileRecord

if TYPE_CHECKING:
    from modelyard.files.service import ModelValidation

__all__ = [
    "SPLIT_FROM",
    "SplitIn",
    "ValidateIn",
    "deleted_object",
    "file_object",
    "split_from",
    "validation_object",
]

# The key of a split part's stats (a JSON column) that names the file it came from and which
# part it is: recorded without a new column.
SPLIT_FROM = "split_from"


class SplitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    train: float = Field(default=0.8, ge=0, le=1)
    validation: float = Field(default=0.1, ge=0, le=1)
    test: float = Field(default=0.1, ge=0, le=1)
    seed: int = Field(default=0, ge=0, le=2**63 - 1)


class ValidateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, max_length=200)


def split_from(record: FileRecord) -> dict[str, str] | None:
    """``{"file_id", "part"}`` of a file made by splitting another; None for an upload."""
    parent = (record.stats or {}).get(SPLIT_FROM)
    return parent if isinstance(parent, dict) else None


def _status_details(record: FileRecord) -> str | None:
    if not record.problems:
        return None
    dropped = record.stats.get("dropped", len(record.problems))
    return f"{dropped} line(s) dropped, {record.examples} example(s) kept; see 'problems'"


def file_object(record: FileRecord) -> dict[str, Any]:
    """OpenAI's file object, plus ``format``, ``examples``, ``stats``, ``problems`` and
    ``split_from``."""
    return {
        "id": record.id,
        "object": "file",
        "bytes": record.bytes,
        "created_at": int(record.created_at.timestamp()),
        "filename": record.filename,
        "purpose": record.purpose,
        "status": record.status,
        "status_details": _status_details(record),
        "expires_at": None,
        "format": record.format,
        "examples": record.examples,
        "stats": record.stats,
        "problems": record.problems,
        # A part made by POST /v1/files/{id}/split: its parent's id and which part it is.
        "split_from": split_from(record),
    }


def deleted_object(file_id: str) -> dict[str, Any]:
    return {"id": file_id, "object": "file", "deleted": True}


def validation_object(validation: ModelValidation) -> dict[str, Any]:
    """The report of ``POST /v1/files/{id}/validate``."""
    return {
        "object": "file.validation",
        "file_id": validation.file_id,
        "model": validation.model,
        "context_length": validation.context_length,
        "token_counter": "tokenizer" if validation.tokenizer else "estimate",
        "note": validation.note,
        **validation.report.as_dict(),
    }
