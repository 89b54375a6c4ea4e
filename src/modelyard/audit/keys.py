"""The audit chain's key: a secret kept outside the database.

Taken from ``Settings.audit_key`` when configured, else from ``<home>/audit.key`` (mode
600), made on first use. The process that makes the key also re-keys a chain written
before keys existed, after checking it with the old public hash: a file an attacker of
the database cannot write is what marks that re-keying as done, so it happens once.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from modelyard.audit.log import AuditLog
from modelyard.config import Settings
from modelyard.store import Database

__all__ = ["ensure_audit_key", "load_audit_key"]

log = logging.getLogger(__name__)


def load_audit_key(settings: Settings) -> bytes | None:
    """The configured key, else the home's key file; None when neither exists yet."""
    if settings.audit_key:
        return settings.audit_key.encode()
    path = settings.audit_key_file
    return path.read_bytes().strip() if path.exists() else None


def ensure_audit_key(settings: Settings, db: Database) -> bytes:
    """The audit key, made (and an unkeyed chain re-keyed under it) if there is none yet."""
    key = load_audit_key(settings)
    if key is not None:
        return key
    made = _create_key_file(settings.audit_key_file)
    if made is None:  # another process made it first, and re-keys
        return settings.audit_key_file.read_bytes().strip()
    report = AuditLog(db, made).rekey_legacy()
    if not report.ok:
        log.warning(
            "audit log: re-keyed %d entries; entry %s fails the old check (%s) and stays as it was",
            report.count,
            report.bad_seq,
            report.reason,
        )
    return made


def _create_key_file(path: Path) -> bytes | None:
    """Write a new random key to ``path``; None if the file appeared meanwhile.

    Written to a private temporary file and linked into place, so a reader never sees
    a half-written key and two processes cannot both make one.
    """
    key = secrets.token_hex(32).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(key + b"\n")
        os.link(temporary, path)
    except FileExistsError:
        return None
    finally:
        temporary.unlink(missing_ok=True)
    return key
