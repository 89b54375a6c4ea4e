"""A test engine whose answers take a while: pieces spaced by a sleep, to hold requests in flight.

Imported by a host process through ``HostLaunch.plugins``; never by the test process itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from modelyard.backends.base import (
    BackendContext,
    Choice,
    Generation,
    GenerationParams,
    ModelSpec,
    StreamChunk,
    Usage,
)
from modelyard.backends.registry import register_backend
from modelyard.prompting import Message

NAME = "test-slow"


class SlowBackend:
    def __init__(self, spec: ModelSpec) -> None:
        self._pieces = int(spec.source.get("pieces", 10))
        self._delay_s = float(spec.source.get("delay_s", 0.05))

    async def chat(self, messages: Sequence[Message], params: GenerationParams) -> Generation:
        return await self.complete(messages[-1].content, params)

    async def complete(self, prompt: str, params: GenerationParams) -> Generation:
        text = "".join(
            [
                item.text
                async for item in self.stream_complete(prompt, params)
                if isinstance(item, StreamChunk)
            ]
        )
        return Generation([Choice(0, text, "stop")], Usage(1, self._pieces))

    def stream_chat(
        self, messages: Sequence[Message], params: GenerationParams
    ) -> AsyncIterator[StreamChunk | Usage]:
        return self.stream_complete(messages[-1].content, params)

    async def stream_complete(
        self, prompt: str, params: GenerationParams
    ) -> AsyncIterator[StreamChunk | Usage]:
        for i in range(self._pieces):
            await asyncio.sleep(self._delay_s)  # causes the slowness; not a wait
            yield StreamChunk(0, f"{i} ", "stop" if i == self._pieces - 1 else None)
        yield Usage(1, self._pieces)

    async def close(self) -> None:
        return None


@register_backend(NAME)
def _create(spec: ModelSpec, context: BackendContext) -> SlowBackend:
    return SlowBackend(spec)
