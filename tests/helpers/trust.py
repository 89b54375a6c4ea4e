"""Keys, an echo backend and tenant-A objects for the access and isolation tests.

``seed_tenant`` gives tenant "acme" one of everything a tenant owns (files, a fine-tuning
job with events, an evaluation that ran, an ``ft:`` model, keys), each carrying a canary
string, so a test can aim another tenant's key at real objects and grep for the canary.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

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
from modelyard.jobs.worker import Worker
from modelyard.prompting import Message
from modelyard.store import Database, ModelRecord
from modelyard.tenancy import KeySpec
from tests.conftest import Platform

__all__ = ["ECHO_BACKEND", "Seeded", "add_model", "issue", "issue_direct", "past", "seed_tenant", "upload"]

ECHO_BACKEND = "trust-echo"


class EchoBackend:
    """Answers 'echo: <last message>' at once; embeddings are the text's length."""

    accepted_extra: frozenset[str] = frozenset()

    def __init__(self, spec: ModelSpec, context: BackendContext) -> None:
        self.spec = spec

    async def chat(self, messages: Sequence[Message], params: GenerationParams) -> Generation:
        return await self.complete(messages[-1].content, params)

    async def complete(self, prompt: str, params: GenerationParams) -> Generation:
        text = f"echo: {prompt}"
        return Generation([Choice(i, text, "stop") for i in range(params.n)], Usage(1, 1))

    async def stream_chat(
        self, messages: Sequence[Message], params: GenerationParams
    ) -> AsyncIterator[StreamChunk | Usage]:
        yield StreamChunk(0, f"echo: {messages[-1].content}", "stop")
        yield Usage(1, 1)

    async def stream_complete(
        self, prompt: str, params: GenerationParams
    ) -> AsyncIterator[StreamChunk | Usage]:
        yield StreamChunk(0, f"echo: {prompt}", "stop")
        yield Usage(1, 1)

    async def embed(self, texts: Sequence[str]) -> Embeddings:
        return Embeddings([[float(len(t)), 1.0] for t in texts], Usage(len(texts), 0))

    async def close(self) -> None:
        pass


register_backend(ECHO_BACKEND)(EchoBackend)


def add_model(platform: Platform, model_id: str, *, owner_tenant_id: str | None = None, **extra: Any) -> None:
    db = Database(platform.settings.resolved_database_url)
    with db.session() as session:
        session.add(
            ModelRecord(
                id=model_id,
                owner_tenant_id=owner_tenant_id,
                backend=ECHO_BACKEND,
                task=extra.pop("task", "chat"),
                provider="test",
                source={},
                tags=[],
                description="",
                **extra,
            )
        )
    db.dispose()


def issue(platform: Platform, tenant: str, **body: Any) -> dict[str, Any]:
    """A key for ``tenant`` made through the admin API; the response holds ``key``."""
    response = platform.client.post(
        f"/v1/admin/tenants/{tenant}/keys", json=body, headers=platform.headers(platform.admin_key)
    )
    assert response.status_code == 201, response.text
    return response.json()


def issue_direct(platform: Platform, tenant: str, **spec: Any) -> str:
    """A key made by the service itself: for settings the API refuses (a past expiry)."""
    tenancy = platform.client.app.state.services.tenancy
    return tenancy.create_key(tenant=tenant, spec=KeySpec(**spec)).key


def upload(platform: Platform, data: bytes, purpose: str, key: str | None = None) -> str:
    response = platform.client.post(
        "/v1/files",
        files={"file": ("d.jsonl", data)},
        data={"purpose": purpose},
        headers=platform.headers(key),
    )
    assert response.status_code == 200, response.text
    return response.json()["id"]


def _rows(canary: str, n: int) -> bytes:
    rows = [
        {
            "messages": [
                {"role": "user", "content": f"{canary} q{i}"},
                {"role": "assistant", "content": f"a{i}"},
            ]
        }
        for i in range(n)
    ]
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


@dataclass
class Seeded:
    """Tenant acme's objects; ``ids`` maps a path parameter's name to one of them."""

    canary: str
    tenant_id: str
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def secrets(self) -> list[str]:
        """Strings no other tenant may ever read back."""
        return [self.canary, self.tenant_id, *self.ids.values()]


def seed_tenant(platform: Platform, *, run_evaluation: bool = True) -> Seeded:
    canary = f"CANARY-{secrets.token_hex(8)}"
    headers = platform.headers()
    tenancy = platform.client.app.state.services.tenancy
    me = tenancy.authenticate(platform.tenant_key)
    seeded = Seeded(canary=canary, tenant_id=me.tenant_id)
    add_model(platform, "echo")
    ft_model = f"ft:echo:acme:{secrets.token_hex(4)}"
    add_model(platform, ft_model, owner_tenant_id=me.tenant_id, lineage={"note": canary})

    chat = {"model": "echo", "messages": [{"role": "user", "content": f"secret plan {canary}"}]}
    answered = platform.client.post("/v1/chat/completions", json=chat, headers=headers)
    assert answered.status_code == 200 and canary in answered.text, answered.text
    chat["model"] = ft_model
    assert platform.client.post("/v1/chat/completions", json=chat, headers=headers).status_code == 200

    evals_file = upload(platform, _rows(canary, 2), "evals")
    evaluation = platform.client.post(
        "/v1/evaluations",
        json={"file": evals_file, "models": ["echo"], "metrics": [{"name": "exact_match"}], "name": canary},
        headers=headers,
    )
    assert evaluation.status_code == 200, evaluation.text
    if run_evaluation:  # before any fine-tuning job is queued: the worker must not train
        with Worker(platform.settings) as worker:
            while worker.run_once():
                pass
    training_file = upload(platform, _rows(canary, 3), "fine-tune")
    job = platform.client.post(
        "/v1/fine_tuning/jobs",
        json={"model": "gemma-3-270m", "training_file": training_file, "suffix": "canary"},
        headers=headers,
    )
    assert job.status_code == 200, job.text
    seeded.ids.update(
        file_id=training_file,
        evals_file_id=evals_file,
        job_id=job.json()["id"],
        evaluation_id=evaluation.json()["id"],
        model_id=ft_model,
        key_id=me.key_id,
    )
    return seeded


def past() -> datetime:
    return datetime.now(UTC) - timedelta(hours=1)
