"""Backends on the tiny random model (see tests/helpers/tiny_models.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from modelyard.backends import BackendContext, ModelSpec
from modelyard.backends.transformers import TransformersBackend

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Each test drives the backend from a fresh event loop; backends keep none."""
    return asyncio.run(coro)


def tiny_spec(folder: Path, **source: Any) -> ModelSpec:
    return ModelSpec(id="tiny", backend="transformers", task="chat", source={"path": str(folder), **source})


@pytest.fixture(scope="session")
def backend_context(tmp_path_factory: pytest.TempPathFactory) -> BackendContext:
    return BackendContext(
        models_dir=tmp_path_factory.mktemp("models"), torch_dtype="float32", default_max_tokens=16
    )


@pytest.fixture(scope="module")
def tiny(tiny_model_dir: Path, backend_context: BackendContext) -> Iterator[TransformersBackend]:
    backend = TransformersBackend(tiny_spec(tiny_model_dir), backend_context)
    yield backend
    run(backend.close())
