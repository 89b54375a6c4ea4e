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

from modelyard.errors import InvalidRequest

__all__ = ["FolderFacts", "inspect_folder"]

_PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
_CONTEXT_KEYS = ("max_position_embeddings", "n_positions", "max_seq_len", "seq_length")


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
    # The safetensors header is a length-prefixed JSON table of tensor shapes.
    with file.open("rb") as handle:
        (size,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(size))
    return sum(prod(t["shape"]) for name, t in header.items() if name != "__metadata__")
