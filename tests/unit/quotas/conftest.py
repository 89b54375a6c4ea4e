"""A cheap in-process model, Redis with a key prefix of its own, and apps built on either limiter."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient

from modelyard.app import create_app
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
from modelyard.config import Settings
from modelyard.prompting import Message
from modelyard.store import Database, ModelRecord
from tests.conftest import Platform
from tests.helpers.deadlines import scaled

REDIS_URL = "redis://127.0.0.1:6379/0"
REPLY = ("one ", "two ", "three ")


@register_backend("quota-test")
class QuotaTestBackend:
    """Prompt tokens: words of the last message. Answers up to three words, within max_tokens."""

    def __init__(self, spec: ModelSpec, context: BackendContext) -> None:
        self.spec = spec

    def _pieces(self, params: GenerationParams) -> tuple[str, ...]:
        return REPLY[: params.max_tokens or len(REPLY)]

    async def chat(self, messages: Sequence[Message], params: GenerationParams) -> Generation:
        return await self.complete(messages[-1].content, params)

    async def complete(self, prompt: str, params: GenerationParams) -> Generation:
        pieces = self._pieces(params)
        choices = [Choice(i, "".join(pieces), "stop") for i in range(params.n)]
        return Generation(choices, Usage(len(prompt.split()), len(pieces) * params.n))

    async def stream_chat(self, messages: Sequence[Message], params: GenerationParams):  # type: ignore[no-untyped-def]
        pieces = self._pieces(params)
        for piece in pieces:
            yield StreamChunk(0, piece, None)
        yield Usage(len(messages[-1].content.split()), len(pieces))

    async def embed(self, texts: Sequence[str]) -> Embeddings:
        return Embeddings([[1.0, 0.0] for _ in texts], Usage(sum(len(t.split()) for t in texts), 0))

    async def close(self) -> None:
        pass


def add_model(
    settings: Settings,
    model_id: str,
    *,
    task: str = "chat",
    price_in: float = 0.0,
    price_out: float = 0.0,
    publisher: str | None = None,
) -> None:
    db = Database(settings.resolved_database_url)
    with db.session() as session:
        session.add(
            ModelRecord(
                id=model_id,
                backend="quota-test",
                task=task,
                provider="test",
                source={},
                tags=[],
                description="",
                price_input_per_1k=price_in,
                price_output_per_1k=price_out,
                publisher_tenant_id=publisher,
            )
        )
    db.dispose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=scaled(2)).ping()
    except redis.RedisError:
        pytest.skip(f"Redis not reachable at {REDIS_URL}")
    return REDIS_URL


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix no other test uses; its keys are deleted afterwards."""
    import redis

    prefix = f"modelyard-test-{secrets.token_hex(6)}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


@contextmanager
def running_platform(settings: Settings) -> Iterator[Platform]:
    app = create_app(settings)
    with TestClient(app) as client:
        issued = app.state.services.tenancy.ensure_admin_key(settings.admin_key_file)
        assert issued is not None
        platform = Platform(client=client, settings=settings, admin_key=issued.key, tenant_key="")
        platform.tenant_key = platform.new_tenant("acme")
        yield platform


@pytest.fixture(params=["memory", "redis"])
def limited(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Platform]:
    """A platform on either limiter, with a free chat model 'cheap' and embedding model 'vec'."""
    # Usage rows are written only when a test flushes them: a background flush racing the
    # test's own would leave rows in flight while the test reads the table.
    update: dict[str, object] = {"rate_limiter": request.param, "usage_flush_interval_s": 3600.0}
    if request.param == "redis":
        update |= {"redis_url": request.getfixturevalue("redis_url")}
        update |= {"redis_key_prefix": request.getfixturevalue("redis_prefix")}
    configured = settings.model_copy(update=update)
    add_model_later = [("cheap", "chat"), ("vec", "embedding")]
    with running_platform(configured) as platform:
        for model_id, task in add_model_later:
            add_model(configured, model_id, task=task)
        yield platform
