"""Find, vet and load a causal LM and its tokenizer (torch is imported only in here)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelyard.backends.base import BackendContext, ModelSpec
from modelyard.backends.readiness import Readiness
from modelyard.backends.transformers.builtin import BUILTIN_TEXT_MODELS, ensure_builtin_model
from modelyard.backends.transformers.files import check_weights, local_folder
from modelyard.errors import BackendUnavailable, InvalidRequest, ModelyardError

__all__ = ["LoadedModel", "check_source", "load_model", "resolve_folder"]

log = logging.getLogger(__name__)

_DTYPES = ("bfloat16", "float32")
_CONTEXT_KEYS = ("max_position_embeddings", "n_positions", "max_seq_len", "seq_length")


@dataclass(frozen=True, slots=True)
class LoadedModel:
    model: Any  # transformers.PreTrainedModel
    tokenizer: Any  # transformers.PreTrainedTokenizerBase
    context_length: int

    @property
    def has_chat_template(self) -> bool:
        return bool(getattr(self.tokenizer, "chat_template", None))


def check_source(spec: ModelSpec) -> None:
    """Fail fast, when the backend is created, on a source that can never load."""
    builtin = spec.source.get("builtin")
    if builtin is not None:
        if builtin not in BUILTIN_TEXT_MODELS:
            raise InvalidRequest(f"unknown built-in model '{builtin}'", param="source")
        return
    local_folder(spec.source)


def load_model(spec: ModelSpec, context: BackendContext) -> LoadedModel:
    """Blocking; call from a worker thread. Errors name the model, never a path."""
    folder = resolve_folder(spec, context)
    check_weights(folder, spec.id)
    try:
        model, tokenizer = _from_pretrained(folder, context)
    except ModelyardError:
        raise
    except Exception as exc:  # noqa: BLE001 - any library failure means "cannot serve it"
        log.exception("loading model %s from %s failed", spec.id, folder)
        raise BackendUnavailable(f"model '{spec.id}' could not be loaded") from exc
    return LoadedModel(model, tokenizer, _context_length(spec, model))


def resolve_folder(spec: ModelSpec, context: BackendContext) -> Path:
    builtin = spec.source.get("builtin")
    if builtin is None:
        return local_folder(spec.source)
    try:
        # Imported on first load when `modelyard serve` did not (or failed to): say so.
        progress = Readiness.of(context).importer(builtin, then="loading")
        return ensure_builtin_model(builtin, context.models_dir, progress)
    except ModelyardError:
        raise
    except Exception as exc:  # noqa: BLE001 - the import is third-party code end to end
        log.exception("importing built-in model %s failed", builtin)
        raise BackendUnavailable(f"built-in model '{builtin}' could not be imported") from exc


def _from_pretrained(folder: Path, context: BackendContext) -> tuple[Any, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from modelyard.hardware import apply_threads

    dtype = context.resolved_torch_dtype()
    if dtype not in _DTYPES:
        raise BackendUnavailable(f"torch dtype '{dtype}' is not supported; use auto, bfloat16 or float32")
    apply_threads(context.torch_threads)
    # Only local safetensors, and never code shipped with the weights.
    safe = {"local_files_only": True, "trust_remote_code": False}
    tokenizer = AutoTokenizer.from_pretrained(folder, **safe)
    model = AutoModelForCausalLM.from_pretrained(
        folder, dtype=getattr(torch, dtype), use_safetensors=True, **safe
    )
    model.eval()
    return model, tokenizer


def _context_length(spec: ModelSpec, model: Any) -> int:
    """The smaller of what the catalog allows and what the model was built for."""
    config = model.config
    built_for = next(
        (getattr(config, k) for k in _CONTEXT_KEYS if isinstance(getattr(config, k, None), int)), None
    )
    limits = [n for n in (spec.context_length, built_for) if n]
    if not limits:
        raise BackendUnavailable(f"model '{spec.id}' does not declare a context length")
    return min(limits)
