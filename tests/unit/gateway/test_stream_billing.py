"""A stream the client closes early is billed for what was produced, over a real socket.

The gateway runs under uvicorn on loopback (as ``modelyard serve`` does) and the client
really hangs up, so the disconnect reaches the gateway the way it does in production.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import select

from modelyard.app import create_app
from modelyard.config import Settings
from modelyard.store import Database, UsageEvent
from tests.helpers.deadlines import scaled, wait_until
from tests.helpers.mock_upstream import MockUpstream

# $1 per token in and out: a row's cost is its token count, easy to check.
PRICES = {"price_input_per_1k": 1000.0, "price_output_per_1k": 1000.0}


@dataclass
class Live:
    client: httpx.Client
    admin: dict[str, str]
    tenant: dict[str, str]
    settings: Settings


@contextmanager
def live_gateway(settings: Settings) -> Iterator[Live]:
    """The app under uvicorn in a thread, with an admin key and a tenant 'acme'."""
    app = create_app(settings.model_copy(update={"usage_flush_interval_s": 0.05}))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, loop="asyncio", log_level="warning", log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started or not thread.is_alive(), 30, what="the gateway to start")
        assert thread.is_alive(), "the gateway did not start"
        issued = app.state.services.tenancy.ensure_admin_key(settings.admin_key_file)
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        with httpx.Client(base_url=base, timeout=scaled(30)) as client:
            admin = {"Authorization": f"Bearer {issued.key}"}
            created = client.post("/v1/admin/tenants", json={"name": "acme"}, headers=admin)
            assert created.status_code == 201, created.text
            tenant = {"Authorization": f"Bearer {created.json()['key']['key']}"}
            yield Live(client, admin, tenant, settings)
    finally:
        server.should_exit = True
        thread.join(timeout=scaled(10))
        sock.close()


def add_model(live: Live, body: dict[str, Any]) -> None:
    response = live.client.post("/v1/models", json={**body, **PRICES}, headers=live.admin)
    assert response.status_code == 201, response.text


def stream_and_hang_up(live: Live, body: dict[str, Any], *, after_pieces: int) -> list[str]:
    """Stream a chat answer and close the socket after ``after_pieces`` content pieces."""
    pieces: list[str] = []
    with live.client.stream("POST", "/v1/chat/completions", json=body, headers=live.tenant) as response:
        assert response.status_code == 200, response.read()
        for line in response.iter_lines():
            if not line.startswith("data: {"):
                continue
            choices = json.loads(line[len("data: ") :])["choices"]
            text = choices[0]["delta"].get("content") if choices else None
            if text:
                pieces.append(text)
            if len(pieces) >= after_pieces:
                break
    # Leaving the block with the body unread closes the connection: the client hangs up.
    return pieces


def hung_up_row(settings: Settings) -> UsageEvent:
    db = Database(settings.resolved_database_url)

    def row() -> UsageEvent | None:
        with db.session() as session:
            return session.scalar(select(UsageEvent).where(UsageEvent.status_code == 499))

    try:
        return wait_until(row, 30, what="the usage row of the stream the client closed")
    finally:
        db.dispose()


def tokens_this_minute(live: Live) -> float:
    response = live.client.get("/v1/quotas", headers=live.tenant)
    assert response.status_code == 200, response.text
    return response.json()["tenant"]["used"]["tokens_this_minute"]


def put_tenant_quota(live: Live, **limits: Any) -> None:
    response = live.client.put("/v1/admin/quotas/tenants/acme", json=limits, headers=live.admin)
    assert response.status_code == 200, response.text


def test_a_remote_stream_closed_early_bills_what_was_produced(settings: Settings) -> None:
    with MockUpstream() as upstream, live_gateway(settings) as live:
        # A pause before each piece: the client is gone before the answer (and its usage) ends.
        upstream.chunk_delay_s = 0.3
        allowed = live.client.post(
            "/v1/admin/outbound-allowlist", json={"host": f"127.0.0.1:{upstream.port}"}, headers=live.admin
        )
        assert allowed.status_code == 201, allowed.text
        add_model(
            live,
            {"kind": "remote", "id": "far", "base_url": upstream.base_url, "upstream_model": "mock-model"},
        )
        put_tenant_quota(live, tokens_per_minute=100_000, spend_budget=1_000_000.0, budget_period="day")
        body = {
            "model": "far",
            "messages": [{"role": "user", "content": "tell me a long story about a lighthouse keeper"}],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        received = stream_and_hang_up(live, body, after_pieces=2)
        row = hung_up_row(settings)
        assert row.prompt_tokens > 0
        assert row.completion_tokens >= len(received)
        assert row.cost == pytest.approx(row.prompt_tokens + row.completion_tokens)
        # The quota reservation was settled with the same figure, not cut to nothing.
        total = row.prompt_tokens + row.completion_tokens
        wait_until(lambda: tokens_this_minute(live) == total, 10, what="the reservation to settle")


def test_a_local_stream_closed_early_bills_what_was_produced(
    settings: Settings, tiny_model_dir: Path
) -> None:
    with live_gateway(settings) as live:
        add_model(live, {"kind": "local", "id": "tiny", "path": str(tiny_model_dir)})
        body = {
            "model": "tiny",
            "messages": [{"role": "user", "content": "hello there, little model"}],
            "stream": True,
            "max_tokens": 480,
            "temperature": 1.0,
            "seed": 7,
        }
        received = stream_and_hang_up(live, body, after_pieces=3)
        row = hung_up_row(settings)
        assert row.prompt_tokens > 0
        assert row.completion_tokens >= len(received)
        assert row.cost == pytest.approx(row.prompt_tokens + row.completion_tokens)
