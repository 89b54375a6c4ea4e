"""One request's stream, put back together from its rows (one row per choice).

A request with ``n`` choices runs as ``n`` rows, often in the same batch, so their text
arrives interleaved. The stream still gives choice 0 in full, then choice 1, ...: the
current choice streams as it is decoded, later ones are held until it ends. Then one
``Usage``, always the last item, or the first error and nothing after it.
"""

from __future__ import annotations

from collections.abc import Callable

from modelyard.backends.base import StreamChunk, Usage

__all__ = ["ChoiceRelay"]


class ChoiceRelay:
    """A ``RowSink`` for every row of one request; called on the host's worker thread only."""

    def __init__(self, n: int, prompt_tokens: int, put: Callable[[object], None]) -> None:
        self._n = n
        self._prompt_tokens = prompt_tokens
        self._put = put
        self._current = 0  # the choice now streaming
        self._held: dict[int, list[str]] = {}
        self._ended: dict[int, str] = {}  # finish reasons of choices not yet passed on
        self._completion_tokens = 0
        self._failed = False

    def text(self, index: int, piece: str) -> None:
        if self._failed:
            return
        if index == self._current:
            self._put(StreamChunk(index, piece))
        else:
            self._held.setdefault(index, []).append(piece)

    def finish(self, index: int, reason: str, completion_tokens: int) -> None:
        if self._failed:
            return
        self._completion_tokens += completion_tokens
        self._ended[index] = reason
        while self._current in self._ended:
            self._put(StreamChunk(self._current, "", self._ended.pop(self._current)))
            self._current += 1
            held = self._held.pop(self._current, None)
            if held:
                self._put(StreamChunk(self._current, "".join(held)))
        if self._current == self._n:
            self._put(Usage(self._prompt_tokens, self._completion_tokens))

    def fail(self, error: BaseException) -> None:
        if not self._failed:
            self._failed = True
            self._put(error)
