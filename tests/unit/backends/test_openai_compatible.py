"""The openai-compatible backend against a real HTTP provider on loopback (MockUpstream)."""

from __future__ import annotations

import asyncio
import math
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from modelyard.backends import (
    BackendContext,
    EmbeddingBackend,
    GenerationParams,
    ModelSpec,
    StreamChunk,
    TextBackend,
    Usage,
    create_backend,
)
from modelyard.backends.openai_compatible import OpenAICompatibleBackend
from modelyard.errors import (
    BackendUnavailable,
    InvalidRequest,
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
)
from modelyard.prompting import Message
from modelyard.security import OutboundGuard
from tests.helpers.deadlines import scaled
from tests.helpers.mock_upstream import MockUpstream, embedding_for

T = TypeVar("T")

# The mock upstream listens on loopback: allowed here as an admin would allow-list it.
CONTEXT = BackendContext(
    models_dir=Path("unused"),
    upstream_timeout_s=scaled(5.0),  # tests that time out on purpose set their own
    upstream_connect_timeout_s=scaled(2.0),
    outbound=OutboundGuard(lambda scheme, host, port: host == "127.0.0.1"),
)
HELLO = [Message("system", "Be brief."), Message("user", "hello there")]
PARAMS = GenerationParams()


@pytest.fixture(scope="module")
def upstream() -> Iterator[MockUpstream]:
    with MockUpstream() as server:
        yield server


@pytest.fixture(autouse=True)
def healthy(upstream: MockUpstream) -> None:
    upstream.reset()


def spec(base_url: str, *, secret: str | None = "sk-provider", **source: Any) -> ModelSpec:
    return ModelSpec(
        id="remote",
        backend="openai-compatible",
        task="chat",
        source={"base_url": base_url, "upstream_model": "name-at-provider", **source},
        secret=secret,
    )


def drive(base_url: str, work: Callable[[OpenAICompatibleBackend], Awaitable[T]], **kwargs: Any) -> T:
    """Build a backend, run ``work`` with it on a fresh event loop, then close it."""

    async def main() -> T:
        backend = create_backend(spec(base_url, **kwargs), CONTEXT)
        assert isinstance(backend, OpenAICompatibleBackend)
        try:
            return await work(backend)
        finally:
            await backend.close()

    return asyncio.run(main())


async def collect(stream: AsyncIterator[StreamChunk | Usage]) -> list[StreamChunk | Usage]:
    return [item async for item in stream]


def streamed_text(items: list[StreamChunk | Usage]) -> str:
    return "".join(item.text for item in items if isinstance(item, StreamChunk))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- the happy path ------------------------------------------------------------
def test_the_registry_builds_one_backend_for_text_and_embeddings(upstream: MockUpstream) -> None:
    backend = create_backend(spec(upstream.base_url), CONTEXT)
    assert isinstance(backend, TextBackend)
    assert isinstance(backend, EmbeddingBackend)


def test_chat_returns_the_providers_answer_and_usage(upstream: MockUpstream) -> None:
    result = drive(upstream.base_url, lambda b: b.chat(HELLO, PARAMS))
    assert [(c.index, c.text, c.finish_reason) for c in result.choices] == [
        (0, "You said: hello there", "stop")
    ]
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (4, 4)  # the mock counts words


def test_the_provider_sees_its_own_key_and_model_name_only(upstream: MockUpstream) -> None:
    params = GenerationParams(
        max_tokens=3, temperature=0.5, top_p=0.9, stop=("\n",), seed=7, n=2, extra={"presence_penalty": 0.1}
    )
    result = drive(upstream.base_url, lambda b: b.chat(HELLO, params))
    sent = upstream.last_request
    assert (sent.method, sent.path) == ("POST", "/v1/chat/completions")
    assert sent.headers["authorization"] == "Bearer sk-provider"
    assert not any("caller" in value for value in sent.headers.values())
    assert sent.json == {
        "model": "name-at-provider",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello there"}],
        "max_tokens": 3,
        "temperature": 0.5,
        "top_p": 0.9,
        "stop": ["\n"],
        "seed": 7,
        "n": 2,
        "presence_penalty": 0.1,
    }
    assert [(c.index, c.text, c.finish_reason) for c in result.choices] == [
        (0, "You said: hello", "length"),
        (1, "You said: hello", "length"),
    ]


def test_extra_fields_cannot_replace_the_upstream_model(upstream: MockUpstream) -> None:
    drive(upstream.base_url, lambda b: b.chat(HELLO, GenerationParams(extra={"model": "other"})))
    assert upstream.last_request.json["model"] == "name-at-provider"


def test_without_a_secret_no_authorization_is_sent(upstream: MockUpstream) -> None:
    drive(upstream.base_url, lambda b: b.chat(HELLO, PARAMS), secret=None)
    assert "authorization" not in upstream.last_request.headers


def test_stream_yields_pieces_in_order_then_one_usage(upstream: MockUpstream) -> None:
    async def both(backend: OpenAICompatibleBackend) -> tuple[Any, list[StreamChunk | Usage]]:
        return await backend.chat(HELLO, PARAMS), await collect(backend.stream_chat(HELLO, PARAMS))

    whole, items = drive(upstream.base_url, both)
    chunks, last = items[:-1], items[-1]
    assert all(isinstance(item, StreamChunk) for item in chunks)
    assert [c.text for c in chunks if c.text] == ["You", " said:", " hello", " there"]  # type: ignore[union-attr]
    assert chunks[-1].finish_reason == "stop"  # type: ignore[union-attr]
    assert streamed_text(items) == whole.choices[0].text
    assert last == whole.usage == Usage(4, 4)
    assert upstream.last_request.json["stream"] is True
    assert upstream.last_request.json["stream_options"] == {"include_usage": True}


def test_stream_pieces_are_relayed_as_they_arrive(upstream: MockUpstream) -> None:
    upstream.chunk_delay_s = 0.1

    async def sent_so_far(backend: OpenAICompatibleBackend) -> list[tuple[int, StreamChunk | Usage]]:
        return [(upstream.pieces_sent, item) async for item in backend.stream_chat(HELLO, PARAMS)]

    arrivals = drive(upstream.base_url, sent_so_far)
    first_text = next(sent for sent, item in arrivals if isinstance(item, StreamChunk) and item.text)
    # The first piece reached us while the upstream still had pieces to send: not held back.
    assert first_text < arrivals[-1][0]


def test_completions_plain_and_streamed(upstream: MockUpstream) -> None:
    async def both(backend: OpenAICompatibleBackend) -> tuple[Any, list[StreamChunk | Usage]]:
        return await backend.complete("one two", PARAMS), await collect(
            backend.stream_complete("one two", PARAMS)
        )

    whole, items = drive(upstream.base_url, both)
    assert whole.choices[0].text == streamed_text(items) == "You said: one two"
    assert items[-1] == whole.usage == Usage(2, 4)
    assert upstream.last_request.path == "/v1/completions"
    assert upstream.last_request.json["prompt"] == "one two"


def test_usage_is_estimated_when_the_provider_reports_none(upstream: MockUpstream) -> None:
    upstream.include_usage = False

    async def both(backend: OpenAICompatibleBackend) -> tuple[Any, list[StreamChunk | Usage]]:
        return await backend.chat(HELLO, PARAMS), await collect(backend.stream_chat(HELLO, PARAMS))

    whole, items = drive(upstream.base_url, both)
    prompt_chars = len("Be brief.") + len("hello there")
    expected = Usage(math.ceil(prompt_chars / 4), math.ceil(len("You said: hello there") / 4))
    assert whole.usage == items[-1] == expected


def test_embeddings(upstream: MockUpstream) -> None:
    result = drive(upstream.base_url, lambda b: b.embed(["alpha", "beta gamma"]))
    assert result.vectors == [embedding_for("alpha"), embedding_for("beta gamma")]
    assert result.usage == Usage(3, 0)
    assert upstream.last_request.path == "/v1/embeddings"
    assert upstream.last_request.json == {
        "model": "name-at-provider",
        "input": ["alpha", "beta gamma"],
        "encoding_format": "float",
    }


# -- provider failures -----------------------------------------------------------
def test_a_provider_500_is_a_502(upstream: MockUpstream) -> None:
    upstream.fail_status = 500
    with pytest.raises(UpstreamError) as caught:
        drive(upstream.base_url, lambda b: b.chat(HELLO, PARAMS))
    assert caught.value.status_code == 502
    assert caught.value.message == "the provider failed with status 500"


def test_a_provider_400_is_the_callers_400_quoting_the_provider(upstream: MockUpstream) -> None:
    upstream.fail_status = 400
    upstream.fail_message = "max_tokens is too large: 99999"
    with pytest.raises(InvalidRequest) as caught:
        drive(upstream.base_url, lambda b: b.chat(HELLO, PARAMS))
    assert caught.value.status_code == 400
    assert "max_tokens is too large: 99999" in caught.value.message


def test_a_quoted_provider_message_is_clipped_and_never_shows_our_key(upstream: MockUpstream) -> None:
    upstream.fail_status = 422
    upstream.fail_message = "bad key sk-provider " + "x" * 1000
    with pytest.raises(InvalidRequest) as caught:
        drive(upstream.base_url, lambda b: b.complete("hi", PARAMS))
    assert "sk-provider" not in caught.value.message
    assert len(caught.value.message) < 400


def test_refused_credentials_are_the_operators_problem(upstream: MockUpstream) -> None:
    upstream.fail_status = 401
    with pytest.raises(UpstreamError) as caught:
        drive(upstream.base_url, lambda b: b.chat(HELLO, PARAMS))
    assert caught.value.status_code == 502
    assert "credentials" in caught.value.message


def test_a_provider_429_passes_retry_after_through(upstream: MockUpstream) -> None:
    upstream.fail_status = 429
    upstream.fail_headers = {"Retry-After": "7"}
    with pytest.raises(RateLimited) as caught:
        drive(upstream.base_url, lambda b: b.embed(["x"]))
    assert caught.value.headers == {"Retry-After": "7"}


def test_a_slow_provider_times_out_on_time(upstream: MockUpstream) -> None:
    upstream.delay_s = 3.0
    # The upstream would answer after 3 s: raising at all shows the 0.3 s limit fired first.
    with pytest.raises(UpstreamTimeout) as caught:
        drive(upstream.base_url, lambda b: b.chat(HELLO, PARAMS), timeout_s=0.3)
    assert caught.value.status_code == 504
    assert caught.value.message == "the provider did not answer within 0.3 s"


def test_an_unreachable_provider_is_a_502_without_its_address() -> None:
    base_url = f"http://127.0.0.1:{closed_port()}/v1"
    with pytest.raises(UpstreamError) as caught:
        drive(base_url, lambda b: b.chat(HELLO, PARAMS))
    assert caught.value.status_code == 502
    assert caught.value.message == "could not reach the provider"


def test_malformed_json_is_a_502(upstream: MockUpstream) -> None:
    upstream.raw_body = '{"choices": [oops'
    with pytest.raises(UpstreamError) as caught:
        drive(upstream.base_url, lambda b: b.chat(HELLO, PARAMS))
    assert type(caught.value) is UpstreamError
    assert "could not read" in caught.value.message


def test_redirects_are_not_followed(upstream: MockUpstream) -> None:
    upstream.redirect_to = f"{upstream.base_url}/models"
    with pytest.raises(UpstreamError) as caught:
        drive(upstream.base_url, lambda b: b.chat(HELLO, PARAMS))
    assert "redirect" in caught.value.message
    assert [r.path for r in upstream.requests] == ["/v1/chat/completions"]


# -- failures while streaming ---------------------------------------------------
def test_a_failure_before_the_stream_starts_raises_on_the_first_item(upstream: MockUpstream) -> None:
    upstream.fail_status = 503
    with pytest.raises(UpstreamError, match="status 503"):
        drive(upstream.base_url, lambda b: collect(b.stream_chat(HELLO, PARAMS)))


def test_an_error_event_mid_stream_raises_after_the_pieces_before_it(upstream: MockUpstream) -> None:
    upstream.stream_error_after = 2
    upstream.fail_message = "overloaded"
    seen: list[StreamChunk | Usage] = []

    async def read(backend: OpenAICompatibleBackend) -> None:
        async for item in backend.stream_chat(HELLO, PARAMS):
            seen.append(item)

    with pytest.raises(UpstreamError, match="mid-stream: overloaded"):
        drive(upstream.base_url, read)
    assert streamed_text(seen) == "You said:"


def test_a_connection_dropped_mid_stream_raises(upstream: MockUpstream) -> None:
    upstream.stream_abort_after = 1
    with pytest.raises(UpstreamError) as caught:
        drive(upstream.base_url, lambda b: collect(b.stream_complete("hi", PARAMS)))
    assert caught.value.status_code == 502


def test_a_stall_mid_stream_times_out(upstream: MockUpstream) -> None:
    upstream.chunk_delay_s = 2.0
    with pytest.raises(UpstreamTimeout):
        drive(upstream.base_url, lambda b: collect(b.stream_chat(HELLO, PARAMS)), timeout_s=0.3)


# -- life cycle and configuration -----------------------------------------------
def test_close_lets_a_stream_in_flight_finish_and_refuses_new_work(upstream: MockUpstream) -> None:
    async def work(backend: OpenAICompatibleBackend) -> str:
        stream = backend.stream_chat(HELLO, PARAMS)
        first = await anext(stream)
        await backend.close()
        rest = await collect(stream)
        with pytest.raises(BackendUnavailable):
            await backend.chat(HELLO, PARAMS)
        return streamed_text([first, *rest])

    assert drive(upstream.base_url, work) == "You said: hello there"


def test_requests_one_after_another_reuse_one_connection(upstream: MockUpstream) -> None:
    async def work(backend: OpenAICompatibleBackend) -> None:
        await backend.chat(HELLO, PARAMS)
        await collect(backend.stream_chat(HELLO, PARAMS))  # read to the end, [DONE] and after
        await collect(backend.stream_complete("hi", PARAMS))
        await backend.embed(["x"])

    drive(upstream.base_url, work)
    assert len({r.client_port for r in upstream.requests}) == 1


@pytest.mark.parametrize(
    "source",
    [
        {"upstream_model": "m"},
        {"base_url": "ftp://user:hunter2@example.com/v1", "upstream_model": "m"},
        {"base_url": "http://user:hunter2@example.com/v1"},
        {"base_url": "http://example.com/v1", "upstream_model": "m", "timeout_s": -1},
    ],
)
def test_a_bad_source_is_refused_without_echoing_it(source: dict[str, Any]) -> None:
    bad = ModelSpec(id="remote", backend="openai-compatible", task="chat", source=source)
    with pytest.raises(InvalidRequest) as caught:
        create_backend(bad, CONTEXT)
    assert "hunter2" not in caught.value.message
    assert caught.value.param == "source"
