from __future__ import annotations

import pytest

from modelyard.finetune import TrainSpec, resolve
from modelyard.finetune.build import adamw_settings, lora_config, schedule


def test_lora_config_maps_the_spec() -> None:
    config = lora_config(resolve(TrainSpec(r=8, alpha=16, dropout=0.1), 10))
    assert (config.r, config.lora_alpha, config.lora_dropout) == (8, 16.0, 0.1)
    assert config.task_type == "CAUSAL_LM"
    assert config.bias == "none"
    # PEFT's "all-linear": every linear projection of the blocks, never the output layer.
    assert config.target_modules == "all-linear"


def test_named_target_modules_are_kept() -> None:
    config = lora_config(resolve(TrainSpec(target_modules=("q_proj", "v_proj")), 10))
    assert set(config.target_modules) == {"q_proj", "v_proj"}


def test_adamw_settings() -> None:
    settings = adamw_settings(resolve(TrainSpec(learning_rate_multiplier=2.0), 10))
    assert settings.as_kwargs() == {"lr": 4e-4, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0}


def test_schedule_warms_up_then_decays_and_never_wastes_a_step() -> None:
    plan = schedule(resolve(TrainSpec(), 10), total_steps=20)
    rates = [plan.learning_rate(step) for step in range(1, 21)]
    assert plan.warmup_steps == 2
    assert rates[1] == pytest.approx(plan.peak)
    assert rates[0] == pytest.approx(plan.peak / 2)
    assert all(a >= b for a, b in zip(rates[1:], rates[2:], strict=False))
    assert rates[-1] > 0


def test_a_one_step_run_trains_at_the_peak() -> None:
    plan = schedule(resolve(TrainSpec(), 1), total_steps=1)
    assert plan.learning_rate(1) == pytest.approx(plan.peak)
