"""Keeps one worker process alive beside the web process, restarting it if it dies."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading

__all__ = ["WorkerSupervisor"]

log = logging.getLogger(__name__)


class WorkerSupervisor:
    def __init__(self, *, restart_delay_s: float = 1.0) -> None:
        self._delay = restart_delay_s
        self._process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="worker-supervisor", daemon=True)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> None:
        self._spawn()
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stopping.set()
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self._process.kill()

    def _spawn(self) -> None:
        # A separate interpreter: training must not share the web process's GIL or memory.
        command = [sys.executable, "-m", "modelyard", "worker", "--parent-pid", str(os.getpid())]
        self._process = subprocess.Popen(command)
        log.info("started job worker (pid %d)", self._process.pid)

    def _watch(self) -> None:
        while not self._stopping.wait(self._delay):
            if self._process and self._process.poll() is not None and not self._stopping.is_set():
                log.warning("job worker exited with %s; restarting it", self._process.returncode)
                self._spawn()
