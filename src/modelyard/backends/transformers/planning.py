"""Checks a request against the model before any compute is spent (torch-free)."""

from __future__ import annotations

from modelyard.backends.base import GenerationParams
from modelyard.errors import InvalidRequest, UnsupportedParameter

__all__ = ["check_params", "completion_budget"]


def check_params(params: GenerationParams) -> None:
    """Refuse what this engine cannot honour, naming the offending parameter."""
    if params.extra:
        name = sorted(params.extra)[0]
        raise UnsupportedParameter(f"'{name}' is not supported by local transformers models", param=name)
    if params.n < 1:
        raise InvalidRequest("n must be at least 1", param="n")
    if params.temperature < 0:
        raise InvalidRequest("temperature must not be negative", param="temperature")
    if not 0 < params.top_p <= 1:
        raise InvalidRequest("top_p must be in (0, 1]", param="top_p")
    if params.max_tokens is not None and params.max_tokens < 1:
        raise InvalidRequest("max_tokens must be at least 1", param="max_tokens")


def completion_budget(
    prompt_tokens: int,
    max_tokens: int | None,
    *,
    context_length: int,
    default_max_tokens: int,
    prompt_param: str,
) -> int:
    """How many tokens may be generated: the request's (or default) max, capped to fit."""
    if max_tokens is not None and max_tokens > context_length:
        raise InvalidRequest(
            f"max_tokens is {max_tokens}, more than the model's context length of {context_length} tokens",
            param="max_tokens",
        )
    if prompt_tokens >= context_length:
        # At least one token must fit after the prompt.
        raise InvalidRequest(
            f"the prompt is {prompt_tokens} tokens; the model's context length is {context_length} tokens",
            param=prompt_param,
            code="context_length_exceeded",
        )
    wanted = max_tokens if max_tokens is not None else default_max_tokens
    return max(1, min(wanted, context_length - prompt_tokens))
