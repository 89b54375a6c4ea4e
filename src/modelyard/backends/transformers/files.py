"""Which folder a model's weights live in, and whether we are willing to load them.

Torch-free: the sentence-transformers backend reuses these checks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modelyard.errors import BackendUnavailable, InvalidRequest

__all__ = ["PICKLE_SUFFIXES", "PROMPT_FORMATS", "check_weights", "local_folder", "prompt_format"]

PICKLE_SUFFIXES = frozenset({".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle"})
PROMPT_FORMATS = ("default", "chat_template")


def local_folder(source: dict[str, Any]) -> Path:
    """The folder named by ``{"path": ...}``, checked only for shape (it may appear later)."""
    raw = source.get("path")
    if not isinstance(raw, str) or not Path(raw).is_absolute():
        raise InvalidRequest("source.path must be an absolute folder path", param="source")
    return Path(raw)


def prompt_format(source: dict[str, Any]) -> str:
    value = source.get("prompt_format", "default")
    if value not in PROMPT_FORMATS:
        raise InvalidRequest(
            f"source.prompt_format must be one of {', '.join(PROMPT_FORMATS)}", param="source"
        )
    return str(value)


def check_weights(folder: Path, model_id: str) -> None:
    """Refuse folders we cannot load safely; messages name the model, never the path.

    Weights may sit in sub-folders (sentence-transformers modules), so look at the tree.
    """
    if not folder.is_dir():
        raise BackendUnavailable(f"model '{model_id}' has no files on this server")
    files = [p for p in folder.rglob("*") if p.is_file()]
    if any(p.suffix == ".safetensors" for p in files):
        return
    if any(p.suffix in PICKLE_SUFFIXES for p in files):
        # Unpickling runs arbitrary code, so pickle-only checkpoints are never loaded.
        raise InvalidRequest(
            f"model '{model_id}' only has pickle weights; convert them to safetensors",
            param="model",
            code="unsafe_weights",
        )
    raise BackendUnavailable(f"model '{model_id}' has no .safetensors weights")
