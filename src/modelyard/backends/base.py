"""The interface every engine implements, and the plain data it speaks.

Nothing here imports torch, httpx or FastAPI: wire models live in ``gateway.protocol``
and heavy libraries are imported inside each plug-in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from modelyard.prompting import Message

if TYPE_CHECKING:
    from modelyard.security.outbound import OutboundGuard

__all__ = [
    "BackendContext",
    "Choice",
    "EmbeddingBackend",
    "Embeddings",
    "Generation",
    "GenerationParams",
    "ModelSpec",
    "StreamChunk",
    "TextBackend",
    "Usage",
]


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """What a backend needs to know about one catalog model."""

    id: str
    backend: str
    task: str
    source: dict[str, Any] = field(default_factory=dict)
    # Decrypted upstream credential for remote providers; never logged, never returned.
    secret: str | None = None
    context_length: int | None = None


@dataclass(frozen=True, slots=True)
class BackendContext:
    """Process-wide settings a backend may need (from ``Settings``)."""

    models_dir: Path
    # "auto": the format measured faster on this machine, via ``number_formats``.
    torch_dtype: str = "auto"
    torch_threads: int | None = None  # None: the cores this process may run on
    upstream_timeout_s: float = 60.0
    upstream_connect_timeout_s: float = 5.0
    default_max_tokens: int = 256
    # Checks every address a remote backend connects to; None: the strictest guard (no
    # allow-list), so a context built without one still refuses internal addresses.
    outbound: OutboundGuard | None = field(default=None, compare=False, hash=False)
    # Sent as X-Modelyard-Hop on provider calls; the gateway refuses requests carrying it.
    hop_marker: str | None = field(default=None, compare=False, hash=False, repr=False)
    # Process-wide resources backends share, e.g. one loaded base model under many
    # LoRA adapters. Not part of equality: two contexts are alike whatever they hold.
    shared: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    # Resolves "auto" (hardware.NumberFormats); None: measured with a cache in models_dir.
    number_formats: Any = field(default=None, compare=False, hash=False)
    # What this process's copy of a model mostly does, for "auto": "interactive" (the
    # gateway: chat, one stream or a few) or "batch" (the job worker: evaluation items).
    workload: str = "interactive"

    def resolved_torch_dtype(self) -> str:
        """The format local weights are loaded in; measures the machine once for "auto"."""
        if self.torch_dtype != "auto":
            return self.torch_dtype
        formats = self.number_formats
        if formats is None:
            from modelyard.hardware import NumberFormats

            formats = NumberFormats(self.models_dir.parent / "hardware", threads=self.torch_threads)
            self.shared.setdefault("number_formats", formats)
            formats = self.shared["number_formats"]
        if self.workload == "batch":
            return str(formats.batch_dtype("auto"))
        return str(formats.serve_dtype("auto"))


@dataclass(frozen=True, slots=True)
class GenerationParams:
    max_tokens: int | None = None
    temperature: float = 1.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int | None = None
    n: int = 1
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Choice:
    index: int
    text: str
    finish_reason: str  # "stop" | "length"


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class Generation:
    choices: list[Choice]
    usage: Usage


@dataclass(frozen=True, slots=True)
class StreamChunk:
    """A piece of one choice's text; ``finish_reason`` is set on its last piece."""

    index: int
    text: str
    finish_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Embeddings:
    vectors: list[list[float]]
    usage: Usage


@runtime_checkable
class TextBackend(Protocol):
    """Chat and text completion. Streams yield chunks, then exactly one ``Usage``."""

    async def chat(self, messages: Sequence[Message], params: GenerationParams) -> Generation: ...

    async def complete(self, prompt: str, params: GenerationParams) -> Generation: ...

    def stream_chat(
        self, messages: Sequence[Message], params: GenerationParams
    ) -> AsyncIterator[StreamChunk | Usage]: ...

    def stream_complete(
        self, prompt: str, params: GenerationParams
    ) -> AsyncIterator[StreamChunk | Usage]: ...

    async def close(self) -> None: ...


@runtime_checkable
class EmbeddingBackend(Protocol):
    async def embed(self, texts: Sequence[str]) -> Embeddings: ...

    async def close(self) -> None: ...
