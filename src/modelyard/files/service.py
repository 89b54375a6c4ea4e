"""Uploaded datasets: store, list, read, split, re-validate and delete them, per tenant.

Every method is scoped to one tenant: another tenant's file id answers ``NotFound``,
exactly like an id that never existed, so ids do not reveal what others uploaded.
A file is validated when it arrives; its usable examples are kept as chat JSONL next
to the bytes as uploaded, and that JSONL is what training and evaluation read.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy import ColumnElement, and_, delete, or_, select

from modelyard.catalog import CatalogService
from modelyard.config import Settings
from modelyard.datasets import (
    PURPOSES,
    ValidationReport,
    dump_jsonl,
    estimate_tokens,
    load_jsonl,
    validate,
)
from modelyard.datasets import split as split_examples
from modelyard.errors import InvalidRequest, ModelyardError, NotFound, PayloadTooLarge
from modelyard.files.protocol import SPLIT_FROM
from modelyard.files.storage import FileStorage
from modelyard.files.tokens import model_tokens
from modelyard.prompting import Message
from modelyard.quotas.service import QuotaService
from modelyard.store import Database
from modelyard.store.tables import FileRecord, utcnow
from modelyard.tenancy import Principal

__all__ = ["MAX_STORED_PROBLEMS", "FilesService", "ModelValidation", "display_name"]

# A file of 100k broken lines should not become a 10 MB JSON column; the stats keep the
# full count and ``problems_by_code``.
MAX_STORED_PROBLEMS = 1000
Order = Literal["asc", "desc"]


@dataclass(frozen=True, slots=True)
class ModelValidation:
    """A stored file checked against one model's tokenizer and context length."""

    file_id: str
    model: str
    context_length: int | None
    tokenizer: bool  # False: token counts are estimates
    note: str
    report: ValidationReport


@dataclass(frozen=True, slots=True)
class _Pending:
    record: FileRecord
    upload: bytes
    examples: bytes


class FilesService:
    def __init__(
        self,
        db: Database,
        storage: FileStorage,
        *,
        max_upload_bytes: int,
        max_file_lines: int,
        catalog: CatalogService | None = None,
        models_dir: Path | None = None,
        quotas: QuotaService | None = None,
    ) -> None:
        self._db = db
        self._storage = storage
        self._catalog = catalog
        self._quotas = quotas
        self._models_dir = models_dir
        self.max_upload_bytes = max_upload_bytes
        self.max_file_lines = max_file_lines

    @classmethod
    def from_settings(
        cls,
        db: Database,
        settings: Settings,
        catalog: CatalogService | None = None,
        quotas: QuotaService | None = None,
    ) -> FilesService:
        """The catalog is needed only by ``validate_for_model`` (a worker can do without)."""
        return cls(
            db,
            FileStorage(settings.files_dir),
            max_upload_bytes=settings.max_upload_bytes,
            max_file_lines=settings.max_file_lines,
            catalog=catalog,
            models_dir=settings.resolved_models_dir,
            quotas=quotas,
        )

    def upload_limit(self, principal: Principal) -> int:
        """The caller's upload quota, never above this server's ``max_upload_bytes``."""
        if self._quotas is None:
            return self.max_upload_bytes
        return self._quotas.upload_limit(principal, self.max_upload_bytes)

    # -- writing -------------------------------------------------------------
    def create(self, principal: Principal, *, filename: str, purpose: str, data: bytes) -> FileRecord:
        """Validate and store an upload; a file with no usable example is refused, not stored."""
        _check_purpose(purpose)
        limit = self.upload_limit(principal)
        if len(data) > limit:
            raise PayloadTooLarge(f"the file is larger than the upload limit of {limit} bytes", param="file")
        report = validate(data, purpose=purpose, max_lines=self.max_file_lines)
        report.raise_if_rejected()
        pending = _pending(principal.tenant_id, display_name(filename), purpose, data, report)
        self._store([pending])
        return pending.record

    def delete(self, principal: Principal, file_id: str) -> None:
        record = self.get(principal, file_id)
        with self._db.session() as session:
            session.execute(
                delete(FileRecord).where(FileRecord.id == record.id, FileRecord.tenant_id == record.tenant_id)
            )
        # Rows go first: a folder left behind is harmless, a row without bytes is not.
        self._storage.delete(record.tenant_id, record.id)

    def split(
        self, principal: Principal, file_id: str, *, train: float, validation: float, test: float, seed: int
    ) -> list[FileRecord]:
        """New files ``<name>.train.jsonl`` etc. with the same purpose, in that order."""
        source = self.get(principal, file_id)
        examples = self.examples(principal.tenant_id, file_id)
        parts = split_examples(examples, train=train, validation=validation, test=test, seed=seed).parts()
        stem = _stem(source.filename)
        pending = [_part(source, name, f"{stem}.{name}.jsonl", part) for name, part in parts]
        self._store(pending)
        return [p.record for p in pending]

    def _store(self, pending: Sequence[_Pending]) -> None:
        """Bytes first, then all rows in one transaction; undo the bytes if that fails."""
        try:
            for p in pending:
                self._storage.write(p.record.tenant_id, p.record.id, upload=p.upload, examples=p.examples)
            with self._db.session() as session:
                session.add_all([p.record for p in pending])
        except BaseException:
            for p in pending:
                self._storage.delete(p.record.tenant_id, p.record.id)
            raise

    # -- reading -------------------------------------------------------------
    def get(self, principal: Principal, file_id: str) -> FileRecord:
        return self._owned(principal.tenant_id, file_id)

    def list(
        self,
        principal: Principal,
        purpose: str | None = None,
        *,
        after: str | None = None,
        limit: int | None = None,
        order: Order = "desc",
    ) -> list[FileRecord]:
        query = select(FileRecord).where(FileRecord.tenant_id == principal.tenant_id)
        if purpose:
            query = query.where(FileRecord.purpose == purpose)
        if after:
            query = query.where(_beyond(self.get(principal, after), order))
        columns = (FileRecord.created_at, FileRecord.id)
        query = query.order_by(*(c.desc() if order == "desc" else c.asc() for c in columns))
        if limit is not None:
            query = query.limit(limit)
        with self._db.session() as session:
            return list(session.scalars(query))

    def content(self, principal: Principal, file_id: str) -> bytes:
        """The bytes exactly as uploaded."""
        record = self.get(principal, file_id)
        return self._storage.upload(record.tenant_id, record.id)

    def examples(self, tenant_id: str, file_id: str) -> list[list[Message]]:
        """The file's usable examples, as training and evaluation read them."""
        record = self._owned(tenant_id, file_id)
        return load_jsonl(self._storage.examples(record.tenant_id, record.id))

    def validate_for_model(self, principal: Principal, file_id: str, model: str) -> ModelValidation:
        """Re-check the upload against ``model``'s tokenizer (or an estimate) and context."""
        record = self.get(principal, file_id)
        if self._catalog is None or self._models_dir is None:
            raise ModelyardError("validating against a model needs the catalog")
        card = self._catalog.get_visible(model, principal)
        if card.task != "chat":
            raise InvalidRequest(f"model '{model}' is not a chat model", param="model")
        tokens = model_tokens(card, self._models_dir)
        report = validate(
            self._storage.upload(record.tenant_id, record.id),
            purpose=record.purpose,
            count_tokens=tokens.count or estimate_tokens,
            context_length=card.context_length,
            max_lines=self.max_file_lines,
        )
        note = tokens.note if card.context_length else f"{tokens.note}; the model declares no context length"
        return ModelValidation(
            record.id, card.id, card.context_length, tokens.count is not None, note, report
        )

    def _owned(self, tenant_id: str, file_id: str) -> FileRecord:
        with self._db.session() as session:
            record = session.get(FileRecord, file_id)
        if record is None or record.tenant_id != tenant_id:
            # Same answer for "never existed" and "someone else's".
            raise NotFound(f"No such File object: {file_id[:64]}", param="file_id", code="file_not_found")
        return record


# -- helpers -------------------------------------------------------------------
def _check_purpose(purpose: str) -> None:
    if purpose not in PURPOSES:
        raise InvalidRequest(
            f"purpose must be one of {', '.join(PURPOSES)}", param="purpose", code="invalid_purpose"
        )


def display_name(filename: str) -> str:
    """The last path component, printable characters only: shown to people, never a path."""
    base = re.split(r"[\\/]", filename)[-1]
    clean = "".join(ch for ch in base if ch.isprintable()).strip()
    return clean[:255] if clean not in ("", ".", "..") else "upload"


def _stem(filename: str) -> str:
    stem = filename.rsplit(".", 1)[0] if "." in filename[1:] else filename
    return stem[:200]


def _new_id() -> str:
    return f"file-{secrets.token_hex(12)}"


def _pending(
    tenant_id: str, filename: str, purpose: str, upload: bytes, report: ValidationReport
) -> _Pending:
    record = FileRecord(
        id=_new_id(),
        tenant_id=tenant_id,
        filename=filename,
        purpose=purpose,
        bytes=len(upload),
        format=report.format,
        status="processed",
        examples=len(report.examples),
        stats=report.stats,
        problems=[p.as_dict() for p in report.problems[:MAX_STORED_PROBLEMS]],
        created_at=utcnow(),
    )
    return _Pending(record, upload, dump_jsonl(report.examples))


def _part(source: FileRecord, part: str, filename: str, examples: list[list[Message]]) -> _Pending:
    data = dump_jsonl(examples)
    # Re-validated only to compute this part's own stats; every example already passed.
    report = validate(data, purpose=source.purpose)
    pending = _pending(source.tenant_id, filename, source.purpose, data, report)
    # The file it was split from, in the row's JSON stats (no column, no migration): the
    # console links a part to its parent, which may since have been deleted.
    pending.record.stats = {**pending.record.stats, SPLIT_FROM: {"file_id": source.id, "part": part}}
    return pending


def _beyond(cursor: FileRecord, order: Order) -> ColumnElement[bool]:
    """Rows after ``cursor`` in listing order (ties on created_at broken by id)."""
    if order == "desc":
        return or_(
            FileRecord.created_at < cursor.created_at,
            and_(FileRecord.created_at == cursor.created_at, FileRecord.id < cursor.id),
        )
    return or_(
        FileRecord.created_at > cursor.created_at,
        and_(FileRecord.created_at == cursor.created_at, FileRecord.id > cursor.id),
    )
