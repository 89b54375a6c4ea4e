"""What every metric is: a named plug-in with its own options that grades a batch of outputs.

Metrics are pure with respect to the platform: anything that needs a model (a judge, an
embedding) goes through the async callables the runner puts in :class:`MetricContext`, so a
metric never opens a connection, a session or a file and can be tested with plain fakes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Generic, TypeAlias, TypeVar

from pydantic import BaseModel, ConfigDict

from modelyard.errors import ModelyardError
from modelyard.evals.results import EvalItem, Score

__all__ = [
    "NO_REFERENCE",
    "Case",
    "CaseMetric",
    "EmbedFn",
    "JudgeFn",
    "Metric",
    "MetricConfig",
    "MetricContext",
    "describe_error",
    "reference_text",
]

Case: TypeAlias = tuple[EvalItem, str]
"""One thing to grade: the item the model was asked, and what the model answered."""

JudgeFn: TypeAlias = Callable[[str, list[dict[str, str]]], Awaitable[str]]
"""``judge(model, messages) -> reply text``: a chat completion through the platform, temperature 0."""

EmbedFn: TypeAlias = Callable[[str, list[str]], Awaitable[list[list[float]]]]
"""``embed(model, texts) -> one vector per text``, in order."""

NO_REFERENCE = Score(value=None, detail="ungraded: the item has no reference answer")


async def _no_judge(model: str, messages: list[dict[str, str]]) -> str:
    raise ModelyardError("no judge is available in this context")


async def _no_embed(model: str, texts: list[str]) -> list[list[float]]:
    raise ModelyardError("no embedding model is available in this context")


@dataclass(frozen=True, slots=True)
class MetricContext:
    """The model calls a metric may make, supplied by the caller (the evaluation runner).

    Both default to callables that fail with a clear message, so metrics that need neither can
    be run with a bare ``MetricContext()``.
    """

    judge: JudgeFn = _no_judge
    embed: EmbedFn = _no_embed


class MetricConfig(BaseModel):
    """Base of every metric's options: unknown options are refused rather than ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


ConfigT = TypeVar("ConfigT", bound=MetricConfig)


class Metric(ABC, Generic[ConfigT]):
    """A registered metric. ``name`` is set by ``register_metric``; options arrive validated."""

    name: ClassVar[str] = ""
    config_class: ClassVar[type[MetricConfig]] = MetricConfig
    # Without a reference the metric returns ungraded scores; an instance may change this
    # from its options (``contains`` with its own ``substring`` needs none).
    requires_reference: bool = True

    def __init__(self, config: ConfigT) -> None:
        self.config = config

    @abstractmethod
    async def score(self, cases: Sequence[Case], context: MetricContext) -> list[Score]:
        """One score per case, in order. Never raises for a bad output; says why instead."""


class CaseMetric(Metric[ConfigT]):
    """A metric that grades each case on its own, synchronously, without any model call."""

    async def score(self, cases: Sequence[Case], context: MetricContext) -> list[Score]:
        return [self._grade(item, output) for item, output in cases]

    def _grade(self, item: EvalItem, output: str) -> Score:
        if self.requires_reference and item.reference is None:
            return NO_REFERENCE
        return self.score_one(item, output)

    @abstractmethod
    def score_one(self, item: EvalItem, output: str) -> Score:
        """Grade one output; called only with a reference when ``requires_reference``."""


def reference_text(item: EvalItem) -> str:
    """The reference of an item a :class:`CaseMetric` has already checked has one."""
    return item.reference if item.reference is not None else ""


def describe_error(exc: Exception) -> str:
    """A failed model call, in words fit for a report (platform errors are caller-facing)."""
    if isinstance(exc, ModelyardError):
        return exc.message
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
