"""Start a throw-away `modelyard serve` for a benchmark (loopback only)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

__all__ = ["CACHE", "running_server"]

CACHE = Path(os.environ.get("MODELYARD_TEST_CACHE", Path.home() / ".cache" / "modelyard-tests"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_server(*, worker: bool = False, **env: str) -> Iterator[tuple[str, str]]:
    """Yields (base_url, admin_key) of a server with its own empty home."""
    home = Path(tempfile.mkdtemp(prefix="modelyard-bench-"))
    port = _free_port()
    environment = {
        **os.environ,
        "MODELYARD_HOME": str(home),
        "MODELYARD_PORT": str(port),
        "MODELYARD_MODELS_DIR": str(CACHE / "models"),
        "MODELYARD_HARDWARE_DIR": str(CACHE / "hardware"),
        **env,
    }
    command = [
        sys.executable,
        "-m",
        "modelyard",
        "serve",
        "--worker" if worker else "--no-worker",
        "--no-import-builtins",
    ]
    log = (home / "server.log").open("wb")
    process = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url, (home / "admin.key").read_text().strip()
    finally:
        process.terminate()
        process.wait(timeout=30)
