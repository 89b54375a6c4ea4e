"""The one engine instance a host owns: its base model, and the adapters requests name.

A host is built for one base ``ModelSpec``; an adapter arrives with each request as an
:class:`AdapterRef`, and the first request naming it attaches it to the base (for the
transformers engine, PEFT layers on the one shared copy of the base's weights). The engine
also counts requests in flight, so the supervisor can drain a host before stopping it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass, replace
from importlib import import_module
from pathlib import Path
from typing import Any

from modelyard.backends.base import BackendContext, ModelSpec, StreamChunk, TextBackend, Usage
from modelyard.backends.registry import create_backend
from modelyard.errors import BackendUnavailable, Conflict, InvalidRequest, ModelNotReady, ModelyardError
from modelyard.hosts.launch import AdapterRef, HostLaunch

__all__ = ["ADAPTER_ENGINES", "HostEngine", "HostState"]

log = logging.getLogger(__name__)

# Engines whose backends take a LoRA adapter in ``source["adapter"]`` on a shared base.
ADAPTER_ENGINES = frozenset({"transformers"})


@dataclass(frozen=True, slots=True)
class HostState:
    status: str  # "loading" | "ready" | "failed" | "draining"
    reason: str | None = None
    in_flight: int = 0
    adapters: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "reason": self.reason,
            "in_flight": self.in_flight,
            "adapters": list(self.adapters),
        }


class HostEngine:
    def __init__(self, launch: HostLaunch) -> None:
        self.launch = launch
        self.spec: ModelSpec = launch.spec
        self._context: BackendContext = launch.backend_context()
        self._base: TextBackend | None = None
        self._adapters: dict[str, tuple[str, TextBackend]] = {}
        self._adapter_lock = asyncio.Lock()
        self._status = "loading"
        self._reason: str | None = None
        self._loaded = asyncio.Event()
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    # -- lifecycle -------------------------------------------------------------
    async def load(self) -> None:
        """Build the engine and load the base's weights; a failure is kept as the reason."""
        try:
            for module in self.launch.plugins:
                import_module(module)
            backend = create_backend(self.spec, self._context)
            if not isinstance(backend, TextBackend):
                raise InvalidRequest(f"model '{self.spec.id}' is not a text model; a host serves text")
            self._base = backend
            await _load_weights(backend)
        except Exception as exc:  # any failure: the host stays up to report why
            log.exception("host %s failed to load", self.launch.label)
            self._fail(exc)
        else:
            if self._status == "loading":
                self._status = "ready"
            log.info("host %s is ready", self.launch.label)
        finally:
            self._loaded.set()

    def drain(self) -> None:
        """Refuse new requests from now on; those in flight go on to their end."""
        if self._status != "failed":
            self._status = "draining"

    async def wait_idle(self) -> None:
        await self._idle.wait()

    async def close(self) -> None:
        backends = [backend for _, backend in self._adapters.values()]
        backends.extend([self._base] if self._base is not None else [])
        self._adapters.clear()
        self._base = None
        for backend in backends:
            await backend.close()

    def state(self) -> HostState:
        return HostState(self._status, self._reason, self._in_flight, tuple(self._adapters))

    # -- requests --------------------------------------------------------------
    async def backend_for(self, adapter: AdapterRef | None) -> TextBackend:
        """The backend a request runs on; refuses while draining or after a failed load."""
        self._check_accepting()
        await self._loaded.wait()
        self._check_accepting()
        assert self._base is not None
        if adapter is None:
            return self._base
        return await self._adapter_backend(adapter)

    async def run(self, work: Callable[[], Any]) -> Any:
        """Await ``work()`` counted as in flight."""
        with self.in_flight():
            return await work()

    async def stream(self, items: AsyncIterator[StreamChunk | Usage]) -> AsyncIterator[Any]:
        """``items``, counted as in flight until the stream ends or its reader leaves."""
        with self.in_flight():
            async with aclosing(items):  # type: ignore[type-var]
                async for item in items:
                    yield item

    def in_flight(self) -> _InFlight:
        return _InFlight(self)

    # -- internals -------------------------------------------------------------
    async def _adapter_backend(self, adapter: AdapterRef) -> TextBackend:
        if self.spec.backend not in ADAPTER_ENGINES:
            raise InvalidRequest(f"the {self.spec.backend} engine does not take adapters", param="adapter")
        path = self._adapter_path(adapter)
        async with self._adapter_lock:  # one attach per adapter, even for concurrent first requests
            entry = self._adapters.get(adapter.id)
            if entry is None:
                backend = create_backend(self._adapter_spec(adapter.id, path), self._context)
                assert isinstance(backend, TextBackend)
                try:
                    await _load_weights(backend)
                except BaseException:
                    await backend.close()
                    raise
                entry = self._adapters[adapter.id] = (str(path), backend)
        if entry[0] != str(path):
            raise Conflict(f"adapter '{adapter.id}' is already loaded from another folder", param="adapter")
        return entry[1]

    def _adapter_path(self, adapter: AdapterRef) -> Path:
        path = Path(adapter.path).resolve()
        root = self.launch.adapter_root
        if root is not None and not path.is_relative_to(root.resolve()):
            raise InvalidRequest("the adapter lies outside this host's adapter folder", param="adapter")
        return path

    def _adapter_spec(self, adapter_id: str, path: Path) -> ModelSpec:
        source = {**self.spec.source, "adapter": str(path), "base_model": self.spec.id}
        return replace(self.spec, id=adapter_id, source=source)

    def _check_accepting(self) -> None:
        if self._status == "draining":
            raise BackendUnavailable(f"the host of '{self.spec.id}' is stopping; retry", code="host_draining")
        if self._status == "failed":
            raise ModelNotReady(
                f"model '{self.spec.id}' failed to load: {self._reason}", headers={"Retry-After": "30"}
            )

    def _fail(self, exc: BaseException) -> None:
        self._status = "failed"
        if isinstance(exc, ModelyardError):
            self._reason = exc.message
        else:  # a library's words may name files; the kind of failure is enough for a caller
            self._reason = f"{type(exc).__name__} while loading the model"


class _InFlight:
    def __init__(self, engine: HostEngine) -> None:
        self._engine = engine

    def __enter__(self) -> None:
        self._engine._in_flight += 1
        self._engine._idle.clear()

    def __exit__(self, *_: object) -> None:
        self._engine._in_flight -= 1
        if self._engine._in_flight == 0:
            self._engine._idle.set()


async def _load_weights(backend: TextBackend) -> None:
    load = getattr(backend, "load", None)  # remote engines have nothing to load
    if load is not None:
        await load()
