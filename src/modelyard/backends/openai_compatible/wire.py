"""OpenAI's wire format: request bodies out, our dataclasses in. Pure functions, no I/O.

Parsing is strict about shape (a malformed answer is the provider's failure, a 502) and
lenient about optional parts (missing ``usage``, ``index`` or ``finish_reason``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from modelyard.backends.base import Choice, Embeddings, GenerationParams, StreamChunk, Usage
from modelyard.errors import UpstreamError
from modelyard.prompting import Message

__all__ = [
    "ACCEPTED_EXTRA",
    "UNREADABLE",
    "chat_body",
    "completion_body",
    "embedding_body",
    "error_message",
    "estimate_tokens",
    "load_json",
    "parse_embeddings",
    "parse_generation",
    "parse_stream_event",
]

# Optional OpenAI fields a provider honours and whose answer still fits our dataclasses.
# ``tools``/``logprobs`` are left out: their results (tool calls, log-probabilities) have
# no place in ``Choice``, so accepting them would silently drop what the caller asked for.
ACCEPTED_EXTRA = frozenset({"presence_penalty", "frequency_penalty", "logit_bias", "response_format"})
UNREADABLE = "the provider sent a response modelyard could not read"
_MAX_QUOTE = 300


# -- requests ----------------------------------------------------------------
def chat_body(
    model: str, messages: Sequence[Message], params: GenerationParams, *, stream: bool
) -> dict[str, Any]:
    body = _generation_body(model, params, stream)
    body["messages"] = [{"role": m.role, "content": m.content} for m in messages]
    return body


def completion_body(model: str, prompt: str, params: GenerationParams, *, stream: bool) -> dict[str, Any]:
    body = _generation_body(model, params, stream)
    body["prompt"] = prompt
    return body


def embedding_body(model: str, texts: Sequence[str]) -> dict[str, Any]:
    inputs = texts if isinstance(texts, list) else list(texts)
    # Explicit, because some SDKs and providers default to base64.
    return {"model": model, "input": inputs, "encoding_format": "float"}


def _generation_body(model: str, params: GenerationParams, stream: bool) -> dict[str, Any]:
    # ``extra`` goes first so that it can never replace the model or a field set below.
    body: dict[str, Any] = {
        **params.extra,
        "model": model,
        "temperature": params.temperature,
        "top_p": params.top_p,
    }
    if params.max_tokens is not None:
        body["max_tokens"] = params.max_tokens
    if params.stop:
        body["stop"] = list(params.stop)
    if params.seed is not None:
        body["seed"] = params.seed
    if params.n != 1:  # 1 is every provider's default, and some refuse the field outright
        body["n"] = params.n
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


# -- responses ---------------------------------------------------------------
def load_json(content: bytes | str) -> Any:
    try:
        return json.loads(content)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError alike
        raise UpstreamError(UNREADABLE) from exc


def parse_generation(payload: Any, *, chat: bool) -> tuple[list[Choice], Usage | None]:
    """Choices and, when the provider reported it, usage from a (chat) completion."""
    try:
        choices = [_choice(position, raw, chat) for position, raw in enumerate(payload["choices"])]
        usage = parse_usage(payload.get("usage"))
    except (KeyError, TypeError, AttributeError) as exc:
        raise UpstreamError(UNREADABLE) from exc
    if not choices:
        raise UpstreamError("the provider answered with no choices")
    return choices, usage


def _choice(position: int, raw: dict[str, Any], chat: bool) -> Choice:
    text = (raw["message"].get("content") if chat else raw.get("text")) or ""
    if not isinstance(text, str):
        raise TypeError("choice text is not a string")
    return Choice(_index(raw, position), text, raw.get("finish_reason") or "stop")


def _index(raw: dict[str, Any], default: int) -> int:
    index = raw.get("index", default)
    if not isinstance(index, int):
        raise TypeError("choice index is not an integer")
    return index


def parse_stream_event(data: str, *, chat: bool) -> tuple[list[StreamChunk], Usage | None]:
    """The text pieces and usage one server-sent event carries; raises on an error event."""
    payload = load_json(data)
    if not isinstance(payload, dict):
        raise UpstreamError(UNREADABLE)
    if payload.get("error"):
        # Headers were sent with 200 already, so providers report late failures in-band.
        raise UpstreamError(f"the provider failed mid-stream: {error_message(payload) or 'no details'}")
    try:
        chunks = [
            _stream_chunk(position, raw, chat) for position, raw in enumerate(payload.get("choices") or ())
        ]
        usage = parse_usage(payload.get("usage"))
    except (KeyError, TypeError, AttributeError) as exc:
        raise UpstreamError(UNREADABLE) from exc
    return [chunk for chunk in chunks if chunk.text or chunk.finish_reason], usage


def _stream_chunk(position: int, raw: dict[str, Any], chat: bool) -> StreamChunk:
    text = ((raw.get("delta") or {}).get("content") if chat else raw.get("text")) or ""
    if not isinstance(text, str):
        raise TypeError("delta text is not a string")
    return StreamChunk(_index(raw, position), text, raw.get("finish_reason"))


def parse_usage(raw: Any) -> Usage | None:
    if not isinstance(raw, dict):
        return None
    prompt, completion = raw.get("prompt_tokens"), raw.get("completion_tokens") or 0
    if not isinstance(prompt, int) or not isinstance(completion, int):
        return None
    return Usage(prompt, completion)


def parse_embeddings(payload: Any, texts: Sequence[str]) -> Embeddings:
    try:
        items = sorted(payload["data"], key=lambda item: item.get("index", 0))
        # The vectors are used as parsed: converting each number again would copy
        # thousands of floats per input for nothing.
        vectors = [_vector(item["embedding"]) for item in items]
        usage = parse_usage(payload.get("usage"))
    except (KeyError, TypeError, AttributeError) as exc:
        raise UpstreamError(UNREADABLE) from exc
    if len(vectors) != len(texts):
        raise UpstreamError(f"the provider returned {len(vectors)} vectors for {len(texts)} inputs")
    return Embeddings(vectors, usage or Usage(sum(estimate_tokens(len(t)) for t in texts), 0))


def _vector(raw: Any) -> list[float]:
    if not isinstance(raw, list):  # e.g. a base64 string from a provider ignoring "float"
        raise TypeError("embedding is not a list of numbers")
    return raw


def estimate_tokens(chars: int) -> int:
    """Tokens for ``chars`` characters when the provider reports no usage.

    Metering must still charge something, and OpenAI's own rule of thumb (about four
    characters per token of English) is good enough and costs nothing on the hot path;
    the provider's tokenizer is unknown here, so counting exactly is not possible anyway.
    """
    return math.ceil(chars / 4)


def error_message(payload: Any) -> str | None:
    """The message of an OpenAI error envelope (or the common variants), clipped."""
    if not isinstance(payload, dict):
        return None
    error = payload.get("error")
    message = error.get("message") if isinstance(error, dict) else error
    if not isinstance(message, str):
        message = payload.get("message") or payload.get("detail")
    if not isinstance(message, str) or not message.strip():
        return None
    message = message.strip()
    return message if len(message) <= _MAX_QUOTE else message[: _MAX_QUOTE - 1] + "…"
