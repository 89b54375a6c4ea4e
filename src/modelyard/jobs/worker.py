"""The worker: claims jobs, keeps their lease alive, and runs them through an executor.

`modelyard serve` starts one worker process beside the web process; `modelyard worker`
starts one on its own. Job logic registers per kind and never knows where it runs: the
executor decides (in this process today; a Ray cluster can run the same function).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from modelyard.config import Settings
from modelyard.jobs.queue import JobQueue, Lease
from modelyard.store import Database

__all__ = ["JobContext", "JobHandler", "Worker", "register_job_kind"]

log = logging.getLogger(__name__)


@dataclass
class JobContext:
    """What a job handler gets: its lease, the store, settings, and whether it still owns the job."""

    lease: Lease
    settings: Settings
    db: Database
    queue: JobQueue
    lost: threading.Event = field(default_factory=threading.Event)
    # Set when the worker is asked to stop: a job checkpoints and hands itself back.
    shutdown: threading.Event = field(default_factory=threading.Event)
    # Lives as long as the worker: loaded models stay loaded from one job to the next.
    resources: dict[str, Any] = field(default_factory=dict)


JobHandler = Callable[[JobContext], None]
_HANDLERS: dict[str, JobHandler] = {}


def register_job_kind(kind: str) -> Callable[[JobHandler], JobHandler]:
    def decorator(handler: JobHandler) -> JobHandler:
        if kind in _HANDLERS:
            raise ValueError(f"job kind '{kind}' is already registered")
        _HANDLERS[kind] = handler
        return handler

    return decorator


def _load_job_kinds() -> None:
    # Importing the modules registers their handlers.
    import modelyard.evals.job  # noqa: F401
    import modelyard.finetune.job  # noqa: F401


class _LeaseKeeper:
    """Renews a lease in the background until stopped; flags the job when it is lost."""

    def __init__(self, context: JobContext, interval_s: float) -> None:
        self._context = context
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{context.lease.job_id}", daemon=True)

    def __enter__(self) -> _LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                if not self._context.queue.renew(self._context.lease):
                    self._context.lost.set()
                    return
            except Exception:  # noqa: BLE001 - a database hiccup; try again next tick
                log.warning("renewing the lease of %s failed", self._context.lease.job_id)


class Worker:
    def __init__(self, settings: Settings, db: Database | None = None) -> None:
        _load_job_kinds()
        self.settings = settings
        self.db = db or Database(settings.resolved_database_url)
        self.queue = JobQueue(self.db, lease_s=settings.job_lease_s)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.stopping = threading.Event()
        self.resources: dict[str, Any] = {}

    def run_once(self) -> bool:
        """Claim and run one job; False when there was nothing to do."""
        lease = self.queue.claim(self.owner, tuple(_HANDLERS))
        if lease is None:
            return False
        context = JobContext(
            lease=lease,
            settings=self.settings,
            db=self.db,
            queue=self.queue,
            shutdown=self.stopping,
            resources=self.resources,
        )
        log.info("running %s job %s (attempt %d)", lease.kind, lease.job_id, lease.attempt)
        with _LeaseKeeper(context, interval_s=max(self.settings.job_lease_s / 3, 0.2)):
            try:
                _HANDLERS[lease.kind](context)
            except Exception:
                # The handler records its own failures; this is the last line of defence.
                log.exception("job %s failed unexpectedly", lease.job_id)
                self.queue.finish(lease.job_id)
        return True

    def run_forever(self, stop: threading.Event | None = None) -> None:
        stop = self.stopping = stop or self.stopping
        log.info("worker %s polling for jobs", self.owner)
        while not stop.is_set():
            if not self.run_once():
                stop.wait(self.settings.worker_poll_s)
