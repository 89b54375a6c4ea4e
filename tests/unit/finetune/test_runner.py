"""The training run on a tiny model: learning, events, checkpoints, pause, cancel, resume."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from modelyard.errors import InvalidRequest, ModelyardError
from modelyard.finetune import TrainSpec, resolve
from modelyard.finetune.runner import TrainResult, train
from modelyard.finetune.spec import ResolvedSpec
from tests.unit.finetune.conftest import Recorder, conversations

TRAIN = conversations(8)
VALIDATION = conversations(10)[8:]
# 8 examples in batches of 2 for 8 epochs: 32 steps; dropout on, so resuming must
# also replay the random masks.
SPEC = resolve(
    TrainSpec(
        n_epochs=8,
        batch_size=2,
        learning_rate_multiplier=25,
        r=8,
        alpha=16,
        dropout=0.1,
        seed=7,
        checkpoint_every_steps=5,
    ),
    len(TRAIN),
)
EVENT_KEYS = {"step", "epoch", "train_loss", "tokens_per_s", "eta_s", "total_steps"}


@dataclass
class Run:
    result: TrainResult
    hooks: Recorder
    work_dir: Path


def run_training(
    model_dir: Path, work_dir: Path, hooks: Recorder | None = None, spec: ResolvedSpec = SPEC
) -> Run:
    hooks = hooks or Recorder()
    result = train(
        spec, base_model_dir=model_dir, train=TRAIN, validation=VALIDATION, work_dir=work_dir, hooks=hooks
    )
    return Run(result, hooks, work_dir)


@pytest.fixture(scope="module")
def reference(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """One uninterrupted run that the other tests compare against."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # module scope: the autouse fixture has not run yet
    try:
        return run_training(tiny_model_dir, tmp_path_factory.mktemp("reference"))
    finally:
        torch.set_num_threads(threads)


def adapter_tensors(folder: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    return load_file(folder / "adapter_model.safetensors")


def assert_same_adapter(a: Path, b: Path) -> None:
    import torch

    first, second = adapter_tensors(a), adapter_tensors(b)
    assert first.keys() == second.keys()
    for name in first:
        # Bitwise: the resumed run replays the same batches, masks and optimizer state.
        assert torch.equal(first[name], second[name]), name


def test_loss_goes_down_on_a_tiny_memorisation_task(reference: Run) -> None:
    result, events = reference.result, reference.hooks.events
    assert result.status == "succeeded"
    assert (result.steps, result.total_steps) == (32, 32)
    assert reference.hooks.steps == list(range(1, 33))
    first_loss = events[0]["train_loss"]
    assert result.train_loss is not None and result.train_loss < first_loss - 0.5
    val_losses = [e["val_loss"] for e in events if "val_loss" in e]
    assert val_losses[-1] < val_losses[0]
    assert events[-1]["train_mean_token_accuracy"] > events[0]["train_mean_token_accuracy"]


def test_every_step_reports_progress(reference: Run) -> None:
    step_events = [e for e in reference.hooks.events if "train_loss" in e]
    for event in step_events:
        assert EVENT_KEYS <= event.keys()
        assert event["tokens_per_s"] > 0 and event["eta_s"] >= 0
    assert step_events[-1]["eta_s"] == 0
    assert [e["epoch"] for e in step_events[:5]] == [1, 1, 1, 1, 2]
    assert step_events[-1]["trained_tokens"] == reference.result.trained_tokens


def test_checkpoints_every_n_steps_and_every_epoch_with_validation(reference: Run) -> None:
    steps = [step for step, _, _ in reference.hooks.checkpoints]
    assert steps == [4, 5, 8, 10, 12, 15, 16, 20, 24, 25, 28, 30, 32]
    for step, path, metrics in reference.hooks.checkpoints:
        assert path == reference.work_dir / "checkpoints" / f"step-{step:06d}"
        assert metrics["step"] == step
        assert metrics["full_valid_loss"] > 0 and 0 <= metrics["full_valid_mean_token_accuracy"] <= 1
    checkpoint_events = [e for e in reference.hooks.events if "val_loss" in e]
    assert [e["step"] for e in checkpoint_events] == steps
    assert reference.result.val_loss == reference.hooks.checkpoints[-1][2]["full_valid_loss"]


def test_trained_tokens_count_every_real_token_of_every_epoch(reference: Run, tiny_model_dir: Path) -> None:
    from transformers import AutoTokenizer

    from modelyard.finetune.data import encode_examples

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir, local_files_only=True)
    encoded = encode_examples(tokenizer, TRAIN, SPEC.max_seq_length)
    assert reference.result.trained_tokens == encoded.n_tokens * SPEC.n_epochs


def test_checkpoints_and_adapter_hold_only_safetensors_and_json(reference: Run) -> None:
    from safetensors import safe_open

    files = [p for p in reference.work_dir.rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert path.suffix in {".safetensors", ".json"}, path
        head = path.read_bytes()[:2]
        assert head[:1] != b"\x80" and head != b"PK", f"{path} looks like a pickle or a torch.save zip"
        if path.suffix == ".safetensors":
            with safe_open(str(path), framework="pt") as opened:
                assert list(opened.keys())


def test_checkpoint_folders_are_complete(reference: Run) -> None:
    checkpoints = reference.work_dir / "checkpoints"
    names = sorted(p.name for p in checkpoints.iterdir())
    assert all(name.startswith("step-") for name in names)  # no temporary left behind
    for name in names:
        assert sorted(p.name for p in (checkpoints / name).iterdir()) == [
            "adapter_config.json",
            "adapter_model.safetensors",
            "optimizer.safetensors",
            "trainer_state.json",
        ]


def test_the_final_adapter_loads_with_peft(reference: Run, tiny_model_dir: Path) -> None:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    assert reference.result.adapter_dir == reference.work_dir / "adapter"
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir, local_files_only=True, use_safetensors=True)
    tuned = PeftModel.from_pretrained(base, reference.result.adapter_dir)
    lora_b = [p for n, p in tuned.named_parameters() if "lora_B" in n]
    assert lora_b and all(torch.count_nonzero(p) > 0 for p in lora_b)  # B starts at zero
    assert_same_adapter(reference.result.adapter_dir, reference.work_dir / "checkpoints" / "step-000032")


def test_a_killed_run_resumes_after_its_checkpoint_and_ends_identical(
    reference: Run, tiny_model_dir: Path, tmp_path: Path
) -> None:
    with pytest.raises(KeyboardInterrupt):
        run_training(tiny_model_dir, tmp_path, Recorder(crash_after_checkpoint=5))
    resumed = run_training(tiny_model_dir, tmp_path)
    assert resumed.hooks.events[0]["resumed_from_step"] == 5
    assert resumed.hooks.steps == list(range(6, 33))
    assert resumed.result.resumed_from_step == 5
    assert resumed.result.trained_tokens == reference.result.trained_tokens
    assert resumed.result.train_loss == pytest.approx(reference.result.train_loss)
    assert_same_adapter(resumed.result.adapter_dir, reference.result.adapter_dir)


def test_pause_writes_a_checkpoint_and_resume_continues_identically(
    reference: Run, tiny_model_dir: Path, tmp_path: Path
) -> None:
    paused = run_training(tiny_model_dir, tmp_path, Recorder(stop_before_step={7: "pause"}))
    assert paused.result.status == "paused" and paused.result.adapter_dir is None
    assert paused.result.steps == 6
    assert paused.hooks.checkpoints[-1][0] == 6
    assert (tmp_path / "checkpoints" / "step-000006").is_dir()
    assert not (tmp_path / "adapter").exists()

    resumed = run_training(tiny_model_dir, tmp_path)
    assert resumed.hooks.steps[0] == 7
    assert resumed.result.trained_tokens == reference.result.trained_tokens
    assert_same_adapter(resumed.result.adapter_dir, reference.result.adapter_dir)


def test_cancel_stops_at_once_without_an_adapter(tiny_model_dir: Path, tmp_path: Path) -> None:
    cancelled = run_training(tiny_model_dir, tmp_path, Recorder(stop_before_step={3: "cancel"}))
    assert cancelled.result.status == "cancelled"
    assert cancelled.result.adapter_dir is None
    assert cancelled.hooks.steps == [1, 2]
    assert not (tmp_path / "adapter").exists()
    assert cancelled.hooks.checkpoints == []


def test_a_crash_while_writing_leaves_no_checkpoint(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelyard.finetune import checkpoints

    def broken(optimizer: Any, folder: Path) -> dict[str, Any]:
        (folder / "optimizer.safetensors").write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(checkpoints, "save_optimizer", broken)
    with pytest.raises(OSError, match="disk full"):
        run_training(tiny_model_dir, tmp_path)
    assert list((tmp_path / "checkpoints").iterdir()) == []


def test_leftovers_of_an_interrupted_write_are_ignored_and_removed(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    checkpoints = tmp_path / "checkpoints"
    (checkpoints / ".tmp-step-000004-deadbeef").mkdir(parents=True)
    (checkpoints / ".tmp-step-000004-deadbeef" / "adapter_config.json").write_text("{}")
    (checkpoints / "step-000099").mkdir()  # no files: not a complete checkpoint
    run = run_training(tiny_model_dir, tmp_path, Recorder(stop_before_step={2: "cancel"}))
    assert run.hooks.steps == [1]
    assert not any("resumed_from_step" in e for e in run.hooks.events)
    assert not (checkpoints / ".tmp-step-000004-deadbeef").exists()


def test_checkpoints_of_another_run_are_not_resumed(
    reference: Run, tiny_model_dir: Path, tmp_path: Path
) -> None:
    shutil.copytree(reference.work_dir / "checkpoints", tmp_path / "checkpoints")
    other_seed = resolve(TrainSpec(**{**_spec_fields(), "seed": 8}), len(TRAIN))
    with pytest.raises(ModelyardError, match="different training run"):
        run_training(tiny_model_dir, tmp_path, spec=other_seed)


def test_unknown_target_modules_are_an_invalid_request(tiny_model_dir: Path, tmp_path: Path) -> None:
    spec = resolve(TrainSpec(target_modules=("no_such_proj",)), len(TRAIN))
    with pytest.raises(InvalidRequest) as caught:
        run_training(tiny_model_dir, tmp_path, spec=spec)
    assert caught.value.param == "method.lora.target_modules"
    assert "q_proj" in caught.value.message


def _spec_fields() -> dict[str, Any]:
    return {
        "n_epochs": SPEC.n_epochs,
        "batch_size": SPEC.batch_size,
        "learning_rate_multiplier": SPEC.learning_rate_multiplier,
        "r": SPEC.r,
        "alpha": SPEC.alpha,
        "dropout": SPEC.dropout,
        "checkpoint_every_steps": SPEC.checkpoint_every_steps,
    }
