"""Chat latency through the gateway while a fine-tune trains, worker at niceness 0 vs 10.

The job worker trains with every core the process may use; the gateway must stay quick
meanwhile. For each niceness (``MODELYARD_WORKER_NICE`` 0, as before, and 10, the default)
a real ``modelyard serve`` with its worker starts; chat requests are timed idle, then
while a gemma-3-270m fine-tune runs its training steps: by default 8-token answers of
gemma-3-270m in the gateway process (the CPU the trainer competes for), with ``--remote``
calls to a remote model on a loopback mock (the gateway's own work only). Prints the
machine, p50/p99 of each, and how much training slows the chat down at each niceness.

    python bench/latency_during_training.py [--requests 20] [--remote]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _machine import describe_machine  # noqa: E402
from _server import CACHE, running_server  # noqa: E402
from finetune_throughput import examples  # noqa: E402
from gateway_overhead import BODY, start_upstream  # noqa: E402

LOCAL = {
    "model": "gemma-3-270m",
    "messages": [{"role": "user", "content": "Name three primary colours."}],
    "max_tokens": 8,
    "temperature": 0,
}


def timed_chats(client: httpx.Client, n: int, body: dict) -> list[float]:
    latencies = []
    for _ in range(n):
        started = time.perf_counter()
        client.post("/v1/chat/completions", json=body).raise_for_status()
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def start_training(client: httpx.Client) -> str:
    chats = [[{"role": m.role, "content": m.content} for m in chat] for chat in examples(100)]
    lines = [json.dumps({"messages": chat}) for chat in chats]
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as handle:
        handle.write("\n".join(lines) + "\n")
    with open(handle.name, "rb") as data:
        upload = client.post("/v1/files", files={"file": data}, data={"purpose": "fine-tune"})
    upload.raise_for_status()
    body = {"model": "gemma-3-270m", "training_file": upload.json()["id"]}
    job = client.post("/v1/fine_tuning/jobs", json=body)
    job.raise_for_status()
    return str(job.json()["id"])


def wait_for_training(client: httpx.Client, job: str) -> None:
    """Until the first step is reported: loading and tokenizing are over, training is on."""
    ends = time.monotonic() + 900
    while time.monotonic() < ends:
        events = client.get(f"/v1/fine_tuning/jobs/{job}/events").json()["data"]
        if any((e.get("data") or {}).get("step") for e in events):
            return
        time.sleep(1)
    raise RuntimeError("the fine-tune did not start training within 15 minutes")


def one_niceness(upstream: str, nice: int, n: int, body: dict) -> tuple[list[float], list[float]]:
    with running_server(worker=True, MODELYARD_WORKER_NICE=str(nice)) as (url, key):
        client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=120)
        mock = upstream.split("//", 1)[1].split("/", 1)[0]
        client.post("/v1/admin/outbound-allowlist", json={"host": mock}).raise_for_status()
        remote = {"kind": "remote", "id": "bench-remote", "base_url": upstream, "upstream_model": "mock"}
        client.post("/v1/models", json=remote).raise_for_status()
        timed_chats(client, 5, body)  # warm up (loads the model in the gateway)
        idle = timed_chats(client, n, body)
        job = start_training(client)
        wait_for_training(client, job)
        busy = timed_chats(client, n, body)
        client.post(f"/v1/fine_tuning/jobs/{job}/cancel")
        return idle, busy


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--remote", action="store_true", help="time a remote model on a mock instead")
    args = parser.parse_args()
    body = BODY if args.remote else LOCAL
    print(describe_machine(CACHE))
    upstream_process, upstream = start_upstream()
    try:
        results = {nice: one_niceness(upstream, nice, args.requests, body) for nice in (0, 10)}
    finally:
        upstream_process.terminate()
    print(f"{'worker nice':>11} {'idle p50':>9} {'idle p99':>9} {'training p50':>13} {'training p99':>13}")
    for nice, (idle, busy) in results.items():
        idle_part = f"{pct(idle, 50):9.2f} {pct(idle, 99):9.2f}"
        print(f"{nice:>11} {idle_part} {pct(busy, 50):13.2f} {pct(busy, 99):13.2f}")
    for nice, (idle, busy) in results.items():
        ratio = pct(busy, 50) / pct(idle, 50)
        print(f"nice {nice}: during training the chat's p50 is {ratio:.2f}x its idle p50")


if __name__ == "__main__":
    main()
