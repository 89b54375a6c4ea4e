"""Request bodies over MODELYARD_MAX_BODY_BYTES are refused with a 413 before they are parsed;
uploads keep their own limit (issue 11, item 7)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from modelyard.config import Settings
from tests.conftest import Platform

LIMIT = 64 * 1024
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"max_body_bytes": LIMIT})


def _chat_body(size: int) -> bytes:
    head, tail = b'{"model": "nope", "messages": [{"role": "user", "content": "', b'"}]}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


def _assert_413(response: object) -> None:
    assert response.status_code == 413, response.text  # type: ignore[attr-defined]
    error = response.json()["error"]  # type: ignore[attr-defined]
    assert error["type"] == "invalid_request_error" and error["code"] == "payload_too_large"
    assert str(LIMIT) in error["message"]


def test_a_declared_body_over_the_limit_is_refused_before_parsing(platform: Platform) -> None:
    headers = {**platform.headers(), "Content-Type": "application/json"}
    response = platform.client.post("/v1/chat/completions", content=_chat_body(LIMIT + 1), headers=headers)
    _assert_413(response)
    # Not even parsed: a body that is not JSON at all gets the same answer, not a 400.
    garbage = platform.client.post("/v1/chat/completions", content=b"{" * (LIMIT + 1), headers=headers)
    _assert_413(garbage)


def test_a_chunked_body_over_the_limit_is_refused(platform: Platform) -> None:
    body = _chat_body(4 * LIMIT)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    headers = {**platform.headers(), "Content-Type": "application/json"}
    response = platform.client.post("/v1/chat/completions", content=chunks(), headers=headers)
    _assert_413(response)


def test_a_body_within_the_limit_reaches_the_route(platform: Platform) -> None:
    headers = {**platform.headers(), "Content-Type": "application/json"}
    response = platform.client.post("/v1/chat/completions", content=_chat_body(LIMIT - 10), headers=headers)
    assert response.status_code == 404 and response.json()["error"]["param"] == "model"

    def chunks() -> Iterator[bytes]:
        yield _chat_body(LIMIT - 10)

    chunked = platform.client.post("/v1/chat/completions", content=chunks(), headers=headers)
    assert chunked.status_code == 404


def test_uploads_keep_their_own_larger_limit(platform: Platform) -> None:
    line = b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}\n'
    data = line * (2 * LIMIT // len(line))
    response = platform.client.post(
        "/v1/files",
        files={"file": ("train.jsonl", data, "application/jsonl")},
        data={"purpose": "fine-tune"},
        headers=platform.headers(),
    )
    assert response.status_code == 200, response.text
    assert response.json()["bytes"] == len(data)
