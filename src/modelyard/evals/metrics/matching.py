"""String matching metrics: exact match, containment and regular expressions."""

from __future__ import annotations

from typing import Literal

import regex
from pydantic import Field, field_validator

from modelyard.evals.metrics.base import CaseMetric, MetricConfig, reference_text
from modelyard.evals.metrics.registry import register_metric
from modelyard.evals.metrics.text import Normalization, normalize
from modelyard.evals.results import EvalItem, Score

__all__ = ["Contains", "ContainsConfig", "ExactMatch", "ExactMatchConfig", "Regex", "RegexConfig"]

# The pattern is the tenant's and the output a model's; a catastrophic pattern must cost one
# ungraded score, not a worker stuck for hours. The `regex` module can time a match out.
REGEX_TIMEOUT_S = 1.0


class NormalizedConfig(MetricConfig):
    normalize: list[Normalization] = Field(
        default=["strip"],
        description="Applied to both texts before comparing, always in the order lower, "
        "remove_punctuation, collapse_whitespace, strip.",
    )


class ExactMatchConfig(NormalizedConfig):
    pass


@register_metric("exact_match")
class ExactMatch(CaseMetric[ExactMatchConfig]):
    """1 when the output equals the reference after normalisation, else 0."""

    config_class = ExactMatchConfig

    def score_one(self, item: EvalItem, output: str) -> Score:
        steps = self.config.normalize
        return Score(float(normalize(output, steps) == normalize(reference_text(item), steps)))


class ContainsConfig(NormalizedConfig):
    substring: str | None = Field(
        default=None, min_length=1, description="Look for this instead of the item's reference."
    )


@register_metric("contains")
class Contains(CaseMetric[ContainsConfig]):
    """1 when the output contains the reference (or the ``substring`` option), else 0."""

    config_class = ContainsConfig

    def __init__(self, config: ContainsConfig) -> None:
        super().__init__(config)
        self.requires_reference = config.substring is None

    def score_one(self, item: EvalItem, output: str) -> Score:
        wanted = normalize(self.config.substring or reference_text(item), self.config.normalize)
        if not wanted:
            return Score(None, "ungraded: nothing to look for after normalisation")
        return Score(float(wanted in normalize(output, self.config.normalize)))


class RegexConfig(MetricConfig):
    pattern: str = Field(min_length=1, description="A regular expression (Python syntax).")
    mode: Literal["search", "fullmatch"] = Field(
        default="search", description="search: anywhere in the output; fullmatch: the whole output."
    )
    ignore_case: bool = False

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        try:
            regex.compile(pattern, flags=regex.VERSION0)
        except regex.error as exc:
            raise ValueError(f"invalid regular expression: {exc}") from None
        return pattern


@register_metric("regex")
class Regex(CaseMetric[RegexConfig]):
    """1 when the output matches ``pattern`` (anywhere, or whole with ``mode: fullmatch``)."""

    config_class = RegexConfig
    requires_reference = False

    def __init__(self, config: RegexConfig) -> None:
        super().__init__(config)
        flags = regex.VERSION0 | (regex.IGNORECASE if config.ignore_case else 0)
        self._pattern = regex.compile(config.pattern, flags=flags)
        self._match = self._pattern.fullmatch if config.mode == "fullmatch" else self._pattern.search

    def score_one(self, item: EvalItem, output: str) -> Score:
        try:
            found = self._match(output, timeout=REGEX_TIMEOUT_S)
        except TimeoutError:
            return Score(None, f"ungraded: the pattern took over {REGEX_TIMEOUT_S:g}s on this output")
        return Score(float(found is not None))
