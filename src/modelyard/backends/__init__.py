"""Engines behind one interface, chosen by a registry."""

from modelyard.backends.base import (
    BackendContext,
    Choice,
    EmbeddingBackend,
    Embeddings,
    Generation,
    GenerationParams,
    ModelSpec,
    StreamChunk,
    TextBackend,
    Usage,
)
from modelyard.backends.registry import create_backend, register_backend, registered_backends

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
    "create_backend",
    "register_backend",
    "registered_backends",
]
