"""Turns a file's examples into evaluation items: the question, and the reference answer."""

from __future__ import annotations

from collections.abc import Sequence

from modelyard.evals.results import EvalItem
from modelyard.prompting import Message

__all__ = ["to_items"]


def _as_text(messages: Sequence[Message]) -> str:
    return "\n".join(f"{m.role}: {m.content}" for m in messages)


def to_items(examples: Sequence[Sequence[Message]]) -> list[EvalItem]:
    """A final assistant turn is the reference; without one the item is judge-only."""
    items = []
    for index, example in enumerate(examples):
        has_answer = bool(example) and example[-1].role == "assistant"
        question = list(example[:-1]) if has_answer else list(example)
        items.append(
            EvalItem(
                index=index,
                prompt=_as_text(question),
                messages=[{"role": m.role, "content": m.content} for m in question],
                reference=example[-1].content if has_answer else None,
            )
        )
    return items
