"""Concurrent requests on one local model are decoded in batches, each answer as if alone.

Most tests hold the host's worker thread busy while the requests queue up, so that the
batch they form is known exactly; one sends them the ordinary way.

They run on a "lively" variant of the tiny random model. The plain one mostly repeats
its last token (its embeddings are tied and its attention is faint), which a batch that
mixed up padding, masks or caches would repeat just as well; with attention and MLP
weights scaled up, its answers depend on the whole prompt, and such a mix-up shows.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from modelyard.backends import BackendContext, Generation, GenerationParams, StreamChunk, Usage
from modelyard.backends.transformers import TransformersBackend
from modelyard.backends.transformers.shared import BaseHost, acquire_host, release_host
from tests.helpers.deadlines import deadline
from tests.unit.backends.conftest import run, tiny_spec

# Different lengths, so most rows of a batch are left-padded.
PROMPTS = (
    "Hi",
    "The quick brown fox",
    "你好，世界！今天天气很好。",
    '{"name": "Ada", "age": 36',
    "### User\nWhat is the capital of France?\n\n### Assistant\n",
    "Tokens, stops and streams",
    "模型即服务平台：选择模型",
    "0123456789",
)
GREEDY = GenerationParams(temperature=0, max_tokens=20)


@pytest.fixture(scope="module")
def lively_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    with torch.no_grad():
        model.model.norm.weight.mul_(3)  # sharper logits: sampling follows the model, not only the seed
        for layer in model.model.layers:
            for proj, scale in ((layer.self_attn.q_proj, 3), (layer.self_attn.k_proj, 3)):
                proj.weight.mul_(scale)  # sharper attention: positions and masks matter
            for proj, scale in ((layer.self_attn.v_proj, 10), (layer.self_attn.o_proj, 10)):
                proj.weight.mul_(scale)  # attention outweighs the token's own embedding
            layer.mlp.down_proj.weight.mul_(5)
    folder = tmp_path_factory.mktemp("lively") / "tiny-lively"
    model.save_pretrained(folder, safe_serialization=True)
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(folder)
    return folder


@pytest.fixture
def context(backend_context: BackendContext) -> BackendContext:
    return replace(backend_context, shared={})  # a host of its own: counters start at 0


@pytest.fixture
def backend(lively_dir: Path, context: BackendContext) -> Iterator[TransformersBackend]:
    backend = TransformersBackend(tiny_spec(lively_dir), context)
    run(backend.load())
    yield backend
    run(backend.close())


@contextmanager
def held(lively_dir: Path, context: BackendContext) -> Iterator[tuple[BaseHost, threading.Event]]:
    """The model's host, its worker kept busy until the event is set."""
    host = acquire_host(tiny_spec(lively_dir), context)
    gate = threading.Event()
    host.submit(gate.wait)
    try:
        yield host, gate
    finally:
        gate.set()
        release_host(host)


async def _once_waiting(host: BaseHost, rows: int, gate: threading.Event) -> None:
    """Open the gate once ``rows`` rows wait for a batch."""
    ends = deadline(30)
    while host.batch_stats().waiting < rows:
        assert time.monotonic() < ends, host.batch_stats()
        await asyncio.sleep(0.01)
    gate.set()


def _alone(backend: TransformersBackend, calls: list[tuple[str, GenerationParams]]) -> list[Generation]:
    async def one_by_one() -> list[Generation]:
        return [await backend.complete(prompt, params) for prompt, params in calls]

    return run(one_by_one())


def _batched(
    backend: TransformersBackend,
    calls: list[tuple[str, GenerationParams]],
    host: BaseHost,
    gate: threading.Event,
    rows: int,
) -> list[Generation]:
    async def together() -> list[Generation]:
        answers = asyncio.gather(*(backend.complete(prompt, params) for prompt, params in calls))
        await _once_waiting(host, rows, gate)
        return await answers

    return run(together())


def test_greedy_requests_in_one_batch_answer_exactly_as_alone(
    backend: TransformersBackend, lively_dir: Path, context: BackendContext
) -> None:
    calls = [(prompt, GREEDY) for prompt in PROMPTS]
    alone = _alone(backend, calls)
    before = backend.batch_stats()
    with held(lively_dir, context) as (host, gate):
        batched = _batched(backend, calls, host, gate, rows=8)
    after = backend.batch_stats()
    assert (after.batches - before.batches, after.largest) == (1, 8)
    assert batched == alone  # texts, finish reasons and usage


def test_mixed_params_share_a_batch_and_keep_their_own_answers(
    backend: TransformersBackend, lively_dir: Path, context: BackendContext
) -> None:
    alone_text = _alone(backend, [("The quick", GenerationParams(temperature=0.7, seed=5, max_tokens=24))])
    stop = alone_text[0].choices[0].text[6:9]
    calls = [
        ("Hi", GenerationParams(temperature=0, max_tokens=3)),  # ends with "length" first
        ("The quick brown fox", GenerationParams(temperature=0.5, seed=1, max_tokens=30)),
        ("你好，世界", GenerationParams(temperature=0.7, top_p=0.9, seed=2, max_tokens=12)),
        ("The quick", GenerationParams(temperature=0.7, seed=5, max_tokens=24, stop=(stop,))),
        ("0123456789", GenerationParams(temperature=0.5, seed=9, n=2, max_tokens=16)),  # two rows
        ('{"name": "Ada"', GenerationParams(temperature=0, max_tokens=25)),
    ]
    alone = _alone(backend, calls)
    with held(lively_dir, context) as (host, gate):
        batched = _batched(backend, calls, host, gate, rows=7)
    assert backend.batch_stats().largest == 7
    assert batched == alone
    assert [c.finish_reason for c in batched[0].choices] == ["length"]
    assert batched[3].choices[0].finish_reason == "stop"
    assert batched[3].usage.completion_tokens < 24  # the stop string ended that row early
    assert batched[4].choices[0].text != batched[4].choices[1].text  # seed, then seed + 1


def test_plain_concurrent_requests_are_batched(backend: TransformersBackend) -> None:
    """No help from the test: eight requests sent together must not run one at a time."""

    async def together() -> list[Generation]:
        return await asyncio.gather(*(backend.complete(p, GREEDY) for p in PROMPTS))

    alone = _alone(backend, [(p, GREEDY) for p in PROMPTS])
    before = backend.batch_stats()
    assert run(together()) == alone
    stats = backend.batch_stats()
    assert stats.batches - before.batches <= 3, stats  # usually 1; a busy machine may split it


def test_each_stream_gets_its_chunks_while_the_batch_decodes(
    backend: TransformersBackend, lively_dir: Path, context: BackendContext
) -> None:
    events: list[tuple[int, str]] = []

    async def consume(index: int, prompt: str) -> None:
        async for item in backend.stream_complete(prompt, GenerationParams(temperature=0, max_tokens=40)):
            if isinstance(item, Usage):
                events.append((index, "usage"))
            elif item.text:
                events.append((index, "text"))

    async def together(host: BaseHost, gate: threading.Event) -> None:
        tasks = asyncio.gather(*(consume(i, p) for i, p in enumerate(PROMPTS[:4])))
        await _once_waiting(host, 4, gate)
        await tasks

    with held(lively_dir, context) as (host, gate):
        run(together(host, gate))
    first_usage = next(i for i, (_, kind) in enumerate(events) if kind == "usage")
    started = {index for index, kind in events[:first_usage] if kind == "text"}
    assert started == {0, 1, 2, 3}  # every stream had text before any of them ended


def test_a_consumer_that_leaves_stops_only_its_own_row(
    backend: TransformersBackend, lively_dir: Path, context: BackendContext
) -> None:
    stayers = [(p, GREEDY) for p in PROMPTS[1:4]]
    alone = _alone(backend, stayers)

    async def leave_after_first_piece() -> None:
        stream = backend.stream_complete("Hi", GenerationParams(temperature=0, max_tokens=400))
        await anext(stream)
        await stream.aclose()

    async def together(host: BaseHost, gate: threading.Event) -> list[Generation]:
        leaver = asyncio.ensure_future(leave_after_first_piece())
        answers = asyncio.gather(*(backend.complete(p, params) for p, params in stayers))
        await _once_waiting(host, 4, gate)
        await leaver
        return await answers

    with held(lively_dir, context) as (host, gate):
        assert run(together(host, gate)) == alone
    # The leaver's row leaves its batch early, unless (on a loaded machine) it reached its
    # end of sequence before the departure was noticed; either way the others are unharmed.
    assert backend.batch_stats().dropped <= 1


def test_batched_greedy_equals_transformers_generate(
    backend: TransformersBackend, lively_dir: Path, context: BackendContext
) -> None:
    """An anchor outside this code: plain ``generate``, one prompt at a time, no padding."""
    import torch

    loaded = run(backend.load())
    expected = []
    for prompt in PROMPTS:
        ids = loaded.tokenizer(prompt, return_tensors="pt")["input_ids"]
        with torch.inference_mode():
            out = loaded.model.generate(input_ids=ids, max_new_tokens=20, min_new_tokens=20, do_sample=False)
        expected.append(loaded.tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True))
    with held(lively_dir, context) as (host, gate):
        batched = _batched(backend, [(p, GREEDY) for p in PROMPTS], host, gate, rows=8)
    assert [g.choices[0].text for g in batched] == expected


def test_requests_accepted_before_close_still_finish(lively_dir: Path, context: BackendContext) -> None:
    backend = TransformersBackend(tiny_spec(lively_dir), context)
    run(backend.load())
    calls = [(p, GREEDY) for p in PROMPTS[:3]]
    alone = _alone(backend, calls)

    async def close_while_queued(host: BaseHost, gate: threading.Event) -> list[Generation]:
        answers = asyncio.gather(*(backend.complete(p, params) for p, params in calls))
        ends = deadline(30)
        while host.batch_stats().waiting < 3:
            assert time.monotonic() < ends, host.batch_stats()
            await asyncio.sleep(0.01)
        await backend.close()
        release_host(host)  # the last user: the host shuts down with the rows still queued
        gate.set()
        return await answers

    host = acquire_host(tiny_spec(lively_dir), context)
    gate = threading.Event()
    host.submit(gate.wait)
    assert run(close_while_queued(host, gate)) == alone
    assert context.shared["transformers.hosts"] == {}


def _stream_items(backend: TransformersBackend, prompt: str, params: GenerationParams) -> list:
    async def collect() -> list:
        return [item async for item in backend.stream_complete(prompt, params)]

    return run(collect())


def test_n_choices_in_one_batch_still_stream_in_order(backend: TransformersBackend) -> None:
    params = GenerationParams(temperature=1.0, seed=4, n=3, max_tokens=12)
    items = _stream_items(backend, "The quick", params)
    indexes = [i.index for i in items if isinstance(i, StreamChunk)]
    assert indexes == sorted(indexes) and set(indexes) == {0, 1, 2}
    assert items[-1] == Usage(run(backend.prompt_tokens("The quick")), 36)


def _adapter(base_dir: Path, folder: Path, seed: int) -> Path:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(base_dir)
    # init_lora_weights=False: random B, so the adapter visibly changes the output.
    config = LoraConfig(r=4, lora_alpha=64, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    get_peft_model(model, config).save_pretrained(folder, safe_serialization=True)
    return folder


def test_rows_on_different_adapters_never_share_a_batch(
    backend: TransformersBackend, lively_dir: Path, tmp_path: Path, context: BackendContext
) -> None:
    base = tiny_spec(lively_dir)
    source = {**base.source, "adapter": str(_adapter(lively_dir, tmp_path / "a", 1)), "base_model": "tiny"}
    tuned = TransformersBackend(replace(base, id="ft:a", source=source), context)
    try:
        run(tuned.load())
        sampled = GenerationParams(temperature=0.5, seed=3, max_tokens=16)
        calls = [(p, params) for p in PROMPTS[:3] for params in (GREEDY, sampled)]
        calls = [call for call in calls for _ in range(2)]  # each call on the base, then the adapter
        who = [backend, tuned] * 6
        alone = run(_one_by_one(who, calls))
        before = backend.batch_stats()
        with held(lively_dir, context) as (host, gate):
            batched = run(_together(who, calls, host, gate))
        after = backend.batch_stats()
        assert (after.batches - before.batches, after.rows - before.rows) == (2, 12)  # one per adapter
        assert batched == alone
        assert all(batched[i] != batched[i + 1] for i in range(2, 12, 4))  # the adapter changes answers
    finally:
        run(tuned.close())


async def _one_by_one(who: list[TransformersBackend], calls: list[tuple[str, GenerationParams]]) -> list:
    return [await b.complete(p, params) for b, (p, params) in zip(who, calls, strict=True)]


async def _together(
    who: list[TransformersBackend],
    calls: list[tuple[str, GenerationParams]],
    host: BaseHost,
    gate: threading.Event,
) -> list:
    answers = asyncio.gather(*(b.complete(p, params) for b, (p, params) in zip(who, calls, strict=True)))
    await _once_waiting(host, len(calls), gate)
    return await answers


class _Collect:
    """A row sink that keeps what it is sent; ``broken`` ones fail on their first text."""

    def __init__(self, broken: bool = False) -> None:
        self.broken = broken
        self.text_parts: list[str] = []
        self.ending: tuple = ()

    def text(self, index: int, piece: str) -> None:
        if self.broken:
            raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "a bad byte")
        self.text_parts.append(piece)

    def finish(self, index: int, reason: str, completion_tokens: int) -> None:
        self.ending = (reason, completion_tokens)

    def fail(self, error: BaseException) -> None:
        self.ending = ("failed", type(error).__name__)


def test_a_row_that_fails_does_not_end_its_batch_mates(backend: TransformersBackend) -> None:
    from modelyard.backends.transformers.batcher import Row
    from modelyard.backends.transformers.decode_loop import run_batch
    from modelyard.backends.transformers.generation import Request

    loaded = run(backend.load())
    prompts = PROMPTS[:4]
    alone = _alone(backend, [(p, GREEDY) for p in prompts])
    sinks = [_Collect(broken=i == 1) for i in range(len(prompts))]
    requests = [Request(tuple(loaded.tokenizer(p)["input_ids"]), 20, (), 0.0, 1.0, None) for p in prompts]
    rows = [Row(r, 0, None, sink, threading.Event()) for r, sink in zip(requests, sinks, strict=True)]
    run_batch(loaded.model, loaded.tokenizer, rows)
    assert sinks[1].ending == ("failed", "UnicodeDecodeError")
    for i in (0, 2, 3):
        assert "".join(sinks[i].text_parts) == alone[i].choices[0].text
        assert sinks[i].ending == (alone[i].choices[0].finish_reason, alone[i].usage.completion_tokens)
