"""Turns OpenAI request bodies into backend inputs, refusing what cannot be honoured."""

from __future__ import annotations

from modelyard.backends.base import GenerationParams
from modelyard.errors import InvalidRequest, UnsupportedParameter
from modelyard.gateway.protocol import (
    PASS_THROUGH_FIELDS,
    UNSUPPORTED_FIELDS,
    ChatCompletionRequest,
    ChatMessageIn,
    CompletionRequest,
    EmbeddingRequest,
)
from modelyard.prompting import Message

__all__ = ["completion_prompts", "embedding_inputs", "generation_params", "to_messages"]

_ROLE_ALIASES = {"developer": "system"}


def _text_of(message: ChatMessageIn, index: int) -> str:
    content = message.content
    if content is None or isinstance(content, str):
        return content or ""
    parts: list[str] = []
    for part in content:
        if part.type != "text" or part.text is None:
            raise UnsupportedParameter(
                f"content part of type '{part.type}' is not supported; send text",
                param=f"messages.{index}.content",
            )
        parts.append(part.text)
    return "".join(parts)


def to_messages(request: ChatCompletionRequest) -> list[Message]:
    messages = []
    for i, message in enumerate(request.messages):
        if message.role == "tool":
            raise UnsupportedParameter("tool messages are not supported", param=f"messages.{i}.role")
        messages.append(Message(_ROLE_ALIASES.get(message.role, message.role), _text_of(message, i)))
    return messages


def generation_params(
    request: ChatCompletionRequest | CompletionRequest, accepted_extra: frozenset[str]
) -> GenerationParams:
    fields = request.model_fields_set
    for name in UNSUPPORTED_FIELDS:
        if name in fields and getattr(request, name, None) not in (None, False, [], {}):
            raise UnsupportedParameter(f"'{name}' is not supported", param=name)
    extra = {
        name: getattr(request, name)
        for name in PASS_THROUGH_FIELDS
        if getattr(request, name, None) is not None and name != "user"
    }
    for name in extra:
        if name not in accepted_extra:
            raise UnsupportedParameter(f"'{name}' is not supported by model '{request.model}'", param=name)
    max_tokens = getattr(request, "max_completion_tokens", None) or request.max_tokens
    return GenerationParams(
        max_tokens=max_tokens,
        temperature=request.temperature,
        top_p=request.top_p,
        stop=request.stops(),
        seed=request.seed,
        n=request.n,
        extra=extra,
    )


def completion_prompts(request: CompletionRequest) -> list[str]:
    if isinstance(request.prompt, str):
        return [request.prompt]
    if not request.prompt:
        raise InvalidRequest("prompt must not be empty", param="prompt")
    if request.stream and len(request.prompt) > 1:
        raise UnsupportedParameter("streaming supports a single prompt", param="prompt")
    return list(request.prompt)


def embedding_inputs(request: EmbeddingRequest) -> list[str]:
    if request.dimensions is not None:
        raise UnsupportedParameter("'dimensions' is not supported", param="dimensions")
    data = request.input
    if isinstance(data, str):
        return [data]
    if not data:
        raise InvalidRequest("input must not be empty", param="input")
    if not all(isinstance(item, str) for item in data):
        raise UnsupportedParameter("token-id input is not supported; send strings", param="input")
    if len(data) > 2048:
        raise InvalidRequest("at most 2048 inputs per request", param="input")
    return list(data)  # type: ignore[arg-type]
