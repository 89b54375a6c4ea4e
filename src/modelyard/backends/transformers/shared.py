"""One loaded base model shared by its own backend and by every LoRA adapter on it.

PEFT injects adapter layers into the base model in place, so once an adapter is attached
every request on that base, adapter or not, must say which adapter it wants; and since
the active adapter is global state, all model work runs on the host's one worker
thread. That is the "many adapters share a base" of hosting: N fine-tunes of
gemma-3-270m cost one copy of its weights plus a few MB each.

Requests become rows (one per choice) that the host's micro-batcher decodes in batches
of rows on the same adapter (see ``batcher``).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from modelyard.backends.base import BackendContext, ModelSpec
from modelyard.backends.transformers.batcher import BatchStats, MicroBatcher, Row
from modelyard.backends.transformers.loading import LoadedModel, load_model
from modelyard.errors import BackendUnavailable

__all__ = ["BaseHost", "acquire_host", "base_spec"]

log = logging.getLogger(__name__)
T = TypeVar("T")
_ADAPTER_KEYS = ("adapter", "base_model")
_REGISTRY_KEY = "transformers.hosts"


def base_spec(spec: ModelSpec) -> ModelSpec:
    """The spec of the base model under an adapter (the spec itself for a base model)."""
    if "adapter" not in spec.source:
        return spec
    source = {k: v for k, v in spec.source.items() if k not in _ADAPTER_KEYS}
    return replace(spec, id=str(spec.source.get("base_model", spec.id)), source=source)


class BaseHost:
    def __init__(self, spec: ModelSpec, context: BackendContext, key: str) -> None:
        self.spec = spec
        self.context = context
        self.key = key
        self.users = 0
        self._loaded: LoadedModel | None = None
        self._adapters: set[str] = set()
        self._lock = threading.Lock()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"modelyard-{spec.id}")
        self._batcher = MicroBatcher(self.submit, self._run_batch)

    def load(self) -> LoadedModel:
        """Blocking: the base model, loaded once."""
        with self._lock:
            if self._loaded is None:
                self._loaded = load_model(self.spec, self.context)
            return self._loaded

    def submit(self, work: Callable[[], T]) -> Future[T]:
        return self._worker.submit(work)

    def generate(self, rows: list[Row]) -> None:
        """Queue rows to decode; results go to each row's sink. ``RuntimeError`` once closed."""
        self._batcher.add(rows)

    def on_the_way(self) -> AbstractContextManager[None]:
        """Around preparing a request and calling ``generate``: batches forming wait for it."""
        return self._batcher.on_the_way()

    def batch_stats(self) -> BatchStats:
        return self._batcher.stats()

    def _run_batch(self, adapter: str | None, rows: list[Row]) -> None:
        """On the worker thread: one batch, all rows on ``adapter`` (None: the base model)."""
        from modelyard.backends.transformers.decode_loop import run_batch

        loaded = self.loaded
        with self.activate(adapter):
            run_batch(loaded.model, loaded.tokenizer, rows)

    def attach(self, name: str, adapter_dir: Path) -> None:
        """Blocking, on the worker thread: make adapter ``name`` available."""
        loaded = self.load()
        with self._lock:
            if name in self._adapters:
                return
            if not (adapter_dir / "adapter_model.safetensors").is_file():
                raise BackendUnavailable(f"the adapter of model '{name}' is missing on this server")
            from peft import PeftModel

            model = loaded.model
            if isinstance(model, PeftModel):
                model.load_adapter(str(adapter_dir), adapter_name=name, is_trainable=False)
            else:
                model = PeftModel.from_pretrained(
                    model, str(adapter_dir), adapter_name=name, is_trainable=False
                )
                model.eval()
                self._loaded = replace(loaded, model=model)
            self._adapters.add(name)
            log.info("attached adapter %s to %s (%d adapters)", name, self.spec.id, len(self._adapters))

    def activate(self, adapter: str | None) -> Any:
        """On the worker thread: a context in which ``self.loaded.model`` runs ``adapter``."""
        model = self.loaded.model
        if not self._adapters:  # no adapter attached yet: the plain base model
            return nullcontext()
        if adapter is None:
            return model.disable_adapter()
        model.set_adapter(adapter)
        return nullcontext()

    @property
    def loaded(self) -> LoadedModel:
        if self._loaded is None:
            raise BackendUnavailable(f"model '{self.spec.id}' is not loaded")
        return self._loaded

    def close(self) -> None:
        """Refuse new work; rows already accepted are decoded, then the weights are let go."""
        self._batcher.close()
        try:
            self._worker.submit(self._release)  # behind the accepted work, not before it
        except RuntimeError:  # closed already
            return
        self._worker.shutdown(wait=False)

    def _release(self) -> None:
        # A drain job that lost the race with shutdown() may have left rows waiting.
        self._batcher.drain_now()
        self._loaded = None


def acquire_host(spec: ModelSpec, context: BackendContext) -> BaseHost:
    base = base_spec(spec)
    key = json.dumps({"source": base.source, "dtype": context.torch_dtype}, sort_keys=True)
    hosts: dict[str, BaseHost] = context.shared.setdefault(_REGISTRY_KEY, {})
    host = hosts.get(key)
    if host is None:
        host = hosts[key] = BaseHost(base, context, key)
    host.users += 1
    return host


def release_host(host: BaseHost) -> None:
    """The last backend on a base frees it."""
    host.users -= 1
    if host.users <= 0:
        host.context.shared.get(_REGISTRY_KEY, {}).pop(host.key, None)
        host.close()
