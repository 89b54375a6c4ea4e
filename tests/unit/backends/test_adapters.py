"""Fine-tuned models are LoRA adapters served on one shared copy of their base."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from modelyard.backends import BackendContext, GenerationParams, ModelSpec
from modelyard.backends.transformers import TransformersBackend
from modelyard.backends.transformers import shared as shared_module
from tests.unit.backends.conftest import run, tiny_spec

GREEDY = GenerationParams(temperature=0, max_tokens=12)


def _adapter(tiny_model_dir: Path, folder: Path, seed: int) -> Path:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    # init_lora_weights=False: random B, so the adapter visibly changes the output.
    config = LoraConfig(r=4, lora_alpha=64, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    get_peft_model(model, config).save_pretrained(folder, safe_serialization=True)
    return folder


def _spec(tiny_model_dir: Path, name: str, adapter: Path) -> ModelSpec:
    base = tiny_spec(tiny_model_dir)
    return replace(base, id=name, source={**base.source, "adapter": str(adapter), "base_model": "tiny"})


@pytest.fixture
def context(backend_context: BackendContext) -> BackendContext:
    return replace(backend_context, shared={})


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids of the base models loaded from disk, in order."""
    loaded: list[str] = []
    real = shared_module.load_model
    monkeypatch.setattr(
        shared_module, "load_model", lambda spec, ctx: loaded.append(spec.id) or real(spec, ctx)
    )
    return loaded


def test_adapters_share_one_base_and_keep_their_own_behaviour(
    tiny_model_dir: Path, tmp_path: Path, context: BackendContext, loads: list[str]
) -> None:
    base = TransformersBackend(tiny_spec(tiny_model_dir), context)
    first = TransformersBackend(
        _spec(tiny_model_dir, "ft:a", _adapter(tiny_model_dir, tmp_path / "a", 1)), context
    )
    second = TransformersBackend(
        _spec(tiny_model_dir, "ft:b", _adapter(tiny_model_dir, tmp_path / "b", 2)), context
    )

    async def answers() -> list[str]:
        before = (await base.complete("The quick", GREEDY)).choices[0].text
        a = (await first.complete("The quick", GREEDY)).choices[0].text
        b = (await second.complete("The quick", GREEDY)).choices[0].text
        after = (await base.complete("The quick", GREEDY)).choices[0].text
        again = (await first.complete("The quick", GREEDY)).choices[0].text
        return [before, a, b, after, again]

    try:
        before, a, b, after, again = run(answers())
        assert loads == ["tiny"]  # one copy of the base weights
        assert before == after  # attaching adapters does not change the base
        assert a != before and b != before and a != b
        assert again == a  # switching adapters back and forth is stable
    finally:
        for backend in (base, first, second):
            run(backend.close())
    assert context.shared["transformers.hosts"] == {}  # last user freed the base


def test_missing_adapter_is_a_clear_error(
    tiny_model_dir: Path, tmp_path: Path, context: BackendContext
) -> None:
    from modelyard.errors import BackendUnavailable

    backend = TransformersBackend(_spec(tiny_model_dir, "ft:gone", tmp_path / "nothing"), context)
    with pytest.raises(BackendUnavailable) as caught:
        run(backend.complete("x", GREEDY))
    assert str(tmp_path) not in caught.value.message
    run(backend.close())


def test_a_pool_of_one_holds_a_base_with_all_its_adapters(
    tiny_model_dir: Path, tmp_path: Path, context: BackendContext, loads: list[str]
) -> None:
    """``max_loaded_models`` counts weights: a base and its adapters are one entry, not three."""
    from modelyard.backends.pool import BackendPool

    specs = [
        tiny_spec(tiny_model_dir),
        _spec(tiny_model_dir, "ft:a", _adapter(tiny_model_dir, tmp_path / "a", 1)),
        _spec(tiny_model_dir, "ft:b", _adapter(tiny_model_dir, tmp_path / "b", 2)),
    ]
    pool = BackendPool(context, max_loaded=1)

    async def round_robin() -> list[str]:
        answers = []
        for spec in specs * 2:
            backend = await pool.get(spec)
            answers.append((await backend.complete("The quick", GREEDY)).choices[0].text)
        return answers

    try:
        answers = run(round_robin())
        assert pool.loaded() == ["tiny", "ft:a", "ft:b"] and loads == ["tiny"]  # nothing evicted
        assert answers[:3] == answers[3:]
    finally:
        run(pool.close())
    assert context.shared["transformers.hosts"] == {}
