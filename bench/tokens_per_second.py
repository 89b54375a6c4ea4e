"""Decode speed of gemma-3-270m through the API vs calling transformers directly.

Both run greedy decoding of the same prompt for the same number of new tokens, in
interleaved rounds, in one run; the API path is a real server process reached over
loopback HTTP. Prints tokens/s for each and the API's loss in percent (goal: < 10%).

    python bench/tokens_per_second.py [--rounds 5] [--tokens 64]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
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
    parser.add_argument("--dtype", default="bfloat16")
    args = parser.parse_args()
    model, tokenizer = direct_model(args.dtype)
    with running_server(MODELYARD_TORCH_DTYPE=args.dtype) as (url, key):
        client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=600)
        api_round(client, 4)  # load the model in the server
        direct_round(model, tokenizer, 4)
        direct, api = [], []
        for _ in range(args.rounds):
            direct.append(direct_round(model, tokenizer, args.tokens))
            api.append(api_round(client, args.tokens))
    d, a = statistics.median(direct), statistics.median(api)
    print(f"gemma-3-270m {args.dtype}, {args.tokens} new tokens, {args.rounds} interleaved rounds (median)")
    print(f"  direct transformers generate: {d:6.2f} tok/s")
    print(f"  through the modelyard API:    {a:6.2f} tok/s")
    print(f"  API / direct = {a / d:.3f}  (loss {100 * (1 - a / d):+.1f}%, goal < 10%)")


if __name__ == "__main__":
    main()
