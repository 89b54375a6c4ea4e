"""Structured output metrics: does the output parse as JSON, and do its fields match."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import Field

from modelyard.evals.metrics.base import CaseMetric, MetricConfig, reference_text
from modelyard.evals.metrics.registry import register_metric
from modelyard.evals.results import EvalItem, Score

__all__ = ["JsonMatch", "JsonMatchConfig", "JsonValid", "JsonValidConfig", "flatten", "json_equal"]

# Chat models like to wrap JSON in a Markdown fence (```json ... ```), prose or not.
_FENCE = re.compile(r"^\s*```[\w-]*[ \t]*\n?(.*?)\n?[ \t]*```\s*$", re.DOTALL)
_MAX_LISTED = 10  # mismatched fields named in a detail before "and N more"


def strip_code_fences(text: str) -> str:
    fenced = _FENCE.match(text)
    return fenced.group(1) if fenced else text


def _parse(text: str, strip_fences: bool) -> Any:
    return json.loads(strip_code_fences(text) if strip_fences else text)


class JsonValidConfig(MetricConfig):
    strip_code_fences: bool = Field(default=True, description="Accept JSON wrapped in a ``` fence.")


@register_metric("json_valid")
class JsonValid(CaseMetric[JsonValidConfig]):
    """1 when the output parses as JSON, else 0 with the parser's complaint."""

    config_class = JsonValidConfig
    requires_reference = False

    def score_one(self, item: EvalItem, output: str) -> Score:
        try:
            _parse(output, self.config.strip_code_fences)
        except json.JSONDecodeError as exc:
            return Score(0.0, f"not valid JSON: {exc}")
        return Score(1.0)


class JsonMatchConfig(MetricConfig):
    deep: bool = Field(
        default=False,
        description="Compare every nested leaf (paths like 'a.b.0') instead of top-level fields.",
    )
    strip_code_fences: bool = Field(default=True, description="Accept JSON wrapped in a ``` fence.")


@register_metric("json_match")
class JsonMatch(CaseMetric[JsonMatchConfig]):
    """Fraction of the reference JSON's fields whose values the output's JSON equals.

    Fields are the reference's top-level keys, or with ``deep`` its flattened leaves. Extra
    fields in the output are not penalised. Values compare as JSON: 1 equals 1.0, true does not
    equal 1. A reference that is not an object counts as one field, the whole value.
    """

    config_class = JsonMatchConfig

    def score_one(self, item: EvalItem, output: str) -> Score:
        try:
            expected = json.loads(reference_text(item))
        except json.JSONDecodeError as exc:
            return Score(None, f"ungraded: the reference is not valid JSON: {exc}")
        try:
            actual = _parse(output, self.config.strip_code_fences)
        except json.JSONDecodeError as exc:
            return Score(0.0, f"output is not valid JSON: {exc}")
        return self._compare(expected, actual)

    def _compare(self, expected: Any, actual: Any) -> Score:
        wanted, got = self._fields(expected), self._fields(actual)
        if not wanted:  # {} or []: nothing to count, so the whole value decides
            return Score(float(json_equal(expected, actual)))
        missing = [path for path in wanted if path not in got]
        wrong = [path for path in wanted if path in got and not json_equal(wanted[path], got[path])]
        matched = len(wanted) - len(missing) - len(wrong)
        return Score(matched / len(wanted), _mismatch_detail(wrong, missing))

    def _fields(self, value: Any) -> dict[str, Any]:
        if self.config.deep:
            return flatten(value)
        return dict(value) if isinstance(value, dict) else {"$": value}


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Leaves of a JSON value by dotted path; empty objects and arrays are leaves themselves."""
    children: dict[str, Any] = {}
    if isinstance(value, dict):
        children = {str(key): child for key, child in value.items()}
    elif isinstance(value, list):
        children = {str(index): child for index, child in enumerate(value)}
    if not children:
        return {prefix or "$": value}
    flat: dict[str, Any] = {}
    for key, child in children.items():
        flat.update(flatten(child, f"{prefix}.{key}" if prefix else key))
    return flat


def json_equal(a: Any, b: Any) -> bool:
    """Equality of parsed JSON values, without Python's ``True == 1``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[key], b[key]) for key in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b


def _mismatch_detail(wrong: list[str], missing: list[str]) -> str | None:
    labelled = (("differ", wrong), ("missing", missing))
    parts = [f"{label}: {_listing(paths)}" for label, paths in labelled if paths]
    return "; ".join(parts) or None


def _listing(paths: list[str]) -> str:
    shown = ", ".join(paths[:_MAX_LISTED])
    return shown if len(paths) <= _MAX_LISTED else f"{shown} and {len(paths) - _MAX_LISTED} more"
