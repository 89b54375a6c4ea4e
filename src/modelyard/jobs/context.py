"""What a job handler is given: its lease, its kind, the worker's services, and stop flags."""

from __future__ import annotations

import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from modelyard.config import Settings
from modelyard.jobs.kinds import JobKind
from modelyard.jobs.queue import JobQueue, Lease
from modelyard.store import Database

if TYPE_CHECKING:
    from modelyard.worker_services import WorkerServices

__all__ = ["JobContext"]

T = TypeVar("T")


@dataclass
class JobContext:
    lease: Lease
    kind: JobKind
    settings: Settings
    queue: JobQueue
    services: WorkerServices
    # Runs a coroutine on the worker's one event loop, where its services' writers live.
    run_async: Callable[[Coroutine[Any, Any, Any]], Any]
    # Set when another worker took the job over (the lease ran out): stop, publish nothing.
    lost: threading.Event = field(default_factory=threading.Event)
    # Set when the worker is asked to stop: a job checkpoints and hands itself back.
    shutdown: threading.Event = field(default_factory=threading.Event)

    @property
    def db(self) -> Database:
        return self.services.db

    @property
    def job_id(self) -> str:
        return self.lease.job_id
