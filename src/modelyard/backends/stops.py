"""Stop sequences applied to streamed text, holding back what might start a stop."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["StopMatcher"]


class StopMatcher:
    """Feed text pieces in; get back the part that is safe to emit.

    A piece that could be the beginning of a stop sequence is held until the next piece
    shows whether it is one, so a stop never leaks into the output, streamed or not.
    """

    def __init__(self, stops: Iterable[str]) -> None:
        self._stops = tuple(s for s in stops if s)
        self._buffer = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        if self.stopped:
            return ""
        self._buffer += text
        cut = min((i for i in (self._buffer.find(s) for s in self._stops) if i >= 0), default=-1)
        if cut >= 0:
            self.stopped = True
            emit, self._buffer = self._buffer[:cut], ""
            return emit
        keep = self._held_suffix()
        emit, self._buffer = (
            self._buffer[: len(self._buffer) - keep],
            self._buffer[len(self._buffer) - keep :],
        )
        return emit

    def flush(self) -> str:
        emit, self._buffer = ("" if self.stopped else self._buffer), ""
        return emit

    def _held_suffix(self) -> int:
        longest = 0
        for stop in self._stops:
            for k in range(min(len(stop) - 1, len(self._buffer)), longest, -1):
                if self._buffer.endswith(stop[:k]):
                    longest = k
                    break
        return longest
