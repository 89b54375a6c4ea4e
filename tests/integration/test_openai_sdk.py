"""The official openai SDK, unmodified, against a real `modelyard serve` on loopback."""

from __future__ import annotations

import math
from collections.abc import Iterator

import httpx
import openai
import pytest

from tests.helpers.deadlines import scaled
from tests.helpers.mock_upstream import MockUpstream
from tests.integration.conftest import LiveServer

PROVIDER_KEY = "sk-provider-secret"


@pytest.fixture(scope="module")
def client(live_server: LiveServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{live_server.base_url}/v1", api_key=live_server.admin_key, max_retries=0)


@pytest.fixture(scope="module")
def upstream(live_server: LiveServer) -> Iterator[MockUpstream]:
    with MockUpstream() as mock:
        headers = {"Authorization": f"Bearer {live_server.admin_key}"}
        # The mock listens on loopback, which the outbound guard refuses until an admin allows it.
        allowed = httpx.post(
            f"{live_server.base_url}/v1/admin/outbound-allowlist",
            json={"host": f"127.0.0.1:{mock.port}"},
            headers=headers,
            timeout=scaled(60),
        )
        assert allowed.status_code == 201, allowed.text
        for name, timeout in (("remote-chat", None), ("remote-slow", 1.0)):
            body = {
                "kind": "remote",
                "id": name,
                "base_url": mock.base_url,
                "upstream_model": "mock-model",
                "api_key": PROVIDER_KEY,
                "timeout_s": timeout,
                "price_input_per_1k": 1.0,
            }
            response = httpx.post(
                f"{live_server.base_url}/v1/models", json=body, headers=headers, timeout=scaled(60)
            )
            assert response.status_code == 201, response.text
        yield mock


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def test_list_models(client: openai.OpenAI) -> None:
    ids = [m.id for m in client.models.list()]
    assert "gemma-3-270m" in ids and "all-minilm-l6-v2" in ids
    assert client.models.retrieve("gemma-3-270m").owned_by == "google"


def test_unknown_model_is_not_found(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="nope", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.body["code"] == "model_not_found"


def test_bad_key_is_rejected(live_server: LiveServer) -> None:
    bad = openai.OpenAI(base_url=f"{live_server.base_url}/v1", api_key="my-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.models.list()


def test_embeddings_have_384_dims_and_rank_similar_sentences_closer(client: openai.OpenAI) -> None:
    sentences = ["The cat sits on the mat.", "A kitten is sitting on a rug.", "Quarterly revenue rose by 8%."]
    result = client.embeddings.create(model="all-minilm-l6-v2", input=sentences)
    vectors = [d.embedding for d in result.data]
    assert all(len(v) == 384 for v in vectors)
    assert _cosine(vectors[0], vectors[1]) > _cosine(vectors[0], vectors[2]) + 0.2
    assert result.usage.prompt_tokens > 0


@pytest.mark.slow
def test_gemma_chat_streamed_equals_non_streamed(client: openai.OpenAI) -> None:
    messages = [{"role": "user", "content": "Name three colours."}]
    full = client.chat.completions.create(
        model="gemma-3-270m", messages=messages, temperature=0, max_tokens=24
    )
    text = full.choices[0].message.content
    assert text and full.usage.completion_tokens > 0 and full.usage.prompt_tokens > 0
    pieces, usage = [], None
    stream = client.chat.completions.create(
        model="gemma-3-270m", messages=messages, temperature=0, max_tokens=24, stream=True
    )
    for chunk in stream:
        pieces.extend(c.delta.content or "" for c in chunk.choices)
        usage = chunk.usage or usage
    assert "".join(pieces) == text
    assert usage is not None and usage.completion_tokens == full.usage.completion_tokens


@pytest.mark.slow
def test_gemma_completions_honour_max_tokens_and_stop(client: openai.OpenAI) -> None:
    result = client.completions.create(
        model="gemma-3-270m", prompt="1, 2, 3, 4,", max_tokens=8, temperature=0
    )
    assert result.usage.completion_tokens <= 8 and result.choices[0].finish_reason in {"stop", "length"}
    stopped = client.completions.create(
        model="gemma-3-270m", prompt="1, 2, 3, 4,", max_tokens=20, temperature=0, stop=["7"]
    )
    assert "7" not in stopped.choices[0].text


def test_remote_chat_and_stream_pass_through(client: openai.OpenAI, upstream: MockUpstream) -> None:
    upstream.reset()
    messages = [{"role": "user", "content": "hello remote"}]
    full = client.chat.completions.create(model="remote-chat", messages=messages)
    assert full.choices[0].message.content == "You said: hello remote"
    sent = upstream.last_request
    assert sent.headers["authorization"] == f"Bearer {PROVIDER_KEY}"
    assert sent.json["model"] == "mock-model"
    chunks = list(client.chat.completions.create(model="remote-chat", messages=messages, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == full.choices[0].message.content
    assert sum(1 for c in chunks if c.choices and c.choices[0].delta.content) >= 3  # chunk by chunk


def test_caller_key_never_reaches_the_provider(
    client: openai.OpenAI, upstream: MockUpstream, live_server: LiveServer
) -> None:
    upstream.reset()
    client.chat.completions.create(model="remote-chat", messages=[{"role": "user", "content": "x"}])
    for request in upstream.requests:
        assert live_server.admin_key not in str(request.headers) and live_server.admin_key not in str(
            request.json
        )


def test_remote_upstream_500_is_a_clear_502(client: openai.OpenAI, upstream: MockUpstream) -> None:
    upstream.reset()
    upstream.fail_status = 500
    try:
        with pytest.raises(openai.APIStatusError) as caught:
            client.chat.completions.create(model="remote-chat", messages=[{"role": "user", "content": "x"}])
    finally:
        upstream.reset()
    assert caught.value.status_code == 502
    assert caught.value.body["type"] == "upstream_error"
    assert "127.0.0.1" not in caught.value.message


def test_remote_timeout_is_a_clear_504(client: openai.OpenAI, upstream: MockUpstream) -> None:
    upstream.reset()
    upstream.delay_s = 3.0
    try:
        with pytest.raises(openai.APIStatusError) as caught:
            client.chat.completions.create(model="remote-slow", messages=[{"role": "user", "content": "x"}])
    finally:
        upstream.reset()
    assert caught.value.status_code == 504
    assert caught.value.body["code"] == "upstream_timeout"


def test_remote_error_mid_stream_reaches_the_sdk(client: openai.OpenAI, upstream: MockUpstream) -> None:
    upstream.reset()
    upstream.stream_error_after = 1
    try:
        with pytest.raises(openai.APIError):
            for _ in client.chat.completions.create(
                model="remote-chat", messages=[{"role": "user", "content": "a b c d"}], stream=True
            ):
                pass
    finally:
        upstream.reset()
