"""The host's internal API on the wire: plain JSON both ways, shared by server and client.

``POST /v1/chat`` and ``POST /v1/complete`` take ``{"messages"|"prompt", "params",
"adapter", "stream"}``. A non-streaming answer is ``{"choices", "usage"}``; a stream is JSON
lines (``application/x-ndjson``): ``{"type": "chunk", ...}`` pieces, then exactly one
``{"type": "usage", ...}``, or an ``{"type": "error", "error": {...}}`` line if generation
fails after the response began. Errors before that are OpenAI's envelope with the error's
own status, and the client raises the same class from ``modelyard.errors`` again.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from modelyard.backends.base import Choice, Generation, GenerationParams, StreamChunk, Usage
from modelyard.errors import InvalidRequest, ModelyardError
from modelyard.prompting import Message

__all__ = [
    "STREAM_MEDIA_TYPE",
    "decode_error",
    "decode_event",
    "decode_generation",
    "decode_messages",
    "decode_params",
    "encode_event",
    "encode_generation",
    "encode_messages",
    "encode_params",
]

STREAM_MEDIA_TYPE = "application/x-ndjson"
_PARAM_FIELDS = ("max_tokens", "temperature", "top_p", "seed", "n")


def encode_params(params: GenerationParams) -> dict[str, Any]:
    data: dict[str, Any] = {name: getattr(params, name) for name in _PARAM_FIELDS}
    data["stop"] = list(params.stop)
    data["extra"] = params.extra
    return data


def decode_params(data: Any) -> GenerationParams:
    if data is None:
        return GenerationParams()
    if not isinstance(data, dict):
        raise InvalidRequest("'params' must be an object", param="params")
    known = {name: data[name] for name in _PARAM_FIELDS if name in data}
    try:
        return GenerationParams(
            **known, stop=tuple(data.get("stop") or ()), extra=dict(data.get("extra") or {})
        )
    except TypeError as exc:
        raise InvalidRequest("'params' has a field of the wrong type", param="params") from exc


def encode_messages(messages: Sequence[Message]) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content} for m in messages]


def decode_messages(data: Any) -> list[Message]:
    if not isinstance(data, list) or not data:
        raise InvalidRequest("'messages' must be a non-empty list", param="messages")
    try:
        return [Message(role=str(m["role"]), content=str(m["content"])) for m in data]
    except (KeyError, TypeError) as exc:
        raise InvalidRequest("each message needs a 'role' and a 'content'", param="messages") from exc


def encode_generation(generation: Generation) -> dict[str, Any]:
    return {
        "choices": [
            {"index": c.index, "text": c.text, "finish_reason": c.finish_reason} for c in generation.choices
        ],
        "usage": _usage_json(generation.usage),
    }


def decode_generation(data: dict[str, Any]) -> Generation:
    choices = [Choice(c["index"], c["text"], c["finish_reason"]) for c in data["choices"]]
    return Generation(choices, _usage(data["usage"]))


def encode_event(item: StreamChunk | Usage | ModelyardError) -> dict[str, Any]:
    if isinstance(item, Usage):
        return {"type": "usage", **_usage_json(item)}
    if isinstance(item, ModelyardError):
        return {"type": "error", "status": item.status_code, **item.to_body()}
    return {"type": "chunk", "index": item.index, "text": item.text, "finish_reason": item.finish_reason}


def decode_event(data: dict[str, Any]) -> StreamChunk | Usage:
    """One stream line; an error line raises the error it carries."""
    kind = data.get("type")
    if kind == "chunk":
        return StreamChunk(data["index"], data["text"], data.get("finish_reason"))
    if kind == "usage":
        return _usage(data)
    if kind == "error":
        raise decode_error(int(data.get("status", 500)), data)
    raise ModelyardError("the model host sent a stream event of an unknown kind")


def decode_error(status: int, body: Any, headers: dict[str, str] | None = None) -> ModelyardError:
    """The ``modelyard.errors`` class an error envelope came from, with its message and code."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        error = {"message": f"the model host answered HTTP {status}"}
    code = error.get("code")
    classes = _error_classes()
    cls = classes.get((status, code)) or classes.get((status, None)) or ModelyardError
    return cls(
        str(error.get("message") or "the model host failed"),
        param=error.get("param"),
        code=code,
        headers=headers,
    )


@cache
def _error_classes() -> dict[tuple[int, str | None], type[ModelyardError]]:
    """(status, code) -> class, and (status, None) -> the most general class of that status."""
    found: dict[tuple[int, str | None], type[ModelyardError]] = {}
    pending: list[type[ModelyardError]] = [ModelyardError]
    while pending:  # breadth first: a status's first class seen is its most general one
        cls = pending.pop(0)
        found.setdefault((cls.status_code, cls.default_code), cls)
        found.setdefault((cls.status_code, None), cls)
        pending.extend(cls.__subclasses__())
    return found


def _usage_json(usage: Usage) -> dict[str, int]:
    return {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens}


def _usage(data: dict[str, Any]) -> Usage:
    return Usage(int(data["prompt_tokens"]), int(data["completion_tokens"]))
