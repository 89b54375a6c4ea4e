"""Reading a judge model's verdict and putting it on a 0-1 scale.

Judges are asked for ``{"score": ..., "reason": "..."}`` but small models wander: they wrap the
JSON in prose or a code fence, write ``Score: 4``, or just ``PASS``. Each form is tried in that
order; anything else, or a score outside the scale, is :class:`Ungraded` with the reason.
"""

from __future__ import annotations

import json
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["SCALES", "JudgeScale", "ScaleName", "Ungraded", "Verdict", "parse_verdict"]

ScaleName = Literal["pass_fail", "1-5", "0-10"]

_SCORE_KEYS = ("score", "verdict")
_REASON_KEYS = ("reason", "explanation", "rationale")
# "Score: 4", "**Score**: 4/5", "verdict = pass"
_SCORE_LINE = re.compile(
    r"\b(?:score|verdict)\W{0,4}?[:=]\W{0,3}?(pass|fail|[-+]?\d+(?:\.\d+)?)", re.IGNORECASE
)
_SHOUTED = re.compile(r"\b(PASS|FAIL)\b")
_NUMBER = re.compile(r"\s*([-+]?\d+(?:\.\d+)?)\s*(?:/\s*\d+\s*)?")
_MAX_SCAN = 20_000  # a judge reply is a few hundred tokens; this bounds the JSON scan
_SNIPPET = 120


class Ungraded(Exception):
    """The judge's reply cannot be turned into a score; the message says why."""


@dataclass(frozen=True, slots=True)
class Verdict:
    raw: Any  # the score as the judge wrote it: a number, "pass", "4", true...
    reason: str | None


def parse_verdict(reply: str) -> Verdict:
    text = reply[:_MAX_SCAN]
    for candidate in _json_objects(text):
        key = next((k for k in candidate if str(k).lower() in _SCORE_KEYS), None)
        if key is not None:
            return Verdict(candidate[key], _reason(candidate))
    line = _SCORE_LINE.search(text)
    if line:
        return Verdict(line.group(1), _excerpt(text))
    bare = _bare_pass_fail(text)
    if bare:
        return Verdict(bare, _excerpt(text))
    raise Ungraded(f"no score found in the judge's reply: {_excerpt(text, _SNIPPET)!r}")


def _json_objects(text: str) -> Iterator[dict[str, Any]]:
    """Every JSON object in the text, left to right, wherever it sits."""
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start != -1:
        try:
            value, end = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            start = text.find("{", start + 1)
            continue
        if isinstance(value, dict):
            yield value
        start = text.find("{", end)


def _reason(candidate: dict[str, Any]) -> str | None:
    reason = next((candidate[k] for k in candidate if str(k).lower() in _REASON_KEYS), None)
    if reason is None:
        return None
    return str(reason).strip() or None


def _bare_pass_fail(text: str) -> str | None:
    # A reply that is only the word, in any case; else PASS or FAIL shouted once (never both),
    # because "pass" in lower case is too common in prose to be a verdict.
    word = re.sub(r"[\W_]+", "", text).lower()
    if word in ("pass", "fail"):
        return word
    shouted = set(_SHOUTED.findall(text))
    return shouted.pop().lower() if len(shouted) == 1 else None


def _excerpt(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class JudgeScale(ABC):
    """How a scale is explained to the judge and how its answers map onto [0, 1]."""

    @abstractmethod
    def instruction(self) -> str:
        """The sentence telling the judge what a score is, and the JSON to reply with."""

    @abstractmethod
    def normalise(self, raw: Any) -> float:
        """The score in [0, 1]; raises :class:`Ungraded` when ``raw`` is not on the scale."""


class PassFail(JudgeScale):
    _WORDS = {"pass": 1.0, "fail": 0.0, "passed": 1.0, "failed": 0.0}

    def instruction(self) -> str:
        return (
            'The score is "pass" if the answer meets the rubric, otherwise "fail". Reply with only '
            '{"score": "pass" or "fail", "reason": "<one sentence>"}'
        )

    def normalise(self, raw: Any) -> float:
        if isinstance(raw, bool):
            return float(raw)
        word = raw.strip().lower() if isinstance(raw, str) else None
        if word in self._WORDS:
            return self._WORDS[word]
        if isinstance(raw, int | float) and raw in (0, 1):
            return float(raw)
        raise Ungraded(f"expected pass or fail, got {raw!r}")


class NumericScale(JudgeScale):
    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high

    def instruction(self) -> str:
        return (
            f"The score is a whole number from {self.low} (does not meet the rubric at all) to "
            f'{self.high} (meets it fully). Reply with only {{"score": <{self.low}-{self.high}>, '
            '"reason": "<one sentence>"}'
        )

    def normalise(self, raw: Any) -> float:
        value = _number(raw)
        if value is None:
            raise Ungraded(f"expected a number from {self.low} to {self.high}, got {raw!r}")
        if not (math.isfinite(value) and self.low <= value <= self.high):
            raise Ungraded(f"score {raw!r} is outside {self.low}-{self.high}")
        return (value - self.low) / (self.high - self.low)


def _number(raw: Any) -> float | None:
    if isinstance(raw, bool):  # JSON true is not 1 here
        return None
    if isinstance(raw, int | float):
        return float(raw)
    match = _NUMBER.fullmatch(raw) if isinstance(raw, str) else None
    return float(match.group(1)) if match else None


SCALES: dict[ScaleName, JudgeScale] = {
    "pass_fail": PassFail(),
    "1-5": NumericScale(1, 5),
    "0-10": NumericScale(0, 10),
}
