"""Keeps hosts running: start, health-check, restart after a crash, drain and stop.

Each supervised host has a watcher task. Every ``health_interval_s`` it checks that the
process lives and asks ``GET /health``; a dead process, or one that has not answered
``unhealthy_after`` checks in a row (hung), is restarted after an exponential backoff,
``restart_initial_s`` doubling up to ``restart_max_s``. A host that crashes
``max_restarts`` times in a row without becoming ready again is left failed: restarting
it for ever would only burn the machine. A host whose model failed to load is not
restarted either (a missing file stays missing); it stays up to tell why.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

import httpx

from modelyard.errors import BackendUnavailable, ModelNotReady, ModelyardError
from modelyard.hosts.client import HostClient
from modelyard.hosts.executor import Executor, HostHandle
from modelyard.hosts.launch import HostLaunch

__all__ = ["SupervisedHost", "Supervisor", "SupervisorConfig", "backoff_delay"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SupervisorConfig:
    health_interval_s: float = 2.0
    health_timeout_s: float = 5.0
    unhealthy_after: int = 3
    restart_initial_s: float = 0.5
    restart_max_s: float = 30.0
    max_restarts: int = 5
    drain_s: float = 30.0  # how long stop() waits for requests in flight
    stop_grace_s: float = 10.0  # then how long the process has to exit before it is killed


def backoff_delay(attempt: int, config: SupervisorConfig) -> float:
    """The wait before restart number ``attempt`` (0-based) of a run of crashes."""
    return min(config.restart_max_s, config.restart_initial_s * 2 ** min(attempt, 30))


class SupervisedHost:
    """One host under supervision; a ``HostTarget`` that follows it across restarts.

    ``status``: starting, loading, ready, restarting, draining, failed (with ``reason``),
    stopped. Only a ready host should be sent requests.
    """

    def __init__(self, name: str, launch: HostLaunch, handle: HostHandle) -> None:
        self.name = name
        self.launch = launch
        self.handle: HostHandle | None = handle
        self.status = "loading"
        self.reason: str | None = None
        self.restarts = 0  # processes started after the first
        self.crashes = 0  # in a row, since it was last ready
        self.stopping = False
        self._changed = asyncio.Event()

    @property
    def address(self) -> str:
        return self._current().address

    @property
    def secret(self) -> str:
        return self._current().secret

    @property
    def pid(self) -> int | None:
        return None if self.handle is None else self.handle.pid

    @property
    def ready(self) -> bool:
        return self.status == "ready"

    async def wait_ready(self, timeout_s: float) -> None:
        """Until the host is ready; ``ModelNotReady`` if it fails, stops or takes too long."""
        ends = time.monotonic() + timeout_s
        while self.status != "ready":
            if self.status in ("failed", "stopped"):
                raise ModelNotReady(f"host '{self.name}' is {self.status}: {self.reason or 'stopped'}")
            left = ends - time.monotonic()
            if left <= 0:
                raise ModelNotReady(f"host '{self.name}' is still {self.status}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=min(left, 0.5))

    def set_status(self, status: str, reason: str | None = None) -> None:
        if (status, reason) != (self.status, self.reason):
            log.info("host %s: %s%s", self.name, status, f" ({reason})" if reason else "")
        self.status, self.reason = status, reason
        self._changed.set()

    def _current(self) -> HostHandle:
        if self.handle is None:
            raise BackendUnavailable(f"host '{self.name}' is not running", code="host_unreachable")
        return self.handle


class Supervisor:
    def __init__(self, executor: Executor, config: SupervisorConfig | None = None) -> None:
        self.executor = executor
        self.config = config or SupervisorConfig()
        self._hosts: dict[str, SupervisedHost] = {}
        self._watchers: dict[str, asyncio.Task[None]] = {}

    def hosts(self) -> list[SupervisedHost]:
        return list(self._hosts.values())

    async def start(self, launch: HostLaunch, *, name: str | None = None) -> SupervisedHost:
        """Start a host and watch it; returns once it listens (see ``wait_ready``)."""
        name = name or launch.label
        if name in self._hosts:
            raise ValueError(f"a host named '{name}' is already supervised")
        handle = await self.executor.start(launch)
        host = self._hosts[name] = SupervisedHost(name, launch, handle)
        self._watchers[name] = asyncio.create_task(self._watch(host), name=f"watch-host-{name}")
        return host

    async def stop(self, host: SupervisedHost, *, drain_s: float | None = None) -> None:
        """Refuse new requests, wait up to ``drain_s`` for those in flight, then stop the process."""
        host.stopping = True
        host.set_status("draining")
        watcher = self._watchers.pop(host.name, None)
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        handle = host.handle
        if handle is not None and handle.alive():
            await self._drain(handle, self.config.drain_s if drain_s is None else drain_s)
            await handle.terminate(grace_s=self.config.stop_grace_s)
        self._hosts.pop(host.name, None)
        host.handle = None
        host.set_status("stopped")

    async def close(self) -> None:
        """Stop every host, draining them side by side."""
        await asyncio.gather(*(self.stop(host) for host in self.hosts()))

    # -- internals -------------------------------------------------------------
    async def _drain(self, handle: HostHandle, drain_s: float) -> None:
        client = self._client(handle)
        ends = time.monotonic() + drain_s
        try:
            state = await client.drain()
            while state.get("in_flight", 0) > 0 and time.monotonic() < ends:
                await asyncio.sleep(min(0.05, max(0.0, ends - time.monotonic())))
                state = await client.health()
            if state.get("in_flight", 0) > 0:
                log.warning(
                    "host pid %d still had %d requests at its drain deadline", handle.pid, state["in_flight"]
                )
        except ModelyardError as exc:  # unreachable or broken: nothing more to wait for
            log.warning("could not drain host pid %d: %s", handle.pid, exc.message)
        finally:
            await client.close()

    async def _watch(self, host: SupervisedHost) -> None:
        client = self._client(host)
        misses = 0
        try:
            while not host.stopping:
                handle = host.handle
                if handle is None or not handle.alive():
                    misses = 0
                    if not await self._restart(host):
                        return
                    continue
                misses = await self._check(host, client, misses)
                if misses >= self.config.unhealthy_after:
                    log.warning("host %s stopped answering; killing it", host.name)
                    await asyncio.to_thread(handle.kill)
                    continue
                await asyncio.sleep(self.config.health_interval_s)
        finally:
            await client.close()

    async def _check(self, host: SupervisedHost, client: HostClient, misses: int) -> int:
        """One health check; returns the number of checks missed in a row."""
        try:
            state = await client.health()
        except ModelyardError:
            return misses + 1
        status = str(state.get("status"))
        if status == "ready":
            host.crashes = 0
        if host.status != "draining" or status == "draining":
            host.set_status(status, state.get("reason"))
        return 0

    async def _restart(self, host: SupervisedHost) -> bool:
        """Start a new process after a crash, after the backoff; False once given up."""
        host.handle = None
        if host.crashes >= self.config.max_restarts:
            host.set_status("failed", f"crashed {host.crashes} times in a row")
            return False
        delay = backoff_delay(host.crashes, self.config)
        host.crashes += 1
        host.set_status("restarting", f"the process ended; restart in {delay:.1f} s")
        await asyncio.sleep(delay)
        try:
            host.handle = await self.executor.start(host.launch)
        except ModelyardError as exc:
            log.warning("host %s did not restart: %s", host.name, exc.message)
            return True  # counted as a crash; the next turn backs off further
        host.restarts += 1
        host.set_status("loading")
        return True

    def _client(self, target: HostHandle | SupervisedHost) -> HostClient:
        timeout = httpx.Timeout(self.config.health_timeout_s)
        return HostClient(target, timeout=timeout)
