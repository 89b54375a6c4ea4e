"""Whether a chat model continues text (base) or answers instructions (instruct).

The console leads a new user to an instruction-tuned model first and tells them what a
base model is good for, so the card says which is which. Decided from what the catalog
knows, in this order:

- embedding task: "embedding";
- a fine-tune (lineage or an ``ft:`` id): "instruct" — it was trained on the tenant's
  chat examples, and the tenant chats with it in that format;
- tagged ``base-model``: "base";
- tagged ``instruct``, ``instruction-tuned`` or ``chat``, served through an OpenAI-compatible
  provider (whose chat endpoint answers), or prompted with the model's own chat template:
  "instruct";
- anything else: "base" — an untagged local folder may be either, and calling it a base
  model only makes the console offer completion mode too, never hide the chat.
"""

from __future__ import annotations

from modelyard.catalog.schemas import ModelKind
from modelyard.store import ModelRecord

__all__ = ["BASE_TAG", "card_tags", "is_fine_tune", "kind_of"]

BASE_TAG = "base-model"
_INSTRUCT_TAGS = frozenset({"instruct", "instruction-tuned", "chat"})


def is_fine_tune(record: ModelRecord) -> bool:
    return bool(record.lineage) or record.id.startswith("ft:")


def kind_of(record: ModelRecord) -> ModelKind:
    if record.task == "embedding":
        return "embedding"
    if is_fine_tune(record):
        return "instruct"
    tags = set(record.tags or ())
    if BASE_TAG in tags:
        return "base"
    chat_template = (record.source or {}).get("prompt_format") == "chat_template"
    if tags & _INSTRUCT_TAGS or record.backend == "openai-compatible" or chat_template:
        return "instruct"
    return "base"


def card_tags(record: ModelRecord) -> list[str]:
    """A fine-tune inherited its base's tags when it was published; "base-model" is not
    true of it (older records still carry it, so it is dropped here, not only at publish)."""
    tags = list(record.tags or ())
    return [t for t in tags if t != BASE_TAG] if is_fine_tune(record) else tags
