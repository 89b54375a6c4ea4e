"""Backends that answer, fail or wait on demand, and a clock the tests move by hand."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TypeVar

from modelyard.backends.base import Choice, Generation, GenerationParams, StreamChunk, Usage
from modelyard.prompting import Message
from tests.helpers.deadlines import scaled

T = TypeVar("T")
HELLO = [Message("user", "hello")]
PARAMS = GenerationParams()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeBackend:
    """Answers "<name>" (streamed as pieces "<name>", "!"), or fails as told.

    ``errors``: raised by the next calls, one each, before any piece of a stream.
    ``fail_after``: a stream raises this error after its first piece.
    ``gate``: when set, each call waits for it to open before answering.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls = 0
        self.errors: list[BaseException] = []
        self.fail_after: BaseException | None = None
        self.gate: asyncio.Event | None = None
        self.started = 0  # calls that have begun waiting at the gate
        self.closed_streams = 0

    def fail_next(self, *errors: BaseException) -> FakeBackend:
        self.errors.extend(errors)
        return self

    async def _begin(self) -> None:
        self.calls += 1
        self.started += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.errors:
            raise self.errors.pop(0)

    def _answer(self) -> Generation:
        return Generation([Choice(0, self.name, "stop")], Usage(1, 2))

    async def chat(self, messages: Sequence[Message], params: GenerationParams) -> Generation:
        await self._begin()
        return self._answer()

    async def complete(self, prompt: str, params: GenerationParams) -> Generation:
        await self._begin()
        return self._answer()

    async def stream_chat(
        self, messages: Sequence[Message], params: GenerationParams
    ) -> AsyncIterator[StreamChunk | Usage]:
        try:
            await self._begin()
            yield StreamChunk(0, self.name)
            if self.fail_after is not None:
                raise self.fail_after
            yield StreamChunk(0, "!", "stop")
            yield Usage(1, 2)
        finally:
            self.closed_streams += 1

    def stream_complete(self, prompt: str, params: GenerationParams) -> AsyncIterator[StreamChunk | Usage]:
        return self.stream_chat([Message("user", prompt)], params)

    async def close(self) -> None:
        pass


def run(main: Callable[[], Awaitable[T]], seconds: float = 5.0) -> T:
    """Runs one test's coroutine on a fresh loop, bounded by a scaled deadline."""

    async def bounded() -> T:
        return await asyncio.wait_for(main(), scaled(seconds))

    return asyncio.run(bounded())


async def until(predicate: Callable[[], bool], seconds: float = 5.0) -> None:
    """Yields to the loop until ``predicate`` holds, within a scaled deadline."""
    async with asyncio.timeout(scaled(seconds)):
        while not predicate():
            await asyncio.sleep(0)


async def collect(stream: AsyncIterator[StreamChunk | Usage]) -> list[StreamChunk | Usage]:
    return [piece async for piece in stream]


def text(pieces: list[StreamChunk | Usage]) -> str:
    return "".join(p.text for p in pieces if isinstance(p, StreamChunk))
