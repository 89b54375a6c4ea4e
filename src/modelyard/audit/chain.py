"""The hash chain, as pure functions: one canonical form per entry, and its verification.

An entry's hash is an HMAC-SHA256, under a key kept outside the database, over
``prev_hash`` and a canonical JSON of every other field, ``seq`` included, so an edited
field, a removed entry, and two entries swapped in place all break the chain at a point
:func:`verify_chain` can name. The key is what stops whoever can write the database from
editing an entry and recomputing every later hash; comparing with an exported head
(:class:`ChainHead`) is what catches entries cut off the end.

Chains written before the key existed used a plain sha256 (:func:`legacy_entry_hash`);
they are re-keyed once, when the key is made (see :mod:`modelyard.audit.keys`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "GENESIS",
    "HASHED_FIELDS",
    "OPTIONAL_HASHED_FIELDS",
    "ChainHead",
    "ChainReport",
    "ChainWalker",
    "Hasher",
    "entry_hash",
    "keyed_hasher",
    "legacy_entry_hash",
    "verify_chain",
]

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
# Fields added after chains were first written. Each joins the hashed text only when it is
# set (true, non-empty), so an entry written before it existed, which reads back unset,
# hashes exactly as it did; an entry that sets one is covered like any other field.
OPTIONAL_HASHED_FIELDS = ("poll", "resource")


def _canonical_value(value: Any) -> Any:
    if isinstance(value, datetime):
        # PostgreSQL hands timestamps back in the session's zone; the instant is what counts.
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    return value


# (fields, prev_hash) -> hex digest
Hasher = Callable[[Mapping[str, Any], str], str]


def _message(fields: Mapping[str, Any], prev_hash: str) -> bytes:
    canonical = {name: _canonical_value(fields.get(name)) for name in HASHED_FIELDS}
    canonical.update({name: fields[name] for name in OPTIONAL_HASHED_FIELDS if fields.get(name)})
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return f"{prev_hash}\n{text}".encode()


def entry_hash(fields: Mapping[str, Any], prev_hash: str, key: bytes) -> str:
    return hmac.new(key, _message(fields, prev_hash), hashlib.sha256).hexdigest()


def legacy_entry_hash(fields: Mapping[str, Any], prev_hash: str) -> str:
    """The unkeyed hash of chains written before 0.5; anyone can recompute it."""
    return hashlib.sha256(_message(fields, prev_hash)).hexdigest()


def keyed_hasher(key: bytes) -> Hasher:
    def hasher(fields: Mapping[str, Any], prev_hash: str) -> str:
        return entry_hash(fields, prev_hash, key)

    return hasher


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The newest entry's seq and hash: exported, it makes a cut-off tail detectable."""

    seq: int
    hash: str

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash}


@dataclass(frozen=True, slots=True)
class ChainReport:
    ok: bool
    count: int
    # The first entry where the chain breaks (for a deletion: the missing seq), and why.
    bad_seq: int | None = None
    reason: str | None = None
    # The last intact entry: what an operator exports to compare with later.
    head: ChainHead | None = None

    def to_dict(self) -> dict[str, Any]:
        head = self.head.to_dict() if self.head else None
        return {
            "ok": self.ok,
            "count": self.count,
            "bad_seq": self.bad_seq,
            "reason": self.reason,
            "head": head,
        }


class ChainWalker:
    """Checks entries in seq order one at a time, so a long log never sits in memory.

    With ``expected`` (a head exported earlier), the log must still hold that entry,
    unchanged: a log cut back to before it is reported as truncated.
    """

    def __init__(self, hasher: Hasher, expected: ChainHead | None = None) -> None:
        self.count = 0
        self._hasher = hasher
        self._expected_head = expected
        self._expected_seq = 1
        self._prev = GENESIS
        self._head: ChainHead | None = None
        self.failure: ChainReport | None = None

    def feed(self, row: Mapping[str, Any]) -> bool:
        """Check one more entry; False (and ``failure`` set) at the first broken link."""
        seq = row["seq"]
        if seq != self._expected_seq:
            missing = self._expected_seq
            return self._fail(missing, f"deleted: entry {missing} is missing (the log jumps to {seq})")
        if row["prev_hash"] != self._prev:
            return self._fail(seq, "reordered or replaced: prev_hash does not match the entry before it")
        if self._hasher(row, row["prev_hash"]) != row["hash"]:
            return self._fail(
                seq, "edited: the entry's contents do not match its hash (or another key wrote it)"
            )
        expected = self._expected_head
        if expected is not None and seq == expected.seq and row["hash"] != expected.hash:
            return self._fail(seq, "mismatch: the entry's hash differs from the exported head")
        self._prev, self._expected_seq, self.count = row["hash"], seq + 1, self.count + 1
        self._head = ChainHead(seq, row["hash"])
        return True

    def _fail(self, seq: int, reason: str) -> bool:
        self.failure = ChainReport(ok=False, count=self.count, bad_seq=seq, reason=reason, head=self._head)
        return False

    def report(self) -> ChainReport:
        expected = self._expected_head
        if self.failure is None and expected is not None and expected.seq > self.count:
            ends = f"the log ends at entry {self.count}, the exported head is entry {expected.seq}"
            self._fail(self.count + 1, f"truncated: {ends}")
        return self.failure or ChainReport(ok=True, count=self.count, head=self._head)


def verify_chain(
    rows: Iterable[Mapping[str, Any]], hasher: Hasher, expected: ChainHead | None = None
) -> ChainReport:
    walker = ChainWalker(hasher, expected)
    for row in rows:
        if not walker.feed(row):
            break
    return walker.report()
