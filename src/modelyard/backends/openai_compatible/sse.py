"""Server-sent events, read line by line as they arrive."""

from __future__ import annotations

from collections.abc import AsyncIterator

__all__ = ["sse_data"]


async def sse_data(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    """Yield each event's data as soon as the blank line that ends it arrives.

    Only ``data:`` fields matter to OpenAI's protocol; ``event:``, ``id:``, ``retry:``
    and comment lines (``: keep-alive``) are skipped. An event with several data lines
    is joined with newlines, as the SSE specification says.
    """
    data: list[str] = []
    async for line in lines:
        if not line:
            if data:
                yield data[0] if len(data) == 1 else "\n".join(data)
                data = []
        elif line.startswith("data:"):
            value = line[5:]
            data.append(value[1:] if value.startswith(" ") else value)
    if data:  # a last event the provider did not terminate with a blank line
        yield "\n".join(data)
