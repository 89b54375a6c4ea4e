"""Job kinds: what a kind is (its row, its events, its handler) and the registry of them.

Kinds register when a worker is set up (``modelyard.worker_services.platform_job_kinds``),
not when their modules are imported: the job modules import ``modelyard.jobs``, never the
other way round.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from modelyard.jobs.context import JobContext

__all__ = ["EventWriter", "JobHandler", "JobKind", "JobKinds"]

JobHandler = Callable[["JobContext"], None]


class EventWriter(Protocol):
    def __call__(
        self, session: Any, job_id: str, message: str, *, level: str = ..., data: dict[str, Any] | None = ...
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class JobKind:
    """One kind of job: ``table`` rows carry ``id``, ``status``, ``error`` and ``finished_at``."""

    name: str
    table: type[Any]
    add_event: EventWriter
    run: JobHandler


class JobKinds:
    """The kinds a worker runs; refuses a second kind of the same name."""

    def __init__(self, kinds: Iterable[JobKind] = ()) -> None:
        self._kinds: dict[str, JobKind] = {}
        for kind in kinds:
            self.register(kind)

    def register(self, kind: JobKind) -> None:
        if kind.name in self._kinds:
            raise ValueError(f"job kind '{kind.name}' is already registered")
        self._kinds[kind.name] = kind

    def get(self, name: str) -> JobKind:
        return self._kinds[name]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._kinds)

    def __iter__(self) -> Iterator[JobKind]:
        return iter(self._kinds.values())
