"""Fixtures for the fine-tuning engine: a tiny model, chat examples, recording hooks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from modelyard.prompting import Message


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Tiny models gain nothing from threads, and on a busy 2-core box two threads
    spin against other processes (8x slower here); restored for the tests after us."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def conversations(n: int) -> list[list[Message]]:
    """A small structured-output task: the same kind the product promises to learn."""
    names = ("Ada", "Lin", "Omar", "Sofia", "Kenji", "Priya", "Tomas", "Wei", "Amara", "Lars")
    return [
        [
            Message("system", "Answer with JSON."),
            Message("user", f"Who is person {i}?"),
            Message("assistant", f'{{"name": "{names[i % len(names)]}", "id": {i}}}'),
        ]
        for i in range(n)
    ]


@dataclass
class Recorder:
    """TrainHooks that record everything and can stop or crash the run on cue."""

    stop_before_step: dict[int, str] = field(default_factory=dict)  # step -> "pause" | "cancel"
    crash_after_checkpoint: int | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    checkpoints: list[tuple[int, Path, dict[str, Any]]] = field(default_factory=list)
    on_stop_check: Callable[[], None] | None = None
    _next_step: int = 1

    def on_event(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        if "resumed_from_step" in event:
            self._next_step = event["resumed_from_step"] + 1
        elif "train_loss" in event:
            self._next_step = event["step"] + 1

    def on_checkpoint(self, step: int, path: Path, metrics: dict[str, Any]) -> None:
        self.checkpoints.append((step, path, metrics))
        if step == self.crash_after_checkpoint:
            raise KeyboardInterrupt("worker killed")  # not an Exception: nothing may swallow it

    def should_stop(self) -> str | None:
        if self.on_stop_check is not None:
            self.on_stop_check()
        return self.stop_before_step.get(self._next_step)

    @property
    def steps(self) -> list[int]:
        return [e["step"] for e in self.events if "train_loss" in e]
