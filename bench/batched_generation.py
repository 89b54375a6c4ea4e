"""Concurrent requests to one local model: batched decoding vs one request at a time.

The same requests (short sales questions in Chinese; by default as chat in modelyard's
default prompt format, temperature 0) go through one TransformersBackend two ways, in
interleaved rounds (the order alternates each round) in one run:

  sequential  send one, await its answer, send the next
  concurrent  send all at once; the host's micro-batcher decodes them in batches

Prints the median wall time of each, their ratio (goal on gemma-3-270m: >= 3x for 16
requests in batches of 8), how the requests were batched, and whether every answer was
the same both ways.

The base gemma-3-270m tends to answer a chat turn in ~10 tokens and then stop at the
next turn's header; ``--mode complete`` sends the questions as plain completions with
no stop, so every request decodes all ``--tokens`` tokens (decode-bound, not prefill).

    python bench/batched_generation.py [--model gemma|tiny] [--mode chat|complete]
                                       [--rounds 3] [--requests 16] [--tokens 32]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

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
Ask = Callable[[str], Awaitable[str]]  # one question in, its answer out


def backend_for(model: str, dtype: str) -> TransformersBackend:
    if model == "gemma":
        folder = ensure_builtin_model("gemma-3-270m", CACHE / "models")
    else:
        from tests.helpers.tiny_models import build_tiny_causal_lm

        folder = build_tiny_causal_lm(Path(tempfile.mkdtemp(prefix="modelyard-bench-")) / "tiny")
    spec = ModelSpec(id=model, backend="transformers", task="chat", source={"path": str(folder)})
    return TransformersBackend(spec, BackendContext(models_dir=CACHE / "models", torch_dtype=dtype))


def asker(backend: TransformersBackend, mode: str, max_tokens: int) -> Ask:
    params = GenerationParams(temperature=0, max_tokens=max_tokens)

    async def ask(question: str) -> str:
        if mode == "complete":
            result = await backend.complete(f"问：{question}\n答：", params)
        else:
            result = await backend.chat([Message("user", question)], params)
        return result.choices[0].text

    return ask


async def sequential(ask: Ask, questions: list[str]) -> Answers:
    return [await ask(q) for q in questions]


async def concurrent(ask: Ask, questions: list[str]) -> Answers:
    return list(await asyncio.gather(*(ask(q) for q in questions)))


async def timed(
    run: Callable[[Ask, list[str]], Awaitable[Answers]], ask: Ask, questions: list[str]
) -> tuple[float, Answers]:
    started = time.perf_counter()
    answers = await run(ask, questions)
    return time.perf_counter() - started, answers


@dataclass
class Results:
    times: dict[str, list[float]] = field(default_factory=lambda: {"sequential": [], "concurrent": []})
    alone: Answers = field(default_factory=list)  # the first sequential run's answers
    batches: list[int] = field(default_factory=list)  # decode batches, per concurrent run
    same: list[int] = field(default_factory=list)  # answers equal to alone, per concurrent run
    differing: dict[int, str] = field(default_factory=dict)  # question -> a batched answer unlike alone

    def record_batched(self, answers: Answers, batches: int) -> None:
        self.batches.append(batches)
        self.same.append(sum(a == b for a, b in zip(self.alone, answers, strict=True)))
        self.differing.update(
            {i: b for i, (a, b) in enumerate(zip(self.alone, answers, strict=True)) if a != b}
        )


async def bench(args: argparse.Namespace) -> Results:
    backend = backend_for(args.model, args.dtype)
    ask = asker(backend, args.mode, args.tokens)
    questions = [QUESTIONS[i % len(QUESTIONS)] for i in range(args.requests)]
    await ask(questions[0])  # load the model; warm the kernels for one row...
    await concurrent(ask, questions)  # ...and for a batch
    results = Results()
    for round_ in range(args.rounds):
        order = (sequential, concurrent) if round_ % 2 == 0 else (concurrent, sequential)
        for run in order:
            before = backend.batch_stats().batches
            wall, got = await timed(run, ask, questions)
            results.times[run.__name__].append(wall)
            if run is sequential:
                if results.alone and got != results.alone:
                    print("  note: answers sent one at a time changed between rounds")
                results.alone = results.alone or got
                continue
            results.record_batched(got, backend.batch_stats().batches - before)
        print(f"  round {round_ + 1}: " + "  ".join(f"{k} {v[-1]:6.2f}s" for k, v in results.times.items()))
    await backend.close()
    return results


def report(args: argparse.Namespace, results: Results) -> None:
    times = results.times
    seq, conc = statistics.median(times["sequential"]), statistics.median(times["concurrent"])
    ratios = [s / c for s, c in zip(times["sequential"], times["concurrent"], strict=True)]
    print(f"{args.model} {args.dtype}, {args.requests} {args.mode} requests, max_tokens {args.tokens},")
    print(f"temperature 0, {args.rounds} interleaved rounds (median)")
    print(f"  one at a time:  {seq:7.2f} s")
    print(f"  all at once:    {conc:7.2f} s   (decode batches per run: {results.batches})")
    print(f"  speed-up:       {seq / conc:7.2f}x   (per round: {', '.join(f'{r:.2f}' for r in ratios)})")
    print(f"  answers identical to one-at-a-time, per concurrent run: {results.same} of {args.requests}")
    for i, batched in sorted(results.differing.items()):
        print(f"    #{i} alone:   {results.alone[i]!r}\n    #{i} batched: {batched!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("gemma", "tiny"), default="gemma")
    parser.add_argument("--mode", choices=("chat", "complete"), default="chat")
    parser.add_argument("--dtype", default=None, help="default: bfloat16 for gemma, float32 for tiny")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=16)
    parser.add_argument("--tokens", type=int, default=32)
    args = parser.parse_args()
    args.dtype = args.dtype or ("bfloat16" if args.model == "gemma" else "float32")
    report(args, asyncio.run(bench(args)))


if __name__ == "__main__":
    main()
