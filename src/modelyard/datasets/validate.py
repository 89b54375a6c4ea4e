"""Decide which examples of a dataset are usable, say why the others are not, and count tokens.

Bad lines are dropped and reported one problem per line (the first found), good ones
kept: a file with a few broken lines is still useful, and the user is told exactly
which lines to fix. A file with nothing usable left is rejected by the caller
(``ValidationReport.rejected``).

Token counts are taken over exactly what fine-tuning trains on,
``render_prompt(messages[:-1]) + messages[-1].content``, with the caller's tokenizer.
Without one they are an estimate (about one token per four UTF-8 bytes, at least one
per CJK character) and the stats say so.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from modelyard.datasets.parse import Problem, Record, decode, detect_format, iter_records
from modelyard.errors import InvalidRequest
from modelyard.prompting import ROLES, Message, render_prompt

__all__ = [
    "PURPOSES",
    "TokenCounter",
    "ValidationReport",
    "estimate_tokens",
    "training_text",
    "validate",
]

PURPOSES = ("fine-tune", "evals")
TokenCounter = Callable[[str], int]
SUMMARY_PROBLEMS = 10

# Han, kana, Hangul and full-width forms: tokenizers spend at least a token on each.
_CJK = re.compile(
    "[\u1100-\u11ff\u2e80-\u9fff\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\ufe30-\ufe4f"
    "\uff00-\uffef\U00020000-\U0003ffff]"
)


def estimate_tokens(text: str) -> int:
    """About one token per 4 UTF-8 bytes, and at least one per CJK character."""
    if text.isascii():
        return max(1, math.ceil(len(text) / 4))
    rest, cjk = _CJK.subn("", text)
    return max(1, cjk + math.ceil(len(rest.encode("utf-8")) / 4))


def training_text(messages: Sequence[Message]) -> str:
    """The text a model sees for this example: prompt plus answer, or the prompt alone."""
    if len(messages) > 1 and messages[-1].role == "assistant":
        return render_prompt(messages[:-1]) + messages[-1].content
    return render_prompt(messages)


@dataclass(frozen=True, slots=True)
class ValidationReport:
    format: str
    examples: list[list[Message]]
    problems: list[Problem]
    stats: dict[str, Any]

    @property
    def rejected(self) -> bool:
        return not self.examples

    def summary(self, limit: int = SUMMARY_PROBLEMS) -> str:
        """``line 3: missing assistant turn; line 7: not valid JSON`` (first ``limit``)."""
        shown = "; ".join(str(p) for p in self.problems[:limit])
        more = len(self.problems) - limit
        return f"{shown}; and {more} more" if more > 0 else shown

    def raise_if_rejected(self) -> None:
        if not self.rejected:
            return
        if not self.problems:
            raise InvalidRequest("the file holds no examples", param="file", code="invalid_file")
        raise InvalidRequest(
            f"the file has no usable examples: {self.summary()}", param="file", code="invalid_file"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "examples": len(self.examples),
            "rejected": self.rejected,
            "stats": self.stats,
            "problems": [p.as_dict() for p in self.problems],
        }


def validate(
    lines: bytes | str | Iterable[str],
    *,
    purpose: str,
    count_tokens: TokenCounter | None = None,
    context_length: int | None = None,
    max_lines: int | None = None,
) -> ValidationReport:
    """Check every example of a dataset for ``purpose`` (``fine-tune`` or ``evals``).

    ``too_long`` is checked only when both ``count_tokens`` and ``context_length`` are
    given; pass ``count_tokens=estimate_tokens`` to check lengths against an estimate.
    More than ``max_lines`` records rejects the whole file (``InvalidRequest``).
    """
    if purpose not in PURPOSES:
        raise InvalidRequest(f"purpose must be one of {', '.join(PURPOSES)}", param="purpose")
    text = _as_text(lines)
    source = detect_format(text)
    checker = _Checker(purpose, count_tokens, context_length)
    for record in _limited(iter_records(text, source), max_lines):
        checker.add(record)
    return checker.report(source)


def _as_text(lines: bytes | str | Iterable[str]) -> str:
    if isinstance(lines, bytes):
        return decode(lines)
    if isinstance(lines, str):
        return lines.removeprefix("\ufeff")
    return "\n".join(line.rstrip("\n") for line in lines).removeprefix("\ufeff")


def _limited(records: Iterator[Record], max_lines: int | None) -> Iterator[Record]:
    for count, record in enumerate(records, start=1):
        if max_lines is not None and count > max_lines:
            raise InvalidRequest(
                f"the file has more than {max_lines} lines (the limit on this server); "
                "split it into smaller files",
                param="file",
                code="too_many_lines",
            )
        yield record


# -- per-example checks --------------------------------------------------------
def _check_roles(messages: Sequence[Message]) -> tuple[str, str] | None:
    for index, message in enumerate(messages, start=1):
        if message.role not in ROLES:
            role = message.role[:40]
            return "unknown_role", f"message {index}: unknown role '{role}' (use {', '.join(ROLES)})"
        if not message.content.strip():
            return "empty_content", f"message {index} ({message.role}) has empty content"
    return None


def _check_turns(messages: Sequence[Message], purpose: str) -> tuple[str, str] | None:
    if not any(m.role == "user" for m in messages):
        return "invalid_shape", "no user turn: an example needs at least one user message"
    if purpose == "fine-tune" and messages[-1].role != "assistant":
        # Evaluation data may leave the answer out (judge-only grading); training may not.
        return "missing_assistant", "missing assistant turn: the last message must be the answer"
    return None


def _check_example(messages: Sequence[Message], purpose: str) -> tuple[str, str] | None:
    return _check_roles(messages) or _check_turns(messages, purpose)


@dataclass
class _Checker:
    """Accumulates usable examples, problems and token counts over one pass."""

    purpose: str
    count_tokens: TokenCounter | None
    context_length: int | None
    examples: list[list[Message]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)
    kinds: set[str] = field(default_factory=set)
    seen: dict[tuple[tuple[str, str], ...], int] = field(default_factory=dict)
    records: int = 0

    @property
    def estimated(self) -> bool:
        return self.count_tokens is None or self.count_tokens is estimate_tokens

    def add(self, record: Record) -> None:
        self.records += 1
        problem = record.problem or self._check(record)
        if problem is not None:
            self.problems.append(problem)

    def _check(self, record: Record) -> Problem | None:
        found = _check_example(record.messages, self.purpose)
        if found is not None:
            return Problem(record.line, *found)
        tokens = (self.count_tokens or estimate_tokens)(training_text(record.messages))
        if self._too_long(tokens):
            about = "about " if self.estimated else ""
            message = f"too long: {about}{tokens} tokens, the model's context is {self.context_length}"
            return Problem(record.line, "too_long", message)
        key = tuple((m.role, m.content) for m in record.messages)
        if key in self.seen:
            return Problem(record.line, "duplicate", f"duplicate of line {self.seen[key]}")
        self.seen[key] = record.line
        self._keep(record, tokens)
        return None

    def _too_long(self, tokens: int) -> bool:
        if self.count_tokens is None or self.context_length is None:
            return False
        return tokens > self.context_length

    def _keep(self, record: Record, tokens: int) -> None:
        self.examples.append(list(record.messages))
        self.tokens.append(tokens)
        if record.kind:
            self.kinds.add(record.kind)

    def report(self, source: str) -> ValidationReport:
        return ValidationReport(self._format(source), self.examples, self.problems, self._stats())

    def _format(self, source: str) -> str:
        if source == "csv":
            return "csv"
        return next(iter(self.kinds)) if len(self.kinds) == 1 else "jsonl"

    def _stats(self) -> dict[str, Any]:
        tokens = self.tokens
        return {
            "examples": len(self.examples),
            "lines": self.records,
            "dropped": len(self.problems),
            "problems_by_code": dict(Counter(p.code for p in self.problems)),
            "with_answer": sum(1 for e in self.examples if e[-1].role == "assistant"),
            "min_tokens": min(tokens, default=0),
            "mean_tokens": round(sum(tokens) / len(tokens), 1) if tokens else 0,
            "max_tokens": max(tokens, default=0),
            # Tokens one epoch of fine-tuning would process.
            "estimated_training_tokens": sum(tokens),
            "token_counts_estimated": self.estimated,
        }
