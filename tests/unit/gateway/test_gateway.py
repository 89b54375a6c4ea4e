"""Gateway behaviour with a scripted in-process backend: shapes, streaming, metering."""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import AsyncIterator, Sequence

import pytest

from modelyard.backends import (
    BackendContext,
    Choice,
    Embeddings,
    Generation,
    GenerationParams,
    ModelSpec,
    StreamChunk,
    Usage,
    register_backend,
)
from modelyard.errors import UpstreamError
from modelyard.gateway.metering import UNRESOLVED_MODEL
from modelyard.prompting import Message
from modelyard.store import Database, ModelRecord
from tests.conftest import Platform


class ScriptedBackend:
    """Answers 'echo: <last message>' in word pieces; 'explode' fails mid-stream."""

    accepted_extra = frozenset({"presence_penalty"})

    def __init__(self, spec: ModelSpec, context: BackendContext) -> None:
        self.spec = spec

    def _answer(self, text: str) -> list[str]:
        return [f"{w} " for w in f"echo: {text}".split()]

    async def chat(self, messages: Sequence[Message], params: GenerationParams) -> Generation:
        return await self.complete(messages[-1].content, params)

    async def complete(self, prompt: str, params: GenerationParams) -> Generation:
        text = "".join(self._answer(prompt))
        choices = [Choice(i, text, "stop") for i in range(params.n)]
        return Generation(choices, Usage(len(prompt.split()), len(text.split()) * params.n))

    def stream_chat(
        self, messages: Sequence[Message], params: GenerationParams
    ) -> AsyncIterator[StreamChunk | Usage]:
        return self.stream_complete(messages[-1].content, params)

    async def stream_complete(
        self, prompt: str, params: GenerationParams
    ) -> AsyncIterator[StreamChunk | Usage]:
        pieces = self._answer(prompt)
        for i, piece in enumerate(pieces):
            if "explode" in piece:
                raise UpstreamError("the provider failed with status 500")
            yield StreamChunk(0, piece, "stop" if i == len(pieces) - 1 else None)
        yield Usage(len(prompt.split()), len(pieces))

    async def embed(self, texts: Sequence[str]) -> Embeddings:
        return Embeddings([[float(len(t)), 0.5] for t in texts], Usage(sum(len(t.split()) for t in texts), 0))

    async def close(self) -> None:
        pass


register_backend("scripted")(ScriptedBackend)


@pytest.fixture
def scripted(platform: Platform) -> Platform:
    db = Database(platform.settings.resolved_database_url)
    with db.session() as session:
        session.add(
            ModelRecord(
                id="echo",
                backend="scripted",
                task="chat",
                provider="test",
                source={},
                tags=[],
                description="",
                price_input_per_1k=1.0,
                price_output_per_1k=2.0,
            )
        )
        session.add(
            ModelRecord(
                id="vec",
                backend="scripted",
                task="embedding",
                provider="test",
                source={},
                tags=[],
                description="",
            )
        )
    db.dispose()
    return platform


def _chat(platform: Platform, **body: object) -> object:
    payload = {"model": "echo", "messages": [{"role": "user", "content": "hello there"}], **body}
    return platform.client.post("/v1/chat/completions", json=payload, headers=platform.headers())


def _events(text: str) -> list[str]:
    return [line[6:] for line in text.splitlines() if line.startswith("data: ")]


def test_chat_has_openai_shape_and_usage(scripted: Platform) -> None:
    body = _chat(scripted, n=2).json()
    assert body["object"] == "chat.completion" and body["model"] == "echo"
    assert [c["message"]["content"] for c in body["choices"]] == ["echo: hello there "] * 2
    assert body["usage"] == {"prompt_tokens": 2, "completion_tokens": 6, "total_tokens": 8}


def test_stream_is_sse_ending_in_done_with_usage(scripted: Platform) -> None:
    response = _chat(scripted, stream=True)
    assert response.headers["content-type"].startswith("text/event-stream")
    events = _events(response.text)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "echo: hello there "
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 3
    assert len({c["id"] for c in chunks}) == 1


def test_error_mid_stream_becomes_an_error_event(scripted: Platform) -> None:
    response = _chat(scripted, stream=True, messages=[{"role": "user", "content": "please explode"}])
    assert response.status_code == 200
    last = json.loads(_events(response.text)[-1])
    assert last["error"]["type"] == "upstream_error"
    rows = scripted.usage_rows()
    assert rows[-1].status_code == 502


def test_every_call_is_metered_with_cost(scripted: Platform) -> None:
    _chat(scripted)
    _chat(scripted, stream=True)
    _chat(scripted, model="missing")
    rows = scripted.usage_rows()
    assert [(r.model, r.status_code) for r in rows] == [("echo", 200), ("echo", 200), (UNRESOLVED_MODEL, 404)]
    first = rows[0]
    assert (first.prompt_tokens, first.completion_tokens) == (2, 3)
    assert first.cost == pytest.approx(2 / 1000 * 1.0 + 3 / 1000 * 2.0)
    assert first.latency_ms > 0 and first.key_id and first.tenant_id
    assert rows[2].cost == 0


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({"tools": [{"type": "function", "function": {"name": "f"}}]}, 400, "tools"),
        ({"logprobs": True}, 400, "logprobs"),
        ({"functions": [{"name": "f"}]}, 400, "functions"),
        ({"temperature": 3}, 400, "temperature"),
        ({"n": 0}, 400, "n"),
        ({"messages": []}, 400, "messages"),
        ({"messages": [{"role": "wizard", "content": "x"}]}, 400, "messages.0.role"),
        (
            {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]},
            400,
            "messages.0.content",
        ),
        ({"bogus": 1}, 400, "bogus"),
        ({"model": "vec"}, 400, "model"),
    ],
)
def test_bad_requests_name_the_field(scripted: Platform, body: dict, status: int, param: str) -> None:
    response = _chat(scripted, **body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["param"] == param and error["type"] == "invalid_request_error"


def test_accepted_extra_passes(scripted: Platform) -> None:
    assert _chat(scripted, presence_penalty=0.5).status_code == 200


def test_text_parts_are_joined(scripted: Platform) -> None:
    content = [{"type": "text", "text": "hello "}, {"type": "text", "text": "parts"}]
    body = _chat(scripted, messages=[{"role": "user", "content": content}]).json()
    assert body["choices"][0]["message"]["content"] == "echo: hello parts "


def test_completions_with_echo_and_lists(scripted: Platform) -> None:
    response = scripted.client.post(
        "/v1/completions",
        json={"model": "echo", "prompt": ["a b", "c"], "echo": True},
        headers=scripted.headers(),
    )
    body = response.json()
    assert body["object"] == "text_completion"
    assert [c["text"] for c in body["choices"]] == ["a becho: a b ", "cecho: c "]
    assert body["usage"]["prompt_tokens"] == 3


def test_completions_stream(scripted: Platform) -> None:
    response = scripted.client.post(
        "/v1/completions", json={"model": "echo", "prompt": "x y", "stream": True}, headers=scripted.headers()
    )
    events = _events(response.text)
    assert events[-1] == "[DONE]"
    text = "".join(json.loads(e)["choices"][0]["text"] for e in events[:-1] if json.loads(e)["choices"])
    assert text == "echo: x y "


def test_embeddings_float_and_base64(scripted: Platform) -> None:
    url, headers = "/v1/embeddings", scripted.headers()
    floats = scripted.client.post(url, json={"model": "vec", "input": ["abc", "de"]}, headers=headers).json()
    assert [d["embedding"] for d in floats["data"]] == [[3.0, 0.5], [2.0, 0.5]]
    packed = scripted.client.post(
        url, json={"model": "vec", "input": "abc", "encoding_format": "base64"}, headers=headers
    ).json()["data"][0]["embedding"]
    assert list(struct.unpack("<2f", base64.b64decode(packed))) == [3.0, 0.5]
    refused = scripted.client.post(url, json={"model": "vec", "input": [[1, 2]]}, headers=headers)
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "input"
    wrong = scripted.client.post(url, json={"model": "echo", "input": "x"}, headers=headers)
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "wrong_model_task"
