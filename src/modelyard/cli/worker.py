"""`modelyard worker`: run fine-tuning (and later evaluation) jobs."""

from __future__ import annotations

import logging
import signal
import threading

from modelyard.config import Settings

__all__ = ["worker"]


def worker() -> None:
    """Run jobs from the queue until stopped (SIGTERM/Ctrl-C)."""
    from modelyard.jobs.worker import Worker

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    Worker(Settings()).run_forever(stop)
