"""Local causal language models served with Hugging Face transformers.

Importing this package registers the ``"transformers"`` backend and nothing more: torch
and transformers are imported when the first model loads, so a gateway that only serves
remote models never pays for them.
"""

from __future__ import annotations

from modelyard.backends.base import BackendContext, ModelSpec
from modelyard.backends.registry import register_backend
from modelyard.backends.transformers.backend import TransformersBackend
from modelyard.backends.transformers.builtin import (
    BUILTIN_TEXT_MODELS,
    builtin_model_ready,
    ensure_builtin_model,
)

__all__ = [
    "BUILTIN_TEXT_MODELS",
    "TransformersBackend",
    "builtin_model_ready",
    "ensure_builtin_model",
]


@register_backend("transformers")
def _create(spec: ModelSpec, context: BackendContext) -> TransformersBackend:
    return TransformersBackend(spec, context)
