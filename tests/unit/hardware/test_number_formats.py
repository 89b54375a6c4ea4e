"""`auto` number formats: the decision given measured figures, and the per-machine cache."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest
from pydantic import ValidationError

from modelyard.config import Settings
from modelyard.hardware import CpuIdentity, NumberFormats, choose
from modelyard.hardware.choice import MARGIN

KINDS = ("decode", "batched_decode", "prefill", "train")
IDENTITY = CpuIdentity(
    model="AMD EPYC 7B13",
    flags=("avx", "avx2", "fma"),
    torch_version="2.13.0+cpu",
    torch_capability="AVX2",
    threads=2,
)


def figures(fp32: dict[str, float], bf16: dict[str, float]) -> dict[str, dict[str, float]]:
    return {kind: {"float32": fp32[kind], "bfloat16": bf16[kind]} for kind in KINDS}


def same(value: float) -> dict[str, float]:
    return dict.fromkeys(KINDS, value)


# -- the decision ------------------------------------------------------------------------------
def test_native_bf16_everything_faster_picks_bf16_for_serving_and_training() -> None:
    choice = choose(figures(same(1.0), same(0.5)))
    assert (choice.serve, choice.batch, choice.train) == ("bfloat16", "bfloat16", "bfloat16")
    assert set(choice.fastest.values()) == {"bfloat16"}


def test_emulated_bf16_picks_float32_everywhere() -> None:
    choice = choose(figures(same(1.0), same(86.0)))
    assert (choice.serve, choice.batch, choice.train) == ("float32", "float32", "float32")
    assert set(choice.fastest.values()) == {"float32"}


def test_avx2_shape_decode_in_bf16_and_training_in_float32() -> None:
    """The outcome measured on an AVX2-only CPU: bf16 wins matrix-vector decoding (memory
    bound) and loses every matrix-matrix kind; a request is mostly decode steps."""
    fp32 = {"decode": 0.100, "batched_decode": 0.150, "prefill": 0.003, "train": 0.023}
    bf16 = {"decode": 0.036, "batched_decode": 0.225, "prefill": 0.010, "train": 0.650}
    choice = choose(figures(fp32, bf16))
    assert choice.fastest == {
        "decode": "bfloat16",
        "batched_decode": "float32",
        "prefill": "float32",
        "train": "float32",
    }
    assert choice.train == "float32"
    assert choice.serve == "bfloat16"
    assert choice.request_seconds["bfloat16"] < choice.request_seconds["float32"]
    assert "bfloat16" in choice.serve_reason and "faster" in choice.serve_reason
    # Evaluation items come in batches with their prompts: prefill and batched steps decide.
    assert choice.batch == "float32"
    assert choice.batch_seconds["float32"] < choice.batch_seconds["bfloat16"]
    assert "float32" in choice.batch_reason


def test_serving_follows_the_request_time_not_the_majority_of_kinds() -> None:
    """Decode faster in bf16, but prompts so slow in bf16 that a whole request is slower."""
    fp32 = {"decode": 0.100, "batched_decode": 0.150, "prefill": 0.003, "train": 0.023}
    bf16 = {"decode": 0.090, "batched_decode": 0.140, "prefill": 0.500, "train": 0.020}
    choice = choose(figures(fp32, bf16))
    assert choice.fastest["decode"] == "bfloat16"
    assert choice.serve == "float32"
    assert choice.request_seconds["float32"] < choice.request_seconds["bfloat16"]


@pytest.mark.parametrize(
    ("bf16_seconds", "expected"),
    [(1.0 / MARGIN + 0.01, "float32"), (1.0 / MARGIN - 0.01, "bfloat16"), (1.0, "float32")],
)
def test_a_close_call_goes_to_the_exact_format(bf16_seconds: float, expected: str) -> None:
    choice = choose(figures(same(1.0), same(bf16_seconds)))
    assert choice.train == expected
    assert choice.serve == expected


def test_missing_figures_are_refused() -> None:
    incomplete = figures(same(1.0), same(1.0))
    del incomplete["train"]
    with pytest.raises(ValueError, match="train"):
        choose(incomplete)


# -- the resolver and its cache ------------------------------------------------------------------
class Probe:
    """Stands in for the micro-benchmarks and counts how often the machine is measured."""

    def __init__(self, result: dict[str, dict[str, float]]) -> None:
        self.result = result
        self.calls = 0

    def __call__(self) -> dict[str, dict[str, float]]:
        self.calls += 1
        return self.result


def resolver(folder: Path, probe: Probe, identity: CpuIdentity = IDENTITY) -> NumberFormats:
    return NumberFormats(folder, measure=probe, identify=lambda: identity)


def test_the_cached_choice_is_reused_across_processes(tmp_path: Path) -> None:
    probe = Probe(figures(same(1.0), same(86.0)))
    first = resolver(tmp_path, probe)
    assert first.choice().train == "float32"
    assert first.choice().serve == "float32"
    assert probe.calls == 1  # once per process too
    second = resolver(tmp_path, probe)  # a new process: same CPU, same torch
    assert second.choice().train == "float32"
    assert probe.calls == 1
    report = second.report()
    assert report is not None and report["from_cache"] is True
    assert report["cpu"]["model"] == IDENTITY.model


@pytest.mark.parametrize(
    "changed",
    [
        replace(IDENTITY, model="Intel Xeon Platinum 8480+", flags=("avx2", "avx512_bf16", "amx_bf16")),
        replace(IDENTITY, torch_version="2.14.0+cpu"),
        replace(IDENTITY, torch_capability="AVX512"),
        replace(IDENTITY, threads=8),
        replace(IDENTITY, isa_overrides={"ONEDNN_MAX_CPU_ISA": "AVX2"}),
    ],
    ids=["cpu", "torch", "kernels", "threads", "isa-override"],
)
def test_a_new_cpu_or_torch_measures_again(tmp_path: Path, changed: CpuIdentity) -> None:
    slow_bf16 = Probe(figures(same(1.0), same(86.0)))
    assert resolver(tmp_path, slow_bf16).choice().train == "float32"
    native_bf16 = Probe(figures(same(1.0), same(0.4)))
    moved = resolver(tmp_path, native_bf16, changed)
    assert moved.choice().train == "bfloat16"
    assert native_bf16.calls == 1
    # Both machines' choices stay cached side by side: moving back measures nothing.
    again = Probe(figures(same(1.0), same(1.0)))
    assert resolver(tmp_path, again).choice().train == "float32"
    assert again.calls == 0


def test_a_damaged_cache_is_measured_again(tmp_path: Path) -> None:
    probe = Probe(figures(same(1.0), same(0.5)))
    resolver(tmp_path, probe).choice()
    (tmp_path / "number-formats.json").write_text("{not json")
    assert resolver(tmp_path, probe).choice().serve == "bfloat16"
    assert probe.calls == 2


def test_an_explicit_format_is_honoured_without_measuring(tmp_path: Path) -> None:
    probe = Probe(figures(same(1.0), same(0.5)))
    formats = resolver(tmp_path, probe)
    assert formats.serve_dtype("float32") == "float32"
    assert formats.train_dtype("bfloat16") == "bfloat16"
    assert probe.calls == 0 and formats.report() is None
    assert formats.serve_dtype("auto") == "bfloat16"
    assert probe.calls == 1


def test_settings_default_to_auto_and_refuse_other_formats(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    assert (settings.torch_dtype, settings.train_dtype) == ("auto", "auto")
    assert settings.resolved_hardware_dir == tmp_path / "hardware"
    with pytest.raises(ValidationError, match="auto, float32 or bfloat16"):
        Settings(home=tmp_path, torch_dtype="float16")
    with pytest.raises(ValidationError):
        Settings(home=tmp_path, torch_threads=0)


# -- the real probes ---------------------------------------------------------------------------------
def test_the_real_probes_measure_every_kind_in_both_formats() -> None:
    from modelyard.hardware.probe import measure

    measured = measure()
    assert set(measured) == set(KINDS)
    for kind, seconds in measured.items():
        assert set(seconds) == {"float32", "bfloat16"}, kind
        assert all(math.isfinite(s) and s > 0 for s in seconds.values()), (kind, seconds)
    # Prefill processes a token at once with the others of its prompt: cheaper than a decode step.
    assert measured["prefill"]["float32"] < measured["decode"]["float32"]
    choose(measured)  # a real outcome is always decidable


# -- training: a resumed job keeps the format its checkpoints were trained in ----------------------
def _checkpoint(work_dir: Path, step: int, state: dict[str, object]) -> None:
    import json

    from modelyard.finetune import checkpoints as ckpt

    folder = ckpt.checkpoint_dir(work_dir / "checkpoints", step)
    folder.mkdir(parents=True)
    for name in (ckpt.ADAPTER_WEIGHTS, ckpt.ADAPTER_CONFIG, ckpt.OPTIMIZER_FILE):
        (folder / name).write_text("{}")
    (folder / ckpt.STATE_FILE).write_text(json.dumps(state))


def test_a_resumed_job_trains_on_in_its_checkpoints_format(tmp_path: Path) -> None:
    from modelyard.finetune.pipeline import _train_dtype
    from modelyard.hardware.formats import CACHE_FILE

    settings = Settings(home=tmp_path / "home", hardware_dir=tmp_path / "hw")
    formats = NumberFormats.from_settings(settings)
    # This machine's measured choice is float32 for training (a cached outcome).
    probe = Probe(figures(same(1.0), same(86.0)))
    cached = NumberFormats(settings.resolved_hardware_dir, measure=probe, identify=formats._identify)
    assert cached.choice().train == "float32"
    assert (tmp_path / "hw" / CACHE_FILE).is_file()

    fresh = tmp_path / "job-new"
    assert _train_dtype(settings, fresh) == "float32"
    resumed = tmp_path / "job-resumed"
    _checkpoint(resumed, 10, {"dtype": "bfloat16"})
    assert _train_dtype(settings, resumed) == "bfloat16"
    explicit = Settings(home=tmp_path / "home", hardware_dir=tmp_path / "hw", train_dtype="float32")
    assert _train_dtype(explicit, resumed) == "float32"
    assert probe.calls == 1


def test_figures_of_another_probe_version_are_measured_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import modelyard.hardware.formats as formats_module

    first = Probe(figures(same(1.0), same(86.0)))
    assert resolver(tmp_path, first).choice().train == "float32"
    monkeypatch.setattr(formats_module, "PROBE_VERSION", formats_module.PROBE_VERSION + 1)
    second = Probe(figures(same(1.0), same(0.5)))
    assert resolver(tmp_path, second).choice().train == "bfloat16"
    assert second.calls == 1


def test_the_workers_copy_takes_the_batch_choice_and_the_gateways_the_serving_one(tmp_path: Path) -> None:
    from modelyard.backends.base import BackendContext

    fp32 = {"decode": 0.100, "batched_decode": 0.150, "prefill": 0.003, "train": 0.023}
    bf16 = {"decode": 0.036, "batched_decode": 0.225, "prefill": 0.010, "train": 0.650}
    formats = resolver(tmp_path, Probe(figures(fp32, bf16)))
    gateway = BackendContext(models_dir=tmp_path, number_formats=formats)
    worker = BackendContext(models_dir=tmp_path, number_formats=formats, workload="batch")
    assert gateway.resolved_torch_dtype() == "bfloat16"
    assert worker.resolved_torch_dtype() == "float32"
    pinned = BackendContext(
        models_dir=tmp_path, torch_dtype="bfloat16", number_formats=formats, workload="batch"
    )
    assert pinned.resolved_torch_dtype() == "bfloat16"
