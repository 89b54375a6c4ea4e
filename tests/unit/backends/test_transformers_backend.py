"""The transformers backend on a tiny random Llama: streaming, sampling, stops, limits."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from modelyard.backends import (
    BackendContext,
    Generation,
    GenerationParams,
    ModelSpec,
    StreamChunk,
    TextBackend,
    Usage,
    create_backend,
)
from modelyard.backends.transformers import TransformersBackend
from modelyard.errors import BackendUnavailable, InvalidRequest, UnsupportedParameter
from modelyard.prompting import DEFAULT_STOP, Message, render_prompt
from tests.helpers.deadlines import scaled
from tests.unit.backends.conftest import run, tiny_spec

CHAT = [Message("system", "You are terse."), Message("user", '你好, say {"ok": true}')]
GREEDY = GenerationParams(temperature=0, max_tokens=24)


async def _stream(backend: TransformersBackend, params: GenerationParams, prompt: str | None = None):
    stream = backend.stream_complete(prompt, params) if prompt else backend.stream_chat(CHAT, params)
    return [item async for item in stream]


def _text(items: list, index: int = 0) -> str:
    return "".join(i.text for i in items if isinstance(i, StreamChunk) and i.index == index)


def _tokens(backend: TransformersBackend, text: str) -> int:
    return run(backend.prompt_tokens(text))


# -- wiring ------------------------------------------------------------------


def test_importing_the_backend_does_not_import_torch() -> None:
    code = (
        "import sys, modelyard.backends.transformers, modelyard.backends.sentence_transformers\n"
        "heavy = [m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=scaled(60))


def test_registry_creates_the_backend_by_name(tiny_model_dir: Path, backend_context: BackendContext) -> None:
    backend = create_backend(tiny_spec(tiny_model_dir), backend_context)
    assert isinstance(backend, TransformersBackend)
    assert isinstance(backend, TextBackend)


def test_unknown_builtin_and_bad_prompt_format_are_refused(backend_context: BackendContext) -> None:
    builtin = ModelSpec(id="x", backend="transformers", task="chat", source={"builtin": "gpt-9"})
    with pytest.raises(InvalidRequest) as unknown:
        TransformersBackend(builtin, backend_context)
    assert unknown.value.param == "source"
    with pytest.raises(InvalidRequest):
        TransformersBackend(tiny_spec(Path("/m"), prompt_format="alpaca"), backend_context)


# -- streaming and sampling --------------------------------------------------


def test_stream_equals_non_stream_at_temperature_zero(tiny: TransformersBackend) -> None:
    chat = run(tiny.chat(CHAT, GREEDY))
    streamed = run(_stream(tiny, GREEDY))
    assert chat.choices[0].text == _text(streamed)
    assert streamed[-1] == chat.usage
    assert [i for i in streamed if isinstance(i, Usage)] == [chat.usage]  # exactly one, last
    assert streamed[-2].finish_reason == chat.choices[0].finish_reason

    done = run(tiny.complete("The quick brown", GREEDY))
    assert done.choices[0].text == _text(run(_stream(tiny, GREEDY, "The quick brown")))


def test_same_seed_same_text_other_seed_other_text(tiny: TransformersBackend) -> None:
    def sample(seed: int) -> str:
        params = GenerationParams(temperature=1.0, seed=seed, max_tokens=20)
        return run(tiny.complete("The quick", params)).choices[0].text

    assert sample(7) == sample(7)
    assert sample(7) != sample(8)
    streamed = run(_stream(tiny, GenerationParams(temperature=1.0, seed=7, max_tokens=20), "The quick"))
    assert _text(streamed) == sample(7)


def test_incremental_decoding_never_splits_a_character(tiny: TransformersBackend) -> None:
    from modelyard.backends.transformers.generation import IncrementalDecoder

    tokenizer = run(tiny.load()).tokenizer
    text = '你好，世界 🙂 {"a": [1, 2]} é'
    decoder = IncrementalDecoder(tokenizer)
    pieces = [decoder.push(i) for i in tokenizer(text, add_special_tokens=False)["input_ids"]]
    pieces.append(decoder.flush())
    assert "".join(pieces) == text
    assert not any("\ufffd" in p for p in pieces)


def test_tiny_top_p_keeps_only_the_most_likely_token(tiny: TransformersBackend) -> None:
    nucleus = GenerationParams(temperature=1.0, top_p=1e-6, max_tokens=12)
    greedy = GenerationParams(temperature=0, max_tokens=12)
    assert run(tiny.complete("Hello", nucleus)).choices == run(tiny.complete("Hello", greedy)).choices


def test_n_gives_n_choices_streamed_one_after_another(tiny: TransformersBackend) -> None:
    params = GenerationParams(temperature=1.0, seed=3, n=2, max_tokens=10)
    result = run(tiny.complete("The quick", params))
    assert [c.index for c in result.choices] == [0, 1]
    assert result.choices[0].text != result.choices[1].text  # seed, then seed + 1
    assert result.usage.completion_tokens == 20
    assert result.usage.prompt_tokens == _tokens(tiny, "The quick")  # counted once

    items = run(_stream(tiny, params, "The quick"))
    indexes = [i.index for i in items if isinstance(i, StreamChunk)]
    assert indexes == sorted(indexes)
    finals = [i for i in items if isinstance(i, StreamChunk) and i.finish_reason]
    assert [f.index for f in finals] == [0, 1]
    assert [_text(items, 0), _text(items, 1)] == [c.text for c in result.choices]
    assert items[-1] == result.usage


# -- stops and limits --------------------------------------------------------


def test_stop_string_truncates_and_never_leaks(tiny: TransformersBackend) -> None:
    base = GenerationParams(temperature=1.0, seed=11, max_tokens=24)
    full = run(tiny.complete("The quick", base)).choices[0].text
    stop = full[6:9]
    expected = full[: full.index(stop)]
    params = GenerationParams(temperature=1.0, seed=11, max_tokens=24, stop=(stop,))

    result = run(tiny.complete("The quick", params))
    assert result.choices[0].text == expected
    assert result.choices[0].finish_reason == "stop"
    assert result.usage.completion_tokens < 24  # generation ended at the stop

    items = run(_stream(tiny, params, "The quick"))
    assert _text(items) == expected
    assert all(stop not in i.text for i in items if isinstance(i, StreamChunk))


def test_chat_adds_the_default_stop(tiny: TransformersBackend) -> None:
    # Whatever the model writes, the default format's next-turn header never shows.
    for seed in range(3):
        text = run(tiny.chat(CHAT, GenerationParams(temperature=1.0, seed=seed, max_tokens=24)))
        assert DEFAULT_STOP[0] not in text.choices[0].text


def test_max_tokens_ends_with_length(tiny: TransformersBackend) -> None:
    result = run(tiny.complete("The quick", GenerationParams(temperature=0, max_tokens=5)))
    assert result.choices[0].finish_reason == "length"
    assert result.usage.completion_tokens == 5


def test_default_max_tokens_comes_from_the_context(tiny: TransformersBackend) -> None:
    result = run(tiny.complete("The quick", GenerationParams(temperature=0)))
    assert result.usage.completion_tokens == 16


def test_prompt_tokens_include_bos(tiny: TransformersBackend) -> None:
    assert _tokens(tiny, "") == 1
    chat = run(tiny.chat(CHAT, GenerationParams(temperature=0, max_tokens=1)))
    assert chat.usage.prompt_tokens == _tokens(tiny, render_prompt(CHAT))


def test_prompt_longer_than_the_context_is_refused(tiny: TransformersBackend) -> None:
    long_text = "The quick brown fox jumps over the lazy dog. " * 60  # > 512 tokens
    with pytest.raises(InvalidRequest) as prompt:
        run(tiny.complete(long_text, GREEDY))
    assert prompt.value.param == "prompt"
    with pytest.raises(InvalidRequest) as messages:
        run(tiny.chat([Message("user", long_text)], GREEDY))
    assert messages.value.param == "messages"
    with pytest.raises(InvalidRequest) as streamed:
        run(_stream(tiny, GREEDY, long_text))
    assert streamed.value.param == "prompt"


def test_max_tokens_beyond_the_context_is_refused_and_near_it_capped(tiny: TransformersBackend) -> None:
    with pytest.raises(InvalidRequest) as too_big:
        run(tiny.complete("Hi", GenerationParams(max_tokens=513)))
    assert too_big.value.param == "max_tokens"

    prompt = "The quick brown fox jumps over the lazy dog. " * 40
    room = 512 - _tokens(tiny, prompt)
    assert 0 < room < 100
    result = run(tiny.complete(prompt, GenerationParams(temperature=0, max_tokens=100)))
    assert result.usage.completion_tokens == room
    assert result.choices[0].finish_reason == "length"


def test_unsupported_and_invalid_params_name_the_field(tiny: TransformersBackend) -> None:
    with pytest.raises(UnsupportedParameter) as extra:
        run(tiny.complete("Hi", GenerationParams(extra={"logit_bias": {"1": 5}})))
    assert extra.value.param == "logit_bias"
    for params, field in [
        (GenerationParams(n=0), "n"),
        (GenerationParams(top_p=0), "top_p"),
        (GenerationParams(temperature=-1), "temperature"),
        (GenerationParams(max_tokens=0), "max_tokens"),
    ]:
        with pytest.raises(InvalidRequest) as bad:
            run(tiny.complete("Hi", params))
        assert bad.value.param == field


# -- prompt formats ----------------------------------------------------------

TEMPLATE = (
    "{% for m in messages %}<s>[{{ m.role }}] {{ m.content }}\n{% endfor %}"
    "{% if add_generation_prompt %}[assistant] {% endif %}"
)


def test_chat_template_format_uses_the_tokenizer_template(
    tmp_path: Path, backend_context: BackendContext
) -> None:
    from tests.helpers.tiny_models import build_tiny_causal_lm

    folder = build_tiny_causal_lm(tmp_path / "templated", chat_template=TEMPLATE)
    backend = TransformersBackend(tiny_spec(folder, prompt_format="chat_template"), backend_context)
    try:
        loaded = run(backend.load())
        rendered = loaded.tokenizer.apply_chat_template(
            [{"role": m.role, "content": m.content} for m in CHAT], tokenize=False, add_generation_prompt=True
        )
        expected = len(loaded.tokenizer(rendered, add_special_tokens=False)["input_ids"])
        result = run(backend.chat(CHAT, GenerationParams(temperature=0, max_tokens=2)))
        assert result.usage.prompt_tokens == expected  # the template's own <s>, no second BOS
    finally:
        run(backend.close())


def test_chat_template_format_falls_back_to_default(
    tiny_model_dir: Path, backend_context: BackendContext, tiny: TransformersBackend
) -> None:
    backend = TransformersBackend(tiny_spec(tiny_model_dir, prompt_format="chat_template"), backend_context)
    try:
        result = run(backend.chat(CHAT, GREEDY))
        assert result == run(tiny.chat(CHAT, GREEDY))
    finally:
        run(backend.close())


# -- loading and lifecycle ---------------------------------------------------


def test_pickle_only_folder_is_refused(tmp_path: Path, backend_context: BackendContext) -> None:
    folder = tmp_path / "pickled"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "llama"}')
    (folder / "pytorch_model.bin").write_bytes(b"\x80\x04not really")
    backend = TransformersBackend(tiny_spec(folder), backend_context)
    with pytest.raises(InvalidRequest) as refused:
        run(backend.complete("Hi", GREEDY))
    assert "safetensors" in refused.value.message
    assert str(tmp_path) not in refused.value.message


def test_missing_folder_is_unavailable_without_its_path(
    tmp_path: Path, backend_context: BackendContext
) -> None:
    backend = TransformersBackend(tiny_spec(tmp_path / "gone"), backend_context)
    with pytest.raises(BackendUnavailable) as missing:
        run(backend.complete("Hi", GREEDY))
    assert str(tmp_path) not in missing.value.message


def test_concurrent_first_requests_load_once(
    tiny_model_dir: Path, backend_context: BackendContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelyard.backends.transformers import shared as module

    calls: list[str] = []
    real = module.load_model

    def counting(spec: ModelSpec, context: BackendContext):  # noqa: ANN202
        calls.append(spec.id)
        return real(spec, context)

    monkeypatch.setattr(module, "load_model", counting)
    # A fresh context: the session's one may already host this model.
    backend = TransformersBackend(tiny_spec(tiny_model_dir), replace(backend_context, shared={}))

    async def three() -> list[Generation]:
        return await asyncio.gather(*(backend.complete("The quick", GREEDY) for _ in range(3)))

    try:
        results = run(three())
        assert calls == ["tiny"]
        assert results[0] == results[1] == results[2]
    finally:
        run(backend.close())


def test_a_consumer_that_leaves_early_frees_the_model(tiny: TransformersBackend) -> None:
    async def first_piece_then_leave() -> None:
        stream = tiny.stream_complete("The quick", GenerationParams(temperature=0, max_tokens=400))
        await anext(stream)
        await stream.aclose()

    dropped_before = tiny.batch_stats().dropped
    run(first_piece_then_leave())
    assert run(tiny.complete("Hi", GenerationParams(temperature=0, max_tokens=2))).choices
    # The abandoned row was dropped at its next step, not decoded to its 400 tokens.
    assert tiny.batch_stats().dropped == dropped_before + 1


def test_close_lets_accepted_work_finish_and_refuses_new_work(
    tiny_model_dir: Path, backend_context: BackendContext
) -> None:
    backend = TransformersBackend(tiny_spec(tiny_model_dir), backend_context)
    params = GenerationParams(temperature=0, max_tokens=100, n=2)

    async def close_mid_answer() -> list:
        stream = backend.stream_complete("The quick", params)
        first = await anext(stream)
        await backend.close()  # as the pool does when it evicts the model
        rest = [item async for item in stream]
        with pytest.raises(BackendUnavailable):
            await backend.complete("Hi", GREEDY)
        return [first, *rest]

    items = run(close_mid_answer())
    assert items[-1].completion_tokens == 200
    assert [i.finish_reason for i in items if isinstance(i, StreamChunk) and i.finish_reason] == [
        "length",
        "length",
    ]


def test_closed_backend_refuses_work(tiny_model_dir: Path, backend_context: BackendContext) -> None:
    backend = TransformersBackend(tiny_spec(tiny_model_dir), backend_context)
    run(backend.close())
    with pytest.raises(BackendUnavailable):
        run(backend.complete("Hi", GREEDY))


# -- the real built-in model -------------------------------------------------

TEST_CACHE = Path(os.environ.get("MODELYARD_TEST_CACHE", Path.home() / ".cache" / "modelyard-tests"))


@pytest.mark.slow
def test_gemma_builtin_imports_and_chats() -> None:
    from modelyard.backends.transformers import builtin_model_ready, ensure_builtin_model

    models_dir = TEST_CACHE / "models"
    folder = ensure_builtin_model("gemma-3-270m", models_dir)
    assert builtin_model_ready("gemma-3-270m", models_dir)
    assert not list(models_dir.glob("**/*.gguf"))  # the assembled GGUF is gone
    spec = ModelSpec(
        id="gemma-3-270m",
        backend="transformers",
        task="chat",
        source={"builtin": "gemma-3-270m"},
        context_length=32_768,
    )
    backend = create_backend(spec, BackendContext(models_dir=models_dir))
    messages = [Message("user", "What is the capital of France?")]
    params = GenerationParams(temperature=0, max_tokens=16)
    try:
        result = run(backend.chat(messages, params))
        text = result.choices[0].text
        assert text.strip() and "\ufffd" not in text
        assert result.usage.completion_tokens <= 16
        streamed = run(_collect_stream(backend, messages, params))
        assert _text(streamed) == text
        assert folder == models_dir / "gemma-3-270m"
    finally:
        run(backend.close())


async def _collect_stream(backend: TextBackend, messages: list[Message], params: GenerationParams) -> list:
    return [item async for item in backend.stream_chat(messages, params)]
