"""What a published fine-tune's catalog record says about itself."""

from __future__ import annotations

from pathlib import Path

from modelyard.finetune.job import fine_tuned_record
from modelyard.store.tables import FineTuningJob, ModelRecord


def test_a_fine_tune_is_not_tagged_as_a_base_model() -> None:
    base = ModelRecord(
        id="gemma-3-270m",
        backend="transformers",
        task="chat",
        provider="google",
        source={"builtin": "gemma-3-270m"},
        tags=["local", "text-generation", "base-model", "cpu"],
        price_input_per_1k=0.0,
        price_output_per_1k=0.0,
        price_training_per_1k=0.0,
    )
    job = FineTuningJob(
        id="ftjob-x",
        tenant_id="t-1",
        model=base.id,
        training_file="file-x",
        hyperparameters={},
        method={},
        seed=1,
    )
    record = fine_tuned_record("ft:gemma-3-270m:acme::x", job, base, Path("/adapters/x"))
    assert record.tags == ["local", "text-generation", "cpu", "fine-tuned"]
    assert record.source["base_model"] == base.id
