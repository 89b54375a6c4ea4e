"""Remote models behind any OpenAI-compatible API.

Importing this package registers the ``"openai-compatible"`` backend. ``spec.source``
holds ``base_url`` (e.g. ``https://api.example.com/v1``), ``upstream_model`` (the name the
provider knows the model by) and optionally ``timeout_s``; ``spec.secret`` is the
provider's API key.
"""

from __future__ import annotations

from modelyard.backends.base import BackendContext, ModelSpec
from modelyard.backends.openai_compatible.backend import OpenAICompatibleBackend
from modelyard.backends.registry import register_backend

__all__ = ["OpenAICompatibleBackend"]


@register_backend("openai-compatible")
def _create(spec: ModelSpec, context: BackendContext) -> OpenAICompatibleBackend:
    return OpenAICompatibleBackend(spec, context)
