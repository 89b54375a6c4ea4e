"""One loaded base model shared by its own backend and by every LoRA adapter on it.

PEFT injects adapter layers into the base model in place, so once an adapter is attached
every request on that base, adapter or not, must say which adapter it wants; and since
the active adapter is global state, those requests run one at a time on the host's one
worker thread. That is the "many adapters share a base" of hosting: N fine-tunes of
gemma-3-270m cost one copy of its weights plus a few MB each.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from modelyard.backends.base import BackendContext, ModelSpec
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

    def load(self) -> LoadedModel:
        """Blocking: the base model, loaded once."""
        with self._lock:
            if self._loaded is None:
                self._loaded = load_model(self.spec, self.context)
            return self._loaded

    def submit(self, work: Callable[[], T]) -> Future[T]:
        return self._worker.submit(work)

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
        self._worker.shutdown(wait=False)
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
