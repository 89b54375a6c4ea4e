"""The bytes of uploaded files, on disk under names we generate.

Layout: ``<root>/<tenant id>/<file id>/upload`` (the bytes as sent) and
``.../examples.jsonl`` (the usable examples as chat JSONL). The uploaded filename is
display text only and never reaches the filesystem, so ``../../etc/passwd`` or a name
with a NUL in it can do no harm. Ids are checked against a strict pattern as well, in
case a caller ever passes one through unvetted.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from modelyard.errors import ModelyardError

__all__ = ["FileStorage"]

_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_UPLOAD = "upload"
_EXAMPLES = "examples.jsonl"


class FileStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, tenant_id: str, file_id: str, *, upload: bytes, examples: bytes) -> None:
        folder = self._folder(tenant_id, file_id)
        folder.mkdir(parents=True, exist_ok=True)
        _write_atomic(folder / _UPLOAD, upload)
        _write_atomic(folder / _EXAMPLES, examples)

    def upload(self, tenant_id: str, file_id: str) -> bytes:
        return self._read(tenant_id, file_id, _UPLOAD)

    def examples(self, tenant_id: str, file_id: str) -> bytes:
        return self._read(tenant_id, file_id, _EXAMPLES)

    def delete(self, tenant_id: str, file_id: str) -> None:
        shutil.rmtree(self._folder(tenant_id, file_id), ignore_errors=True)

    def _read(self, tenant_id: str, file_id: str, name: str) -> bytes:
        try:
            return (self._folder(tenant_id, file_id) / name).read_bytes()
        except FileNotFoundError as exc:
            # The row exists but its bytes do not: a server-side fault, not the caller's.
            raise ModelyardError(f"the content of file '{file_id}' is missing on this server") from exc

    def _folder(self, tenant_id: str, file_id: str) -> Path:
        for value in (tenant_id, file_id):
            if not _SAFE_ID.match(value):
                raise ModelyardError("refusing an unsafe storage name")
        return self.root / tenant_id / file_id


def _write_atomic(path: Path, data: bytes) -> None:
    """Readers see the old file or the whole new one, never half of it."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
