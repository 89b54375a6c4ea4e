"""A real `modelyard serve` process on a loopback port, as a user would start it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_CACHE
from tests.helpers.deadlines import scaled, wait_until


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    base_url: str
    admin_key: str
    home: Path
    env: dict[str, str]

    def cli(self, *args: str, key: str | None = None, stdin: str = "") -> subprocess.CompletedProcess[str]:
        env = {**self.env, "MODELYARD_API_KEY": key or self.admin_key}
        return subprocess.run(
            [sys.executable, "-m", "modelyard", *args],
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=scaled(600),
        )


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    def healthy() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text()[-3000:]}")
        try:
            return httpx.get(f"{url}/health", timeout=scaled(1)).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(healthy, 60, what=f"{url}/health", interval=0.1, last=lambda: log.read_text()[-3000:])


@contextmanager
def start_server(
    home: Path, port: int, *, worker: bool = True, extra_env: dict[str, str] | None = None
) -> Iterator[LiveServer]:
    home.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "MODELYARD_HOME": str(home),
        "MODELYARD_PORT": str(port),
        "MODELYARD_MODELS_DIR": str(TEST_CACHE / "models"),
        "MODELYARD_HARDWARE_DIR": str(TEST_CACHE / "hardware"),
        "MODELYARD_BASE_URL": f"http://127.0.0.1:{port}",
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    log = home / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "modelyard",
                "serve",
                "--no-import-builtins",
                "--worker" if worker else "--no-worker",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base_url, process, log)
        admin_key = (home / "admin.key").read_text().strip()
        yield LiveServer(base_url=base_url, admin_key=admin_key, home=home, env=env)
    finally:
        process.terminate()
        try:
            process.wait(timeout=scaled(20))
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with start_server(tmp_path_factory.mktemp("live-home"), free_port()) as server:
        yield server
