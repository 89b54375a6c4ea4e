"""Where hosts run. An :class:`Executor` starts a host and hands back a :class:`HostHandle`.

One implementation now, :class:`LocalProcessExecutor` (a child process on this machine);
a Ray executor will place the same host on a cluster node and hand back the same kind of
handle, so the supervisor and the router never know the difference.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Protocol, runtime_checkable

from modelyard.errors import BackendUnavailable
from modelyard.hosts.launch import HostLaunch, encode_launch

__all__ = ["Executor", "HostHandle", "LocalHostHandle", "LocalProcessExecutor"]

log = logging.getLogger(__name__)


@runtime_checkable
class HostHandle(Protocol):
    """A started host: where it listens, its secret, and control over its life."""

    @property
    def address(self) -> str: ...  # base URL, e.g. http://127.0.0.1:43121

    @property
    def secret(self) -> str: ...

    @property
    def pid(self) -> int: ...

    def alive(self) -> bool: ...

    async def terminate(self, *, grace_s: float) -> None:
        """Ask the host to stop; kill it if it has not exited after ``grace_s``."""
        ...

    def kill(self) -> None: ...


class Executor(Protocol):
    async def start(self, launch: HostLaunch) -> HostHandle:
        """Start a host; returns once it listens (its model may still be loading)."""
        ...


class LocalHostHandle:
    def __init__(self, process: subprocess.Popen[bytes], port: int, secret: str) -> None:
        self._process = process
        self._port = port
        self._secret = secret

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def secret(self) -> str:
        return self._secret

    @property
    def pid(self) -> int:
        return self._process.pid

    def alive(self) -> bool:
        return self._process.poll() is None

    def kill(self) -> None:
        if self.alive():
            self._process.kill()
        self._process.wait()
        self._close_lifeline()

    async def terminate(self, *, grace_s: float) -> None:
        if self.alive():
            self._process.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(self._process.wait, max(grace_s, 0.0))
        except subprocess.TimeoutExpired:
            log.warning("host pid %d did not stop within %.1f s; killing it", self.pid, grace_s)
            self.kill()
        self._close_lifeline()

    def _close_lifeline(self) -> None:
        stdin = self._process.stdin
        if stdin is not None and not stdin.closed:
            try:
                stdin.close()
            except OSError:  # the child is gone and the pipe with it
                pass


class LocalProcessExecutor:
    """Hosts as child processes of this one (``python -m modelyard.hosts.server``).

    ``log_dir``: each host's stderr goes to ``<log_dir>/<name>-<pid>.log``; None: this
    process's stderr. ``env``: variables added to the child's environment.
    """

    def __init__(
        self,
        *,
        start_timeout_s: float = 60.0,
        log_dir: Path | None = None,
        env: Mapping[str, str] | None = None,
        python: str = sys.executable,
    ) -> None:
        self._start_timeout_s = start_timeout_s
        self._log_dir = log_dir
        self._env = dict(env or {})
        self._python = python

    async def start(self, launch: HostLaunch) -> HostHandle:
        secret = secrets.token_urlsafe(32)
        log_file = self._open_log(launch)
        try:
            process = subprocess.Popen(
                [self._python, "-m", "modelyard.hosts.server"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log_file,
                env={**os.environ, **self._env},
                start_new_session=True,  # a Ctrl-C at the terminal goes to the supervisor only
            )
        finally:
            if log_file is not None:
                log_file.close()  # the child holds its own copy
        handle_port = await self._handshake(process, launch, secret)
        return LocalHostHandle(process, handle_port, secret)

    async def _handshake(self, process: subprocess.Popen[bytes], launch: HostLaunch, secret: str) -> int:
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(encode_launch(launch, secret))
            process.stdin.flush()  # and kept open: it is the child's lifeline
            line = await asyncio.wait_for(
                asyncio.to_thread(process.stdout.readline), timeout=self._start_timeout_s
            )
            announced = json.loads(line) if line else {}
            port = int(announced["port"])
        except (OSError, ValueError, KeyError, TimeoutError) as exc:
            _reap(process)
            log.error("host %s did not start (exit status %s)", launch.label, process.returncode)
            raise BackendUnavailable(f"the host for '{launch.label}' did not start") from exc
        finally:
            process.stdout.close()
        log.info("host %s started: pid %d, port %d", launch.label, process.pid, port)
        return port

    def _open_log(self, launch: HostLaunch) -> IO[bytes] | None:
        if self._log_dir is None:
            return None
        self._log_dir.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        name = "".join(c if c.isalnum() or c in "-_." else "_" for c in launch.label)
        return open(self._log_dir / f"{name}-{stamp}-{os.getpid()}.log", "ab")  # noqa: SIM115


def _reap(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait()
    if process.stdin is not None:
        try:
            process.stdin.close()
        except OSError:
            pass
