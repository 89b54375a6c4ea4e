"""The backend pool's budget counts weights held in memory, not backends."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from modelyard.backends import BackendContext, ModelSpec
from modelyard.backends.pool import BackendPool
from modelyard.backends.registry import register_backend

CLOSED: list[str] = []


class _Held:
    """Holds weights of its own: no ``weights_key`` attribute, as a plug-in might forget."""

    def __init__(self, spec: ModelSpec, context: BackendContext) -> None:
        self.spec = spec

    async def embed(self, texts: Any) -> Any:
        raise NotImplementedError

    async def close(self) -> None:
        CLOSED.append(self.spec.id)


class _Keyed(_Held):
    """Names its weights: ``source["weights"]`` (None for a remote-like backend)."""

    def __init__(self, spec: ModelSpec, context: BackendContext) -> None:
        super().__init__(spec, context)
        self.weights_key = spec.source["weights"]


register_backend("pool-test-held")(_Held)
register_backend("pool-test-keyed")(_Keyed)


def _held(model_id: str) -> ModelSpec:
    return ModelSpec(id=model_id, backend="pool-test-held", task="embeddings")


def _keyed(model_id: str, weights: str | None) -> ModelSpec:
    return ModelSpec(id=model_id, backend="pool-test-keyed", task="chat", source={"weights": weights})


@pytest.fixture
def context(tmp_path: Path) -> BackendContext:
    CLOSED.clear()
    return BackendContext(models_dir=tmp_path)


def _load(pool: BackendPool, *specs: ModelSpec) -> None:
    async def load() -> None:
        for spec in specs:
            await pool.get(spec)

    asyncio.run(load())


def test_remote_backends_never_push_a_local_model_out(context: BackendContext) -> None:
    pool = BackendPool(context, max_loaded=1)
    _load(pool, _held("local"), *(_keyed(f"remote-{i}", None) for i in range(5)))
    assert CLOSED == [] and set(pool.loaded()) == {"local"} | {f"remote-{i}" for i in range(5)}
    _load(pool, _held("other-local"))
    assert CLOSED == ["local"]  # a second set of weights is over the budget of one


def test_adapters_share_their_base_in_the_budget_and_leave_with_it(context: BackendContext) -> None:
    pool = BackendPool(context, max_loaded=1)
    base = [_keyed("base", "w:base"), *(_keyed(f"ft:base:{i}", "w:base") for i in range(6))]
    _load(pool, *base)
    assert CLOSED == [] and len(pool.loaded()) == 7
    _load(pool, _keyed("other", "w:other"))
    assert sorted(CLOSED) == sorted(spec.id for spec in base) and pool.loaded() == ["other"]


def test_weights_used_through_an_adapter_count_as_recent(context: BackendContext) -> None:
    pool = BackendPool(context, max_loaded=2)
    # a's base was called first of all, but one of a's adapters was called after b
    _load(pool, _keyed("a", "w:a"), _keyed("b", "w:b"), _keyed("ft:a:1", "w:a"))
    _load(pool, _keyed("c", "w:c"))
    assert CLOSED == ["b"] and set(pool.loaded()) == {"a", "ft:a:1", "c"}


def test_a_changed_catalog_entry_rebuilds_only_its_backend(context: BackendContext) -> None:
    pool = BackendPool(context, max_loaded=2)
    _load(pool, _keyed("a", "w:a"), _keyed("b", "w:b"))
    _load(pool, _keyed("a", "w:a2"))  # same id, new weights
    assert CLOSED == ["a"] and set(pool.loaded()) == {"a", "b"}
