"""`modelyard worker`: run fine-tuning and evaluation jobs."""

from __future__ import annotations

import logging
import os
import signal
import threading

import typer

from modelyard.config import Settings

__all__ = ["worker"]


def _stop_when_orphaned(parent_pid: int, stop: threading.Event) -> None:
    # A worker started by `modelyard serve` must not outlive it, even after a kill -9.
    while not stop.wait(1.0):
        if os.getppid() != parent_pid:
            stop.set()


def worker(
    parent_pid: int | None = typer.Option(
        None, "--parent-pid", hidden=True, help="Exit when this process ends."
    ),
) -> None:
    """Run jobs from the queue until stopped (SIGTERM/Ctrl-C)."""
    from modelyard.jobs.worker import Worker

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    if parent_pid is not None:
        threading.Thread(target=_stop_when_orphaned, args=(parent_pid, stop), daemon=True).start()
    settings = Settings()
    # Training takes every core it is given; at a lower priority, the gateway's requests
    # (another process) still get the CPU at once while a job trains.
    os.nice(settings.worker_nice)
    # The worker builds its services once and stops them (flushing usage and audit) on exit.
    Worker(settings).run_forever(stop)
