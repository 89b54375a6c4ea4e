"""Checkpoints on disk: each one complete under its final name, or absent.

A checkpoint is a folder ``step-000040/`` holding only safetensors and JSON:

- ``adapter_model.safetensors`` + ``adapter_config.json``: the LoRA weights, in the
  layout ``PeftModel.from_pretrained`` reads;
- ``optimizer.safetensors``: AdamW's per-parameter tensors;
- ``trainer_state.json``: every scalar a resume needs (step, position, trained tokens,
  AdamW's param groups, the seed the per-step RNG is drawn from).

It is written into a hidden temporary folder beside its final place, every file and the
folder fsynced, then renamed: a crash leaves a ``.tmp-*`` folder that readers ignore and
the next run removes, never a half-written ``step-*``. Nothing is ever pickled, so
loading a checkpoint cannot run code.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

__all__ = [
    "ADAPTER_CONFIG",
    "ADAPTER_WEIGHTS",
    "OPTIMIZER_FILE",
    "STATE_FILE",
    "Checkpoint",
    "checkpoint_dir",
    "latest_checkpoint",
    "load_adapter",
    "load_optimizer",
    "prune_checkpoints",
    "read_json",
    "remove_temporaries",
    "save_adapter",
    "save_optimizer",
    "write_atomically",
    "write_json",
]

ADAPTER_WEIGHTS = "adapter_model.safetensors"
ADAPTER_CONFIG = "adapter_config.json"
OPTIMIZER_FILE = "optimizer.safetensors"
STATE_FILE = "trainer_state.json"
_COMPLETE = (ADAPTER_WEIGHTS, ADAPTER_CONFIG, OPTIMIZER_FILE, STATE_FILE)
_NAME = re.compile(r"^step-(\d{6,})$")
_TEMP_PREFIX = ".tmp-"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    step: int
    path: Path


def checkpoint_dir(root: Path, step: int) -> Path:
    return root / f"step-{step:06d}"


def latest_checkpoint(root: Path) -> Checkpoint | None:
    """The complete checkpoint with the highest step, ignoring anything else in ``root``."""
    return max(_complete(root), key=lambda c: c.step, default=None)


def _complete(root: Path) -> list[Checkpoint]:
    found: list[Checkpoint] = []
    for entry in root.iterdir() if root.is_dir() else ():
        match = _NAME.match(entry.name)
        if match and entry.is_dir() and all((entry / name).is_file() for name in _COMPLETE):
            found.append(Checkpoint(int(match.group(1)), entry))
    return found


def prune_checkpoints(root: Path, *, keep: int) -> list[int]:
    """Delete all but the ``keep`` newest complete checkpoints; return the steps deleted.

    The newest is always kept (a resume needs it); incomplete folders are left to
    ``remove_temporaries`` and the resume logic, which ignore them.
    """
    complete = sorted(_complete(root), key=lambda c: c.step, reverse=True)
    removed = complete[max(keep, 1) :]
    for checkpoint in removed:
        shutil.rmtree(checkpoint.path, ignore_errors=True)
    return sorted(c.step for c in removed)


def remove_temporaries(root: Path) -> None:
    """Delete what an interrupted write left behind (ours: only ``.tmp-*`` folders)."""
    for entry in root.iterdir() if root.is_dir() else ():
        if entry.name.startswith(_TEMP_PREFIX) and entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)


def write_atomically(final: Path, fill: Callable[[Path], None], *, replace: bool = False) -> Path:
    """Let ``fill`` write a folder, then make it appear at ``final`` in one rename.

    An existing ``final`` is kept unless ``replace``: a checkpoint of a step is the
    same whoever wrote it, since runs are deterministic.
    """
    if final.exists() and not replace:
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    temporary = final.parent / f"{_TEMP_PREFIX}{final.name}-{uuid.uuid4().hex[:8]}"
    temporary.mkdir()
    try:
        fill(temporary)
        _fsync_folder(temporary)
        if final.exists():
            # rename() cannot replace a non-empty folder: move the old one aside first.
            old = final.parent / f"{_TEMP_PREFIX}old-{final.name}-{uuid.uuid4().hex[:8]}"
            os.rename(final, old)
            os.rename(temporary, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(temporary, final)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    _fsync(final.parent)
    return final


def _fsync_folder(folder: Path) -> None:
    for path in folder.iterdir():
        _fsync(path)
    _fsync(folder)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def read_json(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path.name} does not hold a JSON object")
    return data


# -- adapter ---------------------------------------------------------------------------
def save_adapter(model: Any, folder: Path) -> None:
    """The LoRA weights and config, as ``PeftModel.save_pretrained`` lays them out.

    Written by hand because ``save_pretrained`` also writes a README model card, and a
    checkpoint holds only safetensors and JSON.
    """
    from peft import get_peft_model_state_dict
    from safetensors.torch import save_file

    weights = {k: v.detach().contiguous() for k, v in get_peft_model_state_dict(model).items()}
    save_file(weights, folder / ADAPTER_WEIGHTS, metadata={"format": "pt"})
    config = copy.copy(model.peft_config["default"])
    config.inference_mode = True  # what save_pretrained records: a saved adapter serves
    config.save_pretrained(str(folder))


def load_adapter(model: Any, folder: Path) -> None:
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    outcome = set_peft_model_state_dict(model, load_file(folder / ADAPTER_WEIGHTS))
    if outcome.unexpected_keys:
        raise ValueError(f"the checkpoint's adapter does not fit the model: {outcome.unexpected_keys[:3]}")


# -- optimizer -------------------------------------------------------------------------
def save_optimizer(optimizer: torch.optim.Optimizer, folder: Path) -> dict[str, Any]:
    """Write the optimizer's tensors; return its scalars for the JSON state file."""
    import torch
    from safetensors.torch import save_file

    state_dict = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, Any] = {}
    for index, values in state_dict["state"].items():
        for name, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"state.{index}.{name}"] = value.detach().contiguous()
            else:
                scalars[f"{index}.{name}"] = value
    save_file(tensors, folder / OPTIMIZER_FILE)
    return {"param_groups": state_dict["param_groups"], "state_scalars": scalars}


def load_optimizer(optimizer: torch.optim.Optimizer, folder: Path, saved: dict[str, Any]) -> None:
    from safetensors.torch import load_file

    state: dict[int, dict[str, Any]] = {}
    for key, tensor in load_file(folder / OPTIMIZER_FILE).items():
        _, index, name = key.split(".", 2)
        state.setdefault(int(index), {})[name] = tensor
    for key, value in saved["state_scalars"].items():
        index, name = key.split(".", 1)
        state.setdefault(int(index), {})[name] = value
    groups = [dict(g) for g in saved["param_groups"]]
    for group in groups:
        if "betas" in group:
            group["betas"] = tuple(group["betas"])  # JSON turned the tuple into a list
    optimizer.load_state_dict({"state": state, "param_groups": groups})
