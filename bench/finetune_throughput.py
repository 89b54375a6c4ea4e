"""Training tokens/s of modelyard's ``train()`` vs a plain PEFT LoRA loop, side by side.

Both train the same model on the same examples (same token ids, same loss mask, same
batches in the same order), with the same LoRA config, batch size and AdamW settings.
The plain loop is the minimal one everybody writes: right padding, ``model(...,
labels=...)``, backward, step; no checkpoints, no logging. Rounds are interleaved, so a
busy machine slows both alike. Each of our rounds is a fresh ``train()`` call; its
window runs from the second ``should_stop()`` to the last one, so it holds every step's
own work (hooks, events) but not model loading, the first step (one-time allocations of
a fresh model; the plain loop's first step of a round is left out too) or the
checkpoint written at the end. On a shared 2-core box, ``--threads 1`` gives steadier
figures: two threads spin against other processes.

    python bench/finetune_throughput.py                    # tiny random model, seconds
    python bench/finetune_throughput.py --model-dir ~/.cache/modelyard-tests/models/gemma-3-270m \\
        --steps 4 --rounds 2

Prints the machine first, then per number format (float32 and bfloat16 side by side, or
one with ``--dtype``) tokens/s for both loops, the ratio (goal: >= 1.0x) and the cores our
loop kept busy (CPU seconds / wall seconds), and which format ``auto`` picks for training.
Where bf16 is emulated (no avx512_bf16/AMX) a gemma bf16 step takes minutes: use
``--steps 2 --rounds 1`` there.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from bench._machine import auto_choice, describe_machine  # noqa: E402
from bench._server import CACHE  # noqa: E402
from modelyard.finetune import TrainSpec, resolve  # noqa: E402
from modelyard.finetune.spec import ResolvedSpec  # noqa: E402
from modelyard.prompting import Message  # noqa: E402

NAMES = ("Ada", "Lin", "Omar", "Sofia", "Kenji", "Priya", "Tomas", "Wei", "Amara", "Lars")
CITIES = ("Paris", "Lagos", "Osaka", "Lima", "Oslo", "Pune", "Quito", "Hanoi", "Turin", "Perth")
JOBS = ("nurse", "pilot", "chef", "welder", "teacher", "lawyer", "farmer", "coder")


def examples(n: int, seed: int = 0) -> list[list[Message]]:
    """A structured-output task like the one in DESIGN.md: prose in, JSON out."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        name, city, job, age = rng.choice(NAMES), rng.choice(CITIES), rng.choice(JOBS), rng.randint(18, 80)
        text = f"{name} is a {age}-year-old {job} who moved to {city} " + "last year. " * rng.randint(0, 6)
        out.append(
            [
                Message("system", "Extract name, age, city and job as JSON."),
                Message("user", text.strip()),
                Message("assistant", f'{{"name": "{name}", "age": {age}, "city": "{city}", "job": "{job}"}}'),
            ]
        )
    return out


class _Clock:
    """Hooks that time the steps of one ``train()`` call."""

    def __init__(self) -> None:
        self.asked, self.first, self.last = 0, 0.0, 0.0

    def should_stop(self) -> str | None:
        self.asked += 1
        now = time.perf_counter()
        if self.asked == 2:
            self.first = now
        self.last = now
        return None

    def on_event(self, event: dict[str, Any]) -> None:
        pass

    def on_checkpoint(self, step: int, path: Path, metrics: dict[str, Any]) -> None:
        pass


def ours(
    spec: ResolvedSpec, model_dir: Path, data: list[list[Message]], dtype: str, busy: list[float]
) -> tuple[float, float]:
    """(tokens, seconds) of steps 2 .. n-1 of a fresh run (n = steps per epoch); appends the
    cores kept busy over the whole call to ``busy``."""
    from modelyard.finetune.data import encode_examples, epoch_batches
    from modelyard.finetune.runner import train

    clock = _Clock()
    cpu, wall = time.process_time(), time.perf_counter()
    with tempfile.TemporaryDirectory() as work:
        train(
            spec,
            base_model_dir=model_dir,
            train=data,
            validation=None,
            work_dir=Path(work),
            hooks=clock,
            dtype=dtype,
        )
    busy.append((time.process_time() - cpu) / (time.perf_counter() - wall))
    encoded = _encode(model_dir, data, spec, encode_examples)
    batches = epoch_batches(len(encoded), spec.batch_size, spec.seed, 0)[1 : clock.asked - 1]
    tokens = sum(len(encoded[i].input_ids) for batch in batches for i in batch)
    return tokens, clock.last - clock.first


def _encode(model_dir: Path, data: list[list[Message]], spec: ResolvedSpec, encode: Any) -> list[Any]:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    return encode(tokenizer, data, spec.max_seq_length).examples


class Plain:
    """The minimal PEFT loop, kept loaded across rounds."""

    def __init__(self, spec: ResolvedSpec, model_dir: Path, data: list[list[Message]], dtype: str) -> None:
        import torch
        from peft import get_peft_model
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from modelyard.finetune.build import adamw_settings, lora_config
        from modelyard.finetune.data import encode_examples, epoch_batches, pad_token_id

        tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
        self.examples = encode_examples(tokenizer, data, spec.max_seq_length).examples
        self.pad = pad_token_id(tokenizer)
        self.batches = epoch_batches(len(self.examples), spec.batch_size, spec.seed, 0)
        base = AutoModelForCausalLM.from_pretrained(
            model_dir, dtype=getattr(torch, dtype), local_files_only=True, use_safetensors=True
        )
        torch.manual_seed(spec.seed)
        self.model = get_peft_model(base, lora_config(spec))
        self.model.train()
        params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(params, **adamw_settings(spec).as_kwargs())

    def run(self, steps: int) -> tuple[float, float]:
        """(tokens, seconds) of batches 2 .. steps; the first one runs untimed."""
        self.step(self.batches[0])
        tokens, started = 0, time.perf_counter()
        for batch in self.batches[1:steps]:
            tokens += self.step(batch)
        return tokens, time.perf_counter() - started

    def step(self, batch: list[int]) -> int:
        import torch

        rows = [self.examples[i] for i in batch]
        width = max(len(e.input_ids) for e in rows)
        ids = torch.tensor([list(e.input_ids) + [self.pad] * (width - len(e.input_ids)) for e in rows])
        mask = torch.tensor([[1] * len(e.input_ids) + [0] * (width - len(e.input_ids)) for e in rows])
        labels = torch.tensor([e.labels + [-100] * (width - len(e.input_ids)) for e in rows])
        loss = self.model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return int(mask.sum())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model-dir", type=Path, help="a local safetensors causal LM (default: tiny)")
    parser.add_argument("--steps", type=int, default=12, help="steps per round (the first is untimed)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--dtype", default="both", choices=("both", "float32", "bfloat16"))
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()

    import torch

    print(describe_machine(CACHE))
    if args.threads:
        torch.set_num_threads(args.threads)
    model_dir = args.model_dir or _tiny_model()
    # One epoch of steps + 1 batches: our timed window (steps 1 .. n-1) holds no checkpoint.
    n_examples = (args.steps + 1) * args.batch_size
    data = examples(n_examples)
    spec = resolve(
        TrainSpec(n_epochs=1, batch_size=args.batch_size, checkpoint_every_steps=10**6), n_examples
    )
    results = {}
    for dtype in ("float32", "bfloat16") if args.dtype == "both" else (args.dtype,):
        results[dtype] = _one_format(spec, model_dir, data, dtype, args)
    _summary(model_dir, args, results)


def _one_format(
    spec: ResolvedSpec, model_dir: Path, data: list[list[Message]], dtype: str, args: argparse.Namespace
) -> tuple[dict[str, list[float]], list[float]]:
    plain = Plain(spec, model_dir, data, dtype)
    rates: dict[str, list[float]] = {"plain PEFT loop": [], "modelyard train()": []}
    busy: list[float] = []
    for round_ in range(args.rounds):
        for name, measure in (
            ("plain PEFT loop", lambda: plain.run(args.steps)),
            ("modelyard train()", lambda: ours(spec, model_dir, data, dtype, busy)),
        ):
            tokens, seconds = measure()
            rates[name].append(tokens / seconds)
            line = f"{dtype} round {round_ + 1} {name:18s} {tokens:6.0f} tokens in {seconds:6.2f} s"
            print(line, flush=True)
    return rates, busy


def _summary(
    model_dir: Path, args: argparse.Namespace, results: dict[str, tuple[dict[str, list[float]], list[float]]]
) -> None:
    import torch

    print(f"\nmodel {model_dir.name}, batch {args.batch_size}, threads {torch.get_num_threads()}")
    mine_by_format = {}
    for dtype, (rates, busy) in results.items():
        plain, mine = (statistics.median(r) for r in rates.values())
        mine_by_format[dtype] = mine
        print(f"{dtype}:")
        print(f"  plain PEFT loop    {plain:9.1f} tokens/s (median of {args.rounds})")
        print(f"  modelyard train()  {mine:9.1f} tokens/s (median of {args.rounds})")
        print(f"  cores kept busy    {max(busy):9.2f} (CPU s / wall s of a train() call)")
        print(f"  ratio              {mine / plain:9.2f}x (goal >= 1.0x)")
    if len(mine_by_format) == 2:
        ratio = mine_by_format["float32"] / mine_by_format["bfloat16"]
        print(f"float32 / bfloat16 training speed: {ratio:.2f}x")
    print(f"auto picks {auto_choice(CACHE).train} for training on this machine")


def _tiny_model() -> Path:
    from tests.helpers.tiny_models import build_tiny_causal_lm

    return build_tiny_causal_lm(Path(tempfile.mkdtemp(prefix="modelyard-bench-")) / "tiny")


if __name__ == "__main__":
    main()
