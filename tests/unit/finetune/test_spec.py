from __future__ import annotations

from typing import Any

import pytest

from modelyard.errors import InvalidRequest
from modelyard.finetune import TrainSpec, resolve
from modelyard.finetune.spec import BASE_LEARNING_RATE


def test_auto_fits_a_hundred_examples_in_a_few_minutes() -> None:
    resolved = resolve(TrainSpec(), 100)
    # ~200 example passes in batches of 4: 50 optimizer steps, like the measured 3-minute run.
    assert (resolved.n_epochs, resolved.batch_size) == (2, 4)
    assert resolved.learning_rate == BASE_LEARNING_RATE
    assert resolved.target_modules is None


@pytest.mark.parametrize(
    ("n", "epochs", "batch"), [(1, 10, 1), (10, 10, 1), (50, 4, 2), (200, 1, 8), (100_000, 1, 8)]
)
def test_auto_scales_with_the_data(n: int, epochs: int, batch: int) -> None:
    resolved = resolve(TrainSpec(), n)
    assert (resolved.n_epochs, resolved.batch_size) == (epochs, batch)


def test_explicit_values_are_kept() -> None:
    spec = TrainSpec(n_epochs=3, batch_size=2, learning_rate_multiplier=0.5, r=4, alpha=8, dropout=0.0)
    resolved = resolve(spec, 40)
    assert (resolved.n_epochs, resolved.batch_size, resolved.r, resolved.alpha) == (3, 2, 4, 8.0)
    assert resolved.learning_rate == pytest.approx(BASE_LEARNING_RATE * 0.5)


def test_a_batch_larger_than_the_data_is_the_data() -> None:
    assert resolve(TrainSpec(batch_size=64), 10).batch_size == 10


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"n_epochs": 0}, "hyperparameters.n_epochs"),
        ({"n_epochs": "3"}, "hyperparameters.n_epochs"),
        ({"n_epochs": True}, "hyperparameters.n_epochs"),
        ({"batch_size": 257}, "hyperparameters.batch_size"),
        ({"learning_rate_multiplier": 0}, "hyperparameters.learning_rate_multiplier"),
        ({"learning_rate_multiplier": float("nan")}, "hyperparameters.learning_rate_multiplier"),
        ({"r": 0}, "method.lora.r"),
        ({"alpha": -1}, "method.lora.alpha"),
        ({"dropout": 1.0}, "method.lora.dropout"),
        ({"target_modules": "q_proj"}, "method.lora.target_modules"),
        ({"target_modules": ("q_proj", "../x")}, "method.lora.target_modules"),
        ({"max_seq_length": 8}, "method.lora.max_seq_length"),
        ({"seed": -1}, "seed"),
        ({"checkpoint_every_steps": 0}, "checkpoint_every_steps"),
    ],
)
def test_invalid_values_name_their_parameter(fields: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        resolve(TrainSpec(**fields), 10)
    assert caught.value.param == param


def test_from_request_reads_a_jobs_stored_dicts() -> None:
    spec = TrainSpec.from_request(
        hyperparameters={"n_epochs": 3, "batch_size": "auto", "learning_rate_multiplier": "auto"},
        lora={"r": 8, "target_modules": ["q_proj", "v_proj"], "dropout": None},
        seed=7,
    )
    assert (spec.n_epochs, spec.batch_size, spec.r, spec.seed) == (3, "auto", 8, 7)
    assert spec.target_modules == ("q_proj", "v_proj")
    assert spec.dropout == TrainSpec().dropout  # None means "our default"


@pytest.mark.parametrize(
    ("hyperparameters", "lora", "param"),
    [
        ({"epochs": 3}, None, "hyperparameters.epochs"),
        (None, {"rank": 8}, "method.lora.rank"),
        (None, {"alpha": "big"}, "method.lora.alpha"),
    ],
)
def test_from_request_refuses_what_it_does_not_know(
    hyperparameters: dict[str, Any] | None, lora: dict[str, Any] | None, param: str
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        TrainSpec.from_request(hyperparameters=hyperparameters, lora=lora)
    assert caught.value.param == param


def test_no_examples_is_an_invalid_training_file() -> None:
    with pytest.raises(InvalidRequest) as caught:
        resolve(TrainSpec(), 0)
    assert caught.value.param == "training_file"


def test_resolved_spec_is_plain_json() -> None:
    import json

    data = resolve(TrainSpec(target_modules=("q_proj",)), 10).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["target_modules"] == ["q_proj"]
