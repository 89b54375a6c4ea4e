"""The supervisor restarts crashed hosts with a bounded backoff, and drains hosts before stopping them."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from modelyard.backends import ModelSpec, StreamChunk, Usage
from modelyard.errors import BackendUnavailable, ModelNotReady
from modelyard.hosts import HostClient, HostLaunch, Supervisor, SupervisorConfig, backoff_delay
from tests.helpers.deadlines import WaitTimedOut, scaled
from tests.unit.hosts.conftest import GREEDY, executor, run, slow_launch, tiny_launch, until

FAST = SupervisorConfig(
    health_interval_s=0.05,
    health_timeout_s=2.0,
    restart_initial_s=0.05,
    restart_max_s=0.2,
    max_restarts=3,
    stop_grace_s=5.0,
)


def test_kill_9_of_a_host_restarts_it_and_it_answers_again(tiny_model_dir: Path, tmp_path: Path) -> None:
    async def scenario() -> None:
        supervisor = Supervisor(executor(), replace_config(stop_grace_s=scaled(5)))
        host = await supervisor.start(tiny_launch(tiny_model_dir, tmp_path / "models"))
        client = HostClient(host)  # follows the host across its restart
        try:
            await host.wait_ready(scaled(60))
            before = await client.complete("The quick", GREEDY)
            old_pid = host.pid
            assert old_pid is not None
            os.kill(old_pid, signal.SIGKILL)
            await until(lambda: host.restarts == 1, 30, what="the host to be restarted")
            await host.wait_ready(scaled(60))
            assert host.pid != old_pid
            assert await client.complete("The quick", GREEDY) == before
        finally:
            await client.close()
            await supervisor.close()
        assert host.status == "stopped" and not supervisor.hosts()

    run(scenario())


def test_stop_drains_a_request_in_flight_then_the_process_exits(tmp_path: Path) -> None:
    async def scenario() -> None:
        supervisor = Supervisor(executor(), FAST)
        host = await supervisor.start(slow_launch(tmp_path, pieces=20, delay_s=0.05))
        await host.wait_ready(scaled(30))
        handle = host.handle
        assert handle is not None
        client = HostClient(handle)
        try:
            stream = client.stream_complete("go", GREEDY)
            first = await anext(stream)
            stopping = asyncio.create_task(supervisor.stop(host, drain_s=scaled(30)))
            await _host_says_draining(client)
            with pytest.raises(BackendUnavailable) as caught:  # new work is refused meanwhile
                await client.complete("another", GREEDY)
            assert caught.value.code == "host_draining"
            rest = [item async for item in stream]  # the request in flight finishes whole
            await asyncio.wait_for(stopping, timeout=scaled(30))
        finally:
            await client.close()
        pieces = [first, *rest]
        assert isinstance(pieces[-1], Usage) and pieces[-1].completion_tokens == 20
        assert "".join(p.text for p in pieces if isinstance(p, StreamChunk)) == "".join(
            f"{i} " for i in range(20)
        )
        assert not handle.alive() and host.status == "stopped"

    run(scenario())


def test_stop_does_not_wait_past_its_deadline(tmp_path: Path) -> None:
    async def scenario() -> None:
        supervisor = Supervisor(executor(), replace_config(stop_grace_s=0.5))
        launch = slow_launch(tmp_path, pieces=10_000, delay_s=0.05, shutdown_grace_s=1)
        host = await supervisor.start(launch)
        await host.wait_ready(scaled(30))
        handle = host.handle
        assert handle is not None
        client = HostClient(handle)
        try:
            stream = client.stream_complete("go", GREEDY)
            await anext(stream)
            # Bounded by the drain deadline and the grace, far below the 500 s the answer would take.
            await asyncio.wait_for(supervisor.stop(host, drain_s=0.2), timeout=scaled(20))
            assert not handle.alive()
            with pytest.raises(BackendUnavailable):  # the cut stream says so; it does not just end
                async for _ in stream:
                    pass
        finally:
            await client.close()

    run(scenario())


def test_a_model_that_fails_to_load_is_reported_and_not_restarted(tmp_path: Path) -> None:
    async def scenario() -> None:
        supervisor = Supervisor(executor(), FAST)
        spec = ModelSpec(
            id="gone", backend="transformers", task="chat", source={"path": str(tmp_path / "gone")}
        )
        host = await supervisor.start(HostLaunch(spec=spec, models_dir=tmp_path))
        client = HostClient(host)
        try:
            with pytest.raises(ModelNotReady):
                await host.wait_ready(scaled(30))
            assert host.status == "failed" and host.reason and str(tmp_path) not in host.reason
            with pytest.raises(ModelNotReady):  # a request says why, with its 503
                await client.complete("x", GREEDY)
            assert host.restarts == 0 and host.handle is not None and host.handle.alive()
        finally:
            await client.close()
            await supervisor.close()

    run(scenario())


def test_a_host_dies_with_its_parent(tmp_path: Path) -> None:
    """kill -9 of the supervising process: the host reads the end of its lifeline and exits."""
    script = (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from tests.unit.hosts.conftest import executor, slow_launch\n"
        "async def main():\n"
        "    handle = await executor().start(slow_launch(Path(sys.argv[1]), pieces=1, delay_s=0))\n"
        "    print(handle.pid, flush=True)\n"
        "    await asyncio.sleep(3600)\n"
        "asyncio.run(main())\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[3],
    )
    host_pid = 0
    try:
        assert parent.stdout is not None
        host_pid = int(parent.stdout.readline())
        assert _running(host_pid)
        parent.kill()
        parent.wait()
        run(until(lambda: not _running(host_pid), 20, what="the orphaned host to exit"))
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if host_pid and _running(host_pid):  # the test failed: leave no orphan behind
            os.kill(host_pid, signal.SIGKILL)


def test_backoff_doubles_up_to_its_cap() -> None:
    config = SupervisorConfig(restart_initial_s=0.5, restart_max_s=4.0)
    assert [backoff_delay(n, config) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert backoff_delay(10_000, config) == 4.0


@dataclass
class _FakeHandle:
    """A host that never answers; ``dead`` from the start, or alive until killed."""

    dead: bool
    pid: int = 0
    address: str = "http://127.0.0.1:9"  # discard port: nothing listens there
    secret: str = "s" * 32
    killed: bool = False

    def alive(self) -> bool:
        return not (self.dead or self.killed)

    def kill(self) -> None:
        self.killed = True

    async def terminate(self, *, grace_s: float) -> None:
        self.killed = True


@dataclass
class _FakeExecutor:
    dead: bool
    started: list[_FakeHandle] = field(default_factory=list)

    async def start(self, launch: HostLaunch) -> _FakeHandle:
        handle = _FakeHandle(self.dead, pid=len(self.started) + 1)
        self.started.append(handle)
        return handle


@pytest.mark.parametrize("dead", [True, False], ids=["crashing", "hung"])
def test_restarts_are_bounded_then_the_host_is_failed(tmp_path: Path, dead: bool) -> None:
    async def scenario() -> None:
        fake = _FakeExecutor(dead)
        supervisor = Supervisor(fake, replace_config(unhealthy_after=2))
        spec = ModelSpec(id="x", backend="transformers", task="chat")
        host = await supervisor.start(HostLaunch(spec=spec, models_dir=tmp_path))
        await until(lambda: host.status == "failed", 30, what="the supervisor to give up")
        assert host.reason == "crashed 3 times in a row"
        assert len(fake.started) == 1 + FAST.max_restarts and host.restarts == FAST.max_restarts
        if not dead:  # a host that stops answering is killed before it is replaced
            assert all(handle.killed for handle in fake.started)
        await supervisor.close()

    run(scenario())


def replace_config(**changes: float) -> SupervisorConfig:
    from dataclasses import replace

    return replace(FAST, **changes)


async def _host_says_draining(client: HostClient) -> None:
    ends = time.monotonic() + scaled(10)
    while (await client.health())["status"] != "draining":
        if time.monotonic() >= ends:
            raise WaitTimedOut("the host to be told to drain")
        await asyncio.sleep(0.02)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its new parent) counts as gone.
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
