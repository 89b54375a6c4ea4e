"""Count tokens with a catalog model's own tokenizer, when that is cheap.

A tokenizer is loaded from a folder already on this server (a registered local model,
or a built-in one that was imported). Anything heavier (importing a built-in model,
asking a remote provider) is not worth it for a validation report: the caller falls
back to the estimate and tells the user why.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from modelyard.datasets import TokenCounter
from modelyard.store import ModelRecord

__all__ = ["ModelTokens", "model_tokens"]

log = logging.getLogger(__name__)

_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model")


@dataclass(frozen=True, slots=True)
class ModelTokens:
    """The model's counter, or None with ``note`` saying why the estimate is used."""

    count: TokenCounter | None
    note: str


def model_tokens(model: ModelRecord, models_dir: Path) -> ModelTokens:
    folder, why_not = _tokenizer_folder(model, models_dir)
    if folder is None:
        return ModelTokens(None, f"{why_not}; token counts are estimates")
    try:
        count = _load_counter(folder)
    except Exception:  # noqa: BLE001 - any library failure only means "use the estimate"
        log.exception("loading the tokenizer of model %s failed", model.id)
        return ModelTokens(
            None, f"the tokenizer of '{model.id}' could not be loaded; token counts are estimates"
        )
    return ModelTokens(count, f"token counts use the tokenizer of '{model.id}'")


def _tokenizer_folder(model: ModelRecord, models_dir: Path) -> tuple[Path | None, str]:
    if model.backend != "transformers":
        return None, f"'{model.id}' has no local tokenizer"
    source = model.source or {}
    if isinstance(source.get("path"), str):
        folder = Path(source["path"])
    elif isinstance(source.get("builtin"), str):
        folder = models_dir / source["builtin"]
    else:
        return None, f"'{model.id}' has no local tokenizer"
    if not any((folder / name).is_file() for name in _TOKENIZER_FILES):
        return None, f"the tokenizer of '{model.id}' is not on this server yet"
    return folder, ""


def _load_counter(folder: Path) -> TokenCounter:
    from transformers import AutoTokenizer

    # Local files only, and never code shipped with the weights.
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True, trust_remote_code=False)

    def count(text: str) -> int:
        # With special tokens: training adds the BOS the tokenizer adds to every prompt.
        return len(tokenizer(text, add_special_tokens=True)["input_ids"])

    return count
