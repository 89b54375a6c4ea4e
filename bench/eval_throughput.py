"""Evaluation wall time for 40 items on gemma-3-270m vs the same requests one at a time.

One server (with its worker) in one run: first the 40 held-out questions of the demo task
are sent to /v1/chat/completions one after another (what a script without the platform
does), then the same 40 as an evaluation job, whose runner sends them concurrently so
the model batches them. Both use temperature 0 and the same max_tokens; the model is
loaded in both processes before timing. Prints the machine, then for each number format
(float32 and bfloat16 side by side by default, one server each) both wall times and the
speed-up (goal >= 3x), and which format ``auto`` serves with on this machine.

    python bench/eval_throughput.py [--items 40] [--max-tokens 48] [--dtype both|float32|bfloat16]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _machine import auto_choice, describe_machine  # noqa: E402
from _server import CACHE, running_server  # noqa: E402

from modelyard.demo.sales_charts import generate, to_chat  # noqa: E402

MODEL = "gemma-3-270m"


def one_at_a_time(client: httpx.Client, rows: list[dict], max_tokens: int) -> tuple[float, list[str]]:
    started, answers = time.perf_counter(), []
    for row in rows:
        body = {"model": MODEL, "messages": row["messages"][:-1], "temperature": 0, "max_tokens": max_tokens}
        answers.append(
            client.post("/v1/chat/completions", json=body)
            .raise_for_status()
            .json()["choices"][0]["message"]["content"]
        )
    return time.perf_counter() - started, answers


def as_evaluation(client: httpx.Client, file_id: str, max_tokens: int) -> tuple[float, str]:
    body = {
        "file": file_id,
        "models": [MODEL],
        "metrics": [{"name": "exact_match"}],
        "generation": {"temperature": 0, "max_tokens": max_tokens},
        "concurrency": 8,
    }
    started = time.perf_counter()
    evaluation = client.post("/v1/evaluations", json=body).raise_for_status().json()
    while evaluation["status"] not in ("succeeded", "failed", "cancelled"):
        time.sleep(0.2)
        evaluation = client.get(f"/v1/evaluations/{evaluation['id']}").raise_for_status().json()
    if evaluation["status"] != "succeeded":
        raise SystemExit(f"evaluation {evaluation['status']}: {evaluation['error']}")
    return time.perf_counter() - started, evaluation["id"]


def upload(client: httpx.Client, rows: list[dict]) -> str:
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
    files = {"file": ("bench.jsonl", data)}
    return client.post("/v1/files", files=files, data={"purpose": "evals"}).raise_for_status().json()["id"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=40)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--dtype", default="both", choices=("both", "float32", "bfloat16"))
    args = parser.parse_args()
    print(describe_machine(CACHE))
    _, held_out = generate(100, args.items)
    rows = [to_chat(example) for example in held_out]
    for dtype in ("float32", "bfloat16") if args.dtype == "both" else (args.dtype,):
        one_format(rows, dtype, args.max_tokens)
    print(f"auto serves with {auto_choice(CACHE).serve} on this machine")


def one_format(rows: list[dict], dtype: str, max_tokens: int) -> None:
    with running_server(worker=True, MODELYARD_TORCH_DTYPE=dtype) as (url, key):
        client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=1800)
        warm = upload(client, rows[:2])
        one_at_a_time(client, rows[:1], 4)  # load the model in the server
        as_evaluation(client, warm, 4)  # and in the worker
        file_id = upload(client, rows)
        sequential_s, answers = one_at_a_time(client, rows, max_tokens)
        evaluation_s, evaluation_id = as_evaluation(client, file_id, max_tokens)
        report = client.get(f"/v1/evaluations/{evaluation_id}/report").raise_for_status().json()
    batched = {row["index"]: row["models"][MODEL]["output"] for row in report["examples"]}
    same = sum(batched[i] == answers[i] for i in range(len(rows)))
    print(f"{MODEL} {dtype}, {len(rows)} items, max_tokens {max_tokens}, temperature 0")
    print(f"  one request at a time: {sequential_s:7.1f} s")
    print(f"  as an evaluation job:  {evaluation_s:7.1f} s (concurrency 8)")
    print(f"  speed-up {sequential_s / evaluation_s:.2f}x (goal >= 3x); identical answers {same}/{len(rows)}")


if __name__ == "__main__":
    main()
