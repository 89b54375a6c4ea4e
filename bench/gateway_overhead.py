"""Latency the gateway adds over calling an OpenAI-compatible upstream directly.

A loopback mock upstream runs in its own process; a real `modelyard serve` runs in
another, with a remote model pointing at the mock. The same chat request goes to the
mock directly and through the gateway, in interleaved rounds, at concurrency 1 and 32.
Prints p50/p99 of each path and what the gateway adds (goal: p50 added <= 2 ms).

    python bench/gateway_overhead.py [--requests 300] [--rounds 4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).parent))
from _server import running_server  # noqa: E402

BODY = {"model": "bench-remote", "messages": [{"role": "user", "content": "hello there"}], "max_tokens": 16}
_UPSTREAM = (
    "import sys, time\n"
    "from tests.helpers.mock_upstream import MockUpstream\n"
    "m = MockUpstream(record=False).start()\n"
    "print(m.base_url, flush=True)\n"
    "time.sleep(1e6)\n"
)


def start_upstream() -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-c", _UPSTREAM], env=env, stdout=subprocess.PIPE, text=True)
    return process, process.stdout.readline().strip()


async def one_round(client: httpx.AsyncClient, url: str, body: dict, n: int, concurrency: int) -> list[float]:
    latencies: list[float] = []
    left = iter(range(n))

    async def worker() -> None:
        for _ in left:
            started = time.perf_counter()
            response = await client.post(url, json=body)
            latencies.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


async def measure(upstream: str, gateway: str, key: str, args: argparse.Namespace) -> None:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        direct_url, gateway_url = f"{upstream}/chat/completions", f"{gateway}/v1/chat/completions"
        direct_body = {**BODY, "model": "mock-model"}
        client.headers["Authorization"] = f"Bearer {key}"
        print(f"{'concurrency':>11} {'path':>8} {'p50 ms':>8} {'p99 ms':>8}")
        for concurrency in (1, 32):
            await one_round(client, gateway_url, BODY, 50, concurrency)  # warm up both paths
            await one_round(client, direct_url, direct_body, 50, concurrency)
            direct: list[float] = []
            through: list[float] = []
            for _ in range(args.rounds):
                direct += await one_round(client, direct_url, direct_body, args.requests, concurrency)
                through += await one_round(client, gateway_url, BODY, args.requests, concurrency)
            for name, values in (("direct", direct), ("gateway", through)):
                print(f"{concurrency:>11} {name:>8} {pct(values, 50):8.2f} {pct(values, 99):8.2f}")
            added50, added99 = pct(through, 50) - pct(direct, 50), pct(through, 99) - pct(direct, 99)
            ratio = pct(through, 50) / pct(direct, 50)
            print(f"{concurrency:>11} {'added':>8} {added50:8.2f} {added99:8.2f}   (p50 ratio {ratio:.2f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per path per round")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument(
        "--with-quota",
        action="store_true",
        help="give the calling tenant generous per-minute limits, so every call is also rate-checked",
    )
    args = parser.parse_args()
    upstream_process, upstream = start_upstream()
    try:
        with running_server() as (gateway, key):
            admin = httpx.Client(base_url=gateway, headers={"Authorization": f"Bearer {key}"})
            # The mock is on loopback, which the outbound guard refuses unless an admin allows
            # that host and port.
            mock = upstream.split("//", 1)[1].split("/", 1)[0]
            admin.post("/v1/admin/outbound-allowlist", json={"host": mock}).raise_for_status()
            register = {
                "kind": "remote",
                "id": "bench-remote",
                "base_url": upstream,
                "upstream_model": "mock-model",
            }
            admin.post("/v1/models", json=register).raise_for_status()
            if args.with_quota:
                limits = {"requests_per_minute": 10_000_000, "tokens_per_minute": 10_000_000_000}
                admin.put("/v1/admin/quotas/tenants/platform", json=limits).raise_for_status()
            asyncio.run(measure(upstream, gateway, key, args))
    finally:
        upstream_process.terminate()


if __name__ == "__main__":
    main()
