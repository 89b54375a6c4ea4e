"""Sentence embeddings served with sentence-transformers.

Importing this package registers the ``"sentence-transformers"`` backend only; torch and
sentence-transformers are imported when the first model loads.
"""

from __future__ import annotations

from modelyard.backends.base import BackendContext, ModelSpec
from modelyard.backends.registry import register_backend
from modelyard.backends.sentence_transformers.backend import (
    BUILTIN_EMBEDDING_MODELS,
    SentenceTransformersBackend,
    builtin_embedding_folder,
)

__all__ = ["BUILTIN_EMBEDDING_MODELS", "SentenceTransformersBackend", "builtin_embedding_folder"]


@register_backend("sentence-transformers")
def _create(spec: ModelSpec, context: BackendContext) -> SentenceTransformersBackend:
    return SentenceTransformersBackend(spec, context)
