"""A job keeps only its newest checkpoints on disk; the newest one always survives."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.finetune import checkpoints as ckpt


def _complete(root: Path, step: int) -> Path:
    folder = ckpt.checkpoint_dir(root, step)
    folder.mkdir(parents=True)
    for name in (ckpt.ADAPTER_WEIGHTS, ckpt.ADAPTER_CONFIG, ckpt.OPTIMIZER_FILE, ckpt.STATE_FILE):
        (folder / name).write_text("{}")
    return folder


def test_keeps_the_newest_and_reports_what_went(tmp_path: Path) -> None:
    for step in (10, 2, 40, 30, 20):
        _complete(tmp_path, step)
    half_written = ckpt.checkpoint_dir(tmp_path, 50)
    half_written.mkdir()  # incomplete: not counted, not touched (resume ignores it)
    assert ckpt.prune_checkpoints(tmp_path, keep=2) == [2, 10, 20]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["step-000030", "step-000040", "step-000050"]
    assert ckpt.latest_checkpoint(tmp_path).step == 40
    assert ckpt.prune_checkpoints(tmp_path, keep=2) == []  # nothing more to do


@pytest.mark.parametrize("keep", [0, -1])
def test_the_newest_is_never_deleted(tmp_path: Path, keep: int) -> None:
    for step in (1, 2):
        _complete(tmp_path, step)
    assert ckpt.prune_checkpoints(tmp_path, keep=keep) == [1]
    assert ckpt.latest_checkpoint(tmp_path).step == 2


def test_a_missing_folder_is_nothing_to_prune(tmp_path: Path) -> None:
    assert ckpt.prune_checkpoints(tmp_path / "none", keep=3) == []
