"""The live demo end to end, every setting at its default, on this machine.

Starts ``modelyard serve`` (with its job worker) on an empty home, runs ``modelyard demo
finetune`` against it as a user would, and prints the machine first, then what ``auto``
picked there (from ``GET /v1/admin/system``), the demo's figures, and how many cores the
worker kept busy while it ran (CPU seconds / wall seconds). The number-format choice is
measured afresh (a new hardware cache) unless ``--keep-hardware-cache``.

    python bench/demo_end_to_end.py
    ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 python bench/demo_end_to_end.py  # an AVX2-only CPU

Goal: >= 80% held-out exact match in <= 10 minutes for the whole demo.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).parent))
from _machine import describe_machine  # noqa: E402
from _server import CACHE, running_server  # noqa: E402


class CpuMeter:
    """CPU seconds of a process tree (the server and its worker) over a stretch of wall time."""

    def __init__(self, pid: int) -> None:
        self._root = psutil.Process(pid)
        self._seen: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self.started = time.perf_counter()

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            for process in [self._root, *self._root.children(recursive=True)]:
                try:
                    times = process.cpu_times()
                except psutil.Error:
                    continue
                self._seen[process.pid] = times.user + times.system

    def __enter__(self) -> CpuMeter:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def cores_busy(self) -> float:
        return sum(self._seen.values()) / (time.perf_counter() - self.started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep-hardware-cache", action="store_true")
    args = parser.parse_args()
    print(describe_machine(CACHE))
    hardware = CACHE / "hardware" if args.keep_hardware_cache else Path(tempfile.mkdtemp()) / "hardware"
    with running_server(worker=True, MODELYARD_HARDWARE_DIR=str(hardware)) as (url, key):
        server_pid = _server_pid(url)
        system = httpx.get(f"{url}/v1/admin/system", headers={"Authorization": f"Bearer {key}"}, timeout=120)
        choice = system.json()["number_formats"]["choice"]
        print(f"server's auto: serving {choice['serve']}, training {choice['train']}")
        print(f"  {choice['serve_reason']}")
        folder = Path(tempfile.mkdtemp())
        out, report = folder / "figures.json", folder / "demo-report.html"
        env = {**os.environ, "MODELYARD_BASE_URL": url, "MODELYARD_API_KEY": key}
        demo = ["demo", "finetune", "--out", str(out), "--report-out", str(report)]
        command = [sys.executable, "-m", "modelyard", *demo]
        with CpuMeter(server_pid) as meter:
            subprocess.run(command, env=env, check=True)
        figures = json.loads(out.read_text())
    print(json.dumps(figures, ensure_ascii=False, indent=1))
    print(
        f"whole demo {figures['total_wall_s']:.0f} s (goal <= 600 s); "
        f"fine-tune {figures['fine_tune_wall_s']:.0f} s; "
        f"held-out exact match {figures['base_exact_match']:.0%} -> {figures['fine_tuned_exact_match']:.0%} "
        f"(goal >= 80%); server + worker kept {meter.cores_busy():.2f} cores busy on average"
    )


def _server_pid(url: str) -> int:
    port = int(url.rsplit(":", 1)[1])
    for connection in psutil.net_connections("tcp"):
        if connection.laddr and connection.laddr.port == port and connection.status == psutil.CONN_LISTEN:
            return int(connection.pid)
    raise RuntimeError("the server's process was not found")


if __name__ == "__main__":
    main()
