"""Decode speed of gemma-3-270m through the API in float32, bfloat16 and ``auto``, and vs
calling transformers directly.

Three real server processes (``MODELYARD_TORCH_DTYPE`` float32, bfloat16 and the default
``auto``), reached over loopback HTTP, decode the same prompt greedily for the same number
of new tokens in interleaved rounds, one run; transformers' ``generate`` in this process,
in the format ``auto`` picked, is the baseline for the API's own cost. Prints the machine
and its flags first, tokens/s for each, and auto / the faster hand-set format (goal: >= 0.95,
"no slower than the faster of the two measured by hand") and API / direct (goal: > 0.9).

    python bench/tokens_per_second.py [--rounds 5] [--tokens 64]
    ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 python bench/tokens_per_second.py  # an AVX2-only CPU
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _machine import auto_choice, describe_machine  # noqa: E402
from _server import CACHE, running_server  # noqa: E402

PROMPT = "The history of the printing press begins"


def direct_model(dtype: str):  # noqa: ANN201 - torch types are imported lazily
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from modelyard.backends.transformers import ensure_builtin_model

    folder = ensure_builtin_model("gemma-3-270m", CACHE / "models")
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=getattr(torch, dtype), local_files_only=True)
    return model.eval(), tokenizer


def direct_round(model, tokenizer, tokens: int) -> float:  # noqa: ANN001
    import torch

    inputs = tokenizer(PROMPT, return_tensors="pt")
    started = time.perf_counter()
    with torch.inference_mode():
        out = model.generate(**inputs, max_new_tokens=tokens, min_new_tokens=tokens, do_sample=False)
    produced = out.shape[1] - inputs["input_ids"].shape[1]
    return produced / (time.perf_counter() - started)


def api_round(client: httpx.Client, tokens: int) -> float:
    body = {"model": "gemma-3-270m", "prompt": PROMPT, "max_tokens": tokens, "temperature": 0}
    started = time.perf_counter()
    response = client.post("/v1/completions", json=body)
    response.raise_for_status()
    return response.json()["usage"]["completion_tokens"] / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=64)
    args = parser.parse_args()
    print(describe_machine(CACHE))
    picked = auto_choice(CACHE).serve
    model, tokenizer = direct_model(picked)
    formats = ("float32", "bfloat16", "auto")
    with ExitStack() as stack:
        clients = {}
        for name in formats:
            url, key = stack.enter_context(running_server(MODELYARD_TORCH_DTYPE=name))
            headers = {"Authorization": f"Bearer {key}"}
            clients[name] = stack.enter_context(httpx.Client(base_url=url, headers=headers, timeout=900))
            api_round(clients[name], 4)  # load the model in that server
        direct_round(model, tokenizer, 4)
        rates: dict[str, list[float]] = {name: [] for name in (*formats, "direct")}
        for _ in range(args.rounds):
            rates["direct"].append(direct_round(model, tokenizer, args.tokens))
            for name in formats:
                rates[name].append(api_round(clients[name], args.tokens))
    median = {name: statistics.median(values) for name, values in rates.items()}
    best = max(("float32", "bfloat16"), key=median.__getitem__)
    print(f"gemma-3-270m, {args.tokens} new tokens, {args.rounds} interleaved rounds (median tok/s)")
    for name in formats:
        print(f"  API, MODELYARD_TORCH_DTYPE={name:9s} {median[name]:6.2f} tok/s")
    print(f"  direct transformers generate ({picked}): {median['direct']:6.2f} tok/s")
    print(f"  auto picked {picked}; auto / faster hand-set ({best}) = {median['auto'] / median[best]:.3f}")
    print(f"  API / direct = {median['auto'] / median['direct']:.3f}  (goal > 0.9)")


if __name__ == "__main__":
    main()
