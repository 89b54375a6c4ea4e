"""Inspect a local Hugging Face folder before it enters the catalog.

Only safetensors weights are accepted, and a config that asks for custom code is refused:
loading either would run code the operator did not write.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from math import prod
from pathlib import Path
from typing import Any

from modelyard.errors import InvalidRequest

__all__ = ["FolderFacts", "inspect_folder"]

_PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
_CONTEXT_KEYS = ("max_position_embeddings", "n_positions", "max_seq_len", "seq_length")
# The safetensors format's own cap on its JSON header.
_MAX_HEADER_BYTES = 100 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class FolderFacts:
    parameters: int
    context_length: int | None
    architecture: str | None


def inspect_folder(path: Path) -> FolderFacts:
    if not path.is_absolute() or not path.is_dir():
        raise InvalidRequest("path must be an absolute path to an existing folder", param="path")
    config = _read_config(path)
    weights = sorted(path.glob("*.safetensors"))
    if not weights:
        pickled = [p.name for p in path.iterdir() if p.suffix in _PICKLE_SUFFIXES]
        reason = (
            f"only pickle weights found ({', '.join(sorted(pickled)[:3])}); convert them to safetensors"
            if pickled
            else "no .safetensors weights found"
        )
        raise InvalidRequest(f"refused: {reason}", param="path", code="unsafe_weights")
    return FolderFacts(
        parameters=sum(_count_parameters(w) for w in weights),
        context_length=next((config[k] for k in _CONTEXT_KEYS if isinstance(config.get(k), int)), None),
        architecture=(config.get("architectures") or [None])[0],
    )


def _read_config(path: Path) -> dict:
    config_file = path / "config.json"
    if not config_file.is_file():
        raise InvalidRequest("the folder has no config.json", param="path")
    try:
        config = json.loads(config_file.read_text())
    except (OSError, ValueError) as exc:
        raise InvalidRequest("config.json is not valid JSON", param="path") from exc
    if config.get("auto_map") or config.get("trust_remote_code"):
        raise InvalidRequest(
            "refused: the model needs custom remote code (auto_map); modelyard never runs it",
            param="path",
            code="remote_code_refused",
        )
    return config


def _count_parameters(file: Path) -> int:
    """Read the safetensors header, a length-prefixed JSON table of tensor shapes; anything
    else (a truncated file, a link to some other file) is refused without echoing it."""
    bad = InvalidRequest(f"{file.name} is not a valid safetensors file", param="path", code="invalid_weights")
    try:
        with file.open("rb") as handle:
            prefix = handle.read(8)
            size = struct.unpack("<Q", prefix)[0] if len(prefix) == 8 else -1
            if not 0 < size <= min(_MAX_HEADER_BYTES, file.stat().st_size - 8):
                raise bad
            header = json.loads(handle.read(size))
    except (OSError, ValueError, RecursionError) as exc:
        raise bad from exc
    if not isinstance(header, dict):
        raise bad
    shapes = [_shape(entry) for name, entry in header.items() if name != "__metadata__"]
    if any(shape is None for shape in shapes):
        raise bad
    return sum(prod(shape) for shape in shapes if shape is not None)


def _shape(entry: Any) -> list[int] | None:
    shape = entry.get("shape") if isinstance(entry, dict) else None
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        return None
    return shape
