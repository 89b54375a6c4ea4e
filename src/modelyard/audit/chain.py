"""The hash chain, as pure functions: one canonical form per entry, and its verification.

An entry's hash is sha256 over ``prev_hash`` and a canonical JSON of every other field,
``seq`` included, so an edited field, a removed entry, and two entries swapped in place
all break the chain at a point :func:`verify_chain` can name.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["GENESIS", "HASHED_FIELDS", "ChainReport", "ChainWalker", "entry_hash", "verify_chain"]

GENESIS = "0" * 64
# Every column but prev_hash (mixed in separately) and hash itself.
HASHED_FIELDS = (
    "seq",
    "created_at",
    "kind",
    "tenant_id",
    "key_id",
    "role",
    "method",
    "route",
    "model",
    "status_code",
    "prompt_tokens",
    "completion_tokens",
    "latency_ms",
    "action",
    "detail",
)


def _canonical_value(value: Any) -> Any:
    if isinstance(value, datetime):
        # PostgreSQL hands timestamps back in the session's zone; the instant is what counts.
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    return value


def entry_hash(fields: Mapping[str, Any], prev_hash: str) -> str:
    canonical = {name: _canonical_value(fields.get(name)) for name in HASHED_FIELDS}
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(f"{prev_hash}\n{text}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainReport:
    ok: bool
    count: int
    # The first entry where the chain breaks (for a deletion: the missing seq), and why.
    bad_seq: int | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "count": self.count, "bad_seq": self.bad_seq, "reason": self.reason}


class ChainWalker:
    """Checks entries in seq order one at a time, so a long log never sits in memory."""

    def __init__(self) -> None:
        self.count = 0
        self._expected_seq = 1
        self._prev = GENESIS
        self.failure: ChainReport | None = None

    def feed(self, row: Mapping[str, Any]) -> bool:
        """Check one more entry; False (and ``failure`` set) at the first broken link."""
        seq = row["seq"]
        if seq != self._expected_seq:
            missing = self._expected_seq
            return self._fail(missing, f"deleted: entry {missing} is missing (the log jumps to {seq})")
        if row["prev_hash"] != self._prev:
            return self._fail(seq, "reordered or replaced: prev_hash does not match the entry before it")
        if entry_hash(row, row["prev_hash"]) != row["hash"]:
            return self._fail(seq, "edited: the entry's contents do not match its hash")
        self._prev, self._expected_seq, self.count = row["hash"], seq + 1, self.count + 1
        return True

    def _fail(self, seq: int, reason: str) -> bool:
        self.failure = ChainReport(ok=False, count=self.count, bad_seq=seq, reason=reason)
        return False

    def report(self) -> ChainReport:
        return self.failure or ChainReport(ok=True, count=self.count)


def verify_chain(rows: Iterable[Mapping[str, Any]]) -> ChainReport:
    walker = ChainWalker()
    for row in rows:
        if not walker.feed(row):
            break
    return walker.report()
