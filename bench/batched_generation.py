"""Concurrent requests to one local model: batched decoding vs one request at a time.

The same chat requests (short sales questions in Chinese, modelyard's default prompt
format, temperature 0) go through one TransformersBackend two ways, in interleaved
rounds (the order alternates each round) in one run:

  sequential  send one, await its answer, send the next
  concurrent  send all at once; the host's micro-batcher decodes them in batches

Prints the median wall time of each, their ratio (goal on gemma-3-270m: >= 3x for 16
requests in batches of 8), how the requests were batched, and whether every answer was
the same both ways.

    python bench/batched_generation.py [--model gemma|tiny] [--rounds 3] [--requests 16]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))
from _server import CACHE  # noqa: E402

from modelyard.backends import BackendContext, GenerationParams, ModelSpec  # noqa: E402
from modelyard.backends.transformers import TransformersBackend, ensure_builtin_model  # noqa: E402
from modelyard.prompting import Message  # noqa: E402

QUESTIONS = (
    "你们的企业版每年多少钱？",
    "可以先免费试用吗？",
    "批量采购有折扣吗？",
    "发货一般需要几天？",
    "支持开增值税专用发票吗？",
    "产品出了问题怎么退换？",
    "你们和竞争对手相比有什么优势？",
    "最低起订量是多少？",
    "能不能提供上门安装服务？",
    "付款方式有哪些？",
    "合同期限一般是多久？",
    "售后服务电话是多少？",
    "可以定制我们公司的标志吗？",
    "海外客户也能下单吗？",
    "续费有没有优惠？",
    "怎么申请成为代理商？",
)
Answers = list[str]
Way = Callable[[TransformersBackend, list[str], GenerationParams], Awaitable[Answers]]


def backend_for(model: str, dtype: str) -> TransformersBackend:
    if model == "gemma":
        folder = ensure_builtin_model("gemma-3-270m", CACHE / "models")
    else:
        from tests.helpers.tiny_models import build_tiny_causal_lm

        folder = build_tiny_causal_lm(Path(tempfile.mkdtemp(prefix="modelyard-bench-")) / "tiny")
    spec = ModelSpec(id=model, backend="transformers", task="chat", source={"path": str(folder)})
    return TransformersBackend(spec, BackendContext(models_dir=CACHE / "models", torch_dtype=dtype))


async def ask(backend: TransformersBackend, question: str, params: GenerationParams) -> str:
    result = await backend.chat([Message("user", question)], params)
    return result.choices[0].text


async def sequential(backend: TransformersBackend, questions: list[str], params: GenerationParams) -> Answers:
    return [await ask(backend, q, params) for q in questions]


async def concurrent(backend: TransformersBackend, questions: list[str], params: GenerationParams) -> Answers:
    return list(await asyncio.gather(*(ask(backend, q, params) for q in questions)))


async def timed(run: Way, *args: Any) -> tuple[float, Answers]:
    started = time.perf_counter()
    answers = await run(*args)
    return time.perf_counter() - started, answers


async def bench(args: argparse.Namespace) -> None:
    backend = backend_for(args.model, args.dtype)
    questions = [QUESTIONS[i % len(QUESTIONS)] for i in range(args.requests)]
    params = GenerationParams(temperature=0, max_tokens=args.tokens)
    await ask(backend, questions[0], params)  # load the model, warm the kernels
    times: dict[str, list[float]] = {"sequential": [], "concurrent": []}
    answers: dict[str, Answers] = {}
    batches: dict[str, int] = {}  # decode batches the last run of each took
    for round_ in range(args.rounds):
        order = (sequential, concurrent) if round_ % 2 == 0 else (concurrent, sequential)
        for run in order:
            before = backend.batch_stats().batches
            wall, got = await timed(run, backend, questions, params)
            times[run.__name__].append(wall)
            batches[run.__name__] = backend.batch_stats().batches - before
            if answers.setdefault(run.__name__, got) != got:
                print(f"  note: {run.__name__} answers changed between rounds")
        print(f"  round {round_ + 1}: " + "  ".join(f"{k} {v[-1]:6.2f}s" for k, v in times.items()))
    largest = backend.batch_stats().largest
    await backend.close()
    report(args, times, answers, f"{batches['concurrent']} batches, largest {largest} rows")


def report(
    args: argparse.Namespace, times: dict[str, list[float]], answers: dict[str, Answers], batching: str
) -> None:
    seq, conc = statistics.median(times["sequential"]), statistics.median(times["concurrent"])
    same = sum(a == b for a, b in zip(answers["sequential"], answers["concurrent"], strict=True))
    ratios = [s / c for s, c in zip(times["sequential"], times["concurrent"], strict=True)]
    print(f"{args.model} {args.dtype}, {args.requests} chat requests, max_tokens {args.tokens},")
    print(f"temperature 0, {args.rounds} interleaved rounds (median)")
    print(f"  one at a time:  {seq:7.2f} s")
    print(f"  all at once:    {conc:7.2f} s   ({batching})")
    print(f"  speed-up:       {seq / conc:7.2f}x   (per round: {', '.join(f'{r:.2f}' for r in ratios)})")
    print(f"  identical answers: {same}/{args.requests}")
    for i, (a, b) in enumerate(zip(answers["sequential"], answers["concurrent"], strict=True)):
        if a != b:
            print(f"    #{i} alone:   {a!r}\n    #{i} batched: {b!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("gemma", "tiny"), default="gemma")
    parser.add_argument("--dtype", default=None, help="default: bfloat16 for gemma, float32 for tiny")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=16)
    parser.add_argument("--tokens", type=int, default=32)
    args = parser.parse_args()
    args.dtype = args.dtype or ("bfloat16" if args.model == "gemma" else "float32")
    asyncio.run(bench(args))


if __name__ == "__main__":
    main()
