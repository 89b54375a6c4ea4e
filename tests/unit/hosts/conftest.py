"""Hosts on the tiny model, and on a slow test engine loaded into the host as a plug-in."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from modelyard.backends import GenerationParams, ModelSpec
from modelyard.hosts import HostHandle, HostLaunch, LocalProcessExecutor
from tests.helpers.deadlines import WaitTimedOut, scaled

T = TypeVar("T")
GREEDY = GenerationParams(temperature=0, max_tokens=12)
REPO_ROOT = Path(__file__).resolve().parents[3]
SLOW_PLUGIN = "tests.unit.hosts.slow_engine"


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Each test drives hosts from a fresh event loop; clients are made inside it."""
    return asyncio.run(coro)


async def until(predicate: Callable[[], Any], seconds: float, *, what: str) -> None:
    """Polls ``predicate`` (sync) until truthy, within a scaled deadline."""
    ends = time.monotonic() + scaled(seconds)
    while not predicate():
        if time.monotonic() >= ends:
            raise WaitTimedOut(f"gave up waiting for {what} after {scaled(seconds):g} s")
        await asyncio.sleep(0.02)


def executor() -> LocalProcessExecutor:
    # The slow engine lives in the tests package: the host must be able to import it.
    return LocalProcessExecutor(start_timeout_s=scaled(60), env={"PYTHONPATH": str(REPO_ROOT)})


def tiny_launch(model_dir: Path, models_dir: Path, **kwargs: Any) -> HostLaunch:
    spec = ModelSpec(id="tiny", backend="transformers", task="chat", source={"path": str(model_dir)})
    return HostLaunch(
        spec=spec, models_dir=models_dir, torch_dtype="float32", default_max_tokens=16, **kwargs
    )


def slow_launch(models_dir: Path, *, pieces: int, delay_s: float, **kwargs: Any) -> HostLaunch:
    spec = ModelSpec(
        id="slow", backend="test-slow", task="chat", source={"pieces": pieces, "delay_s": delay_s}
    )
    return HostLaunch(spec=spec, models_dir=models_dir, plugins=(SLOW_PLUGIN,), **kwargs)


async def wait_ready(handle: HostHandle) -> dict[str, Any]:
    from modelyard.hosts import HostClient

    client = HostClient(handle)
    try:
        ends = time.monotonic() + scaled(60)
        while (state := await client.health())["status"] == "loading":
            if time.monotonic() >= ends:
                raise WaitTimedOut("the host to load its model")
            await asyncio.sleep(0.02)
        return state
    finally:
        await client.close()


@pytest.fixture(scope="module")
def adapter_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("adapters")


@pytest.fixture(scope="module")
def tiny_host(
    tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory, adapter_root: Path
) -> Iterator[HostHandle]:
    launch = tiny_launch(tiny_model_dir, tmp_path_factory.mktemp("models"), adapter_root=adapter_root)

    async def start() -> HostHandle:
        handle = await executor().start(launch)
        state = await wait_ready(handle)
        assert state["status"] == "ready", state
        return handle

    handle = run(start())
    yield handle
    run(handle.terminate(grace_s=scaled(10)))
