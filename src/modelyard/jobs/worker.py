"""The worker: claims jobs, keeps their lease alive, and runs them through their kind.

`modelyard serve` starts one worker process beside the web process; `modelyard worker`
starts one on its own. The worker builds its services once (``WorkerServices``: store,
catalog, files, backend pool, usage, audit, quotas, the call path), runs every async part
of every job on one event loop where those services live, and stops them on exit.
Job kinds are handed in at start-up; job logic never knows where it runs.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from modelyard.config import Settings
from modelyard.jobs.context import JobContext
from modelyard.jobs.kinds import JobKinds
from modelyard.jobs.queue import JobQueue

if TYPE_CHECKING:
    from modelyard.worker_services import WorkerServices

__all__ = ["Worker"]

log = logging.getLogger(__name__)


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
    """Use as a context manager (or call ``close``): its services are stopped on exit."""

    def __init__(
        self,
        settings: Settings,
        *,
        kinds: JobKinds | None = None,
        services: WorkerServices | None = None,
    ) -> None:
        # Imported here, not at the top: the composition root imports the job modules,
        # and they import this package.
        from modelyard.worker_services import build_worker_services, platform_job_kinds

        self.settings = settings
        self.kinds = kinds or platform_job_kinds()
        self.services = services or build_worker_services(settings)
        self.queue = JobQueue(self.services.db, lease_s=settings.job_lease_s)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.stopping = threading.Event()
        self._loop = asyncio.Runner()
        self._started = False

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def run_async(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        if not self._started:
            self._started = True
            self._loop.run(self.services.start())
        return self._loop.run(coroutine)

    def run_once(self) -> bool:
        """Claim and run one job; False when there was nothing to do."""
        lease = self.queue.claim(self.owner, self.kinds.names)
        if lease is None:
            return False
        kind = self.kinds.get(lease.kind)
        context = JobContext(
            lease=lease,
            kind=kind,
            settings=self.settings,
            queue=self.queue,
            services=self.services,
            run_async=self.run_async,
            shutdown=self.stopping,
        )
        log.info("running %s job %s (attempt %d)", lease.kind, lease.job_id, lease.attempt)
        with _LeaseKeeper(context, interval_s=max(self.settings.job_lease_s / 3, 0.2)):
            try:
                kind.run(context)
            except Exception:
                # The handler records its own failures; this is the last line of defence.
                log.exception("job %s failed unexpectedly", lease.job_id)
                self.queue.finish(lease.job_id)
        # What the job metered and audited is written now, not when the next job runs.
        self.run_async(self.services.flush())
        return True

    def run_forever(self, stop: threading.Event | None = None) -> None:
        stop = self.stopping = stop or self.stopping
        log.info("worker %s polling for jobs", self.owner)
        try:
            while not stop.is_set():
                if not self.run_once():
                    stop.wait(self.settings.worker_poll_s)
        finally:
            self.close()

    def close(self) -> None:
        """Stop the services (flushing usage and audit, unloading models) and the loop."""
        try:
            if self._started:
                self._loop.run(self.services.stop())
            else:
                self.services.db.dispose()
        finally:
            self._started = False
            self._loop.close()
