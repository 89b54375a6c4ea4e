"""What a fine-tuning job would take before it starts: tokens, time on this machine, cost.

- Tokens: the training file encoded exactly as training encodes it, with the base
  model's own tokenizer when it is on this server (else the upload validator's
  estimate, and the answer says so), times the epochs the job would run: the number the
  job reports as ``trained_tokens`` and is billed for.
- Time: the training speed measured by earlier jobs on this base on this machine (the
  median tokens/s of their latest steps); failing that, the hardware probe's training
  figure for its reference model, scaled by parameter count; failing that, unknown.
  Loading the base and tokenizing come on top (seconds to a minute).
- Cost: those tokens at the base's training price, as the job is billed.
"""

from __future__ import annotations

import functools
import json
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import select

from modelyard.finetune.protocol import CreateJobIn
from modelyard.finetune.spec import TrainSpec, resolve
from modelyard.store.tables import FineTuningEvent, FineTuningJob, ModelRecord
from modelyard.tenancy import Principal
from modelyard.usage import training_cost

if TYPE_CHECKING:
    from modelyard.services import Services

__all__ = ["Estimate", "estimate"]

Basis = Literal["measured", "hardware_probe", "unknown"]
# The hardware probe times a model of Gemma 3 270M's shapes (modelyard.hardware.probe).
_PROBE_REFERENCE_PARAMETERS = 268_098_176
_RECENT_STEPS = 20
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model")


@dataclass(frozen=True, slots=True)
class Estimate:
    model: str
    training_file: str
    examples: int
    epochs: int
    trained_tokens: int
    token_counter: Literal["tokenizer", "estimate"]
    tokens_per_s: float | None
    seconds: float | None
    basis: Basis
    cost: float
    price_training_per_1k: float

    def to_dict(self) -> dict[str, Any]:
        return {"object": "fine_tuning.estimate", **asdict(self)}


def estimate(services: Services, body: CreateJobIn, principal: Principal) -> Estimate:
    """Blocking (it may load a tokenizer). The same 4xx as creating the job would give."""
    jobs = services.fine_tuning
    base = jobs.tunable_base(body.model, principal)
    jobs.require_file(body.training_file, principal, "training_file")
    conversations = services.files.examples(principal.tenant_id, body.training_file)
    spec = resolve(
        TrainSpec.from_request(hyperparameters=body.resolved_hyperparameters(), lora=body.lora()),
        len(conversations),
    )
    per_epoch = _encoded_tokens(_tokenizer_folder(services, base), conversations, spec.max_seq_length)
    counter: Literal["tokenizer", "estimate"] = "tokenizer"
    if per_epoch is None:
        counter = "estimate"
        stats = services.files.get(principal, body.training_file).stats or {}
        per_epoch = int(stats.get("estimated_training_tokens", 0))
    epochs = spec.n_epochs
    tokens = per_epoch * epochs
    speed, basis = _measured_speed(services, base.id), "measured"
    if speed is None:
        speed, basis = _probe_speed(services, base), "hardware_probe"
    if speed is None:
        basis = "unknown"
    price = float(base.price_training_per_1k or 0)
    return Estimate(
        model=base.id,
        training_file=body.training_file,
        examples=len(conversations),
        epochs=epochs,
        trained_tokens=tokens,
        token_counter=counter,
        tokens_per_s=round(speed, 1) if speed else None,
        seconds=round(tokens / speed, 1) if speed else None,
        basis=basis,
        cost=training_cost(tokens, price),
        price_training_per_1k=price,
    )


def _tokenizer_folder(services: Services, base: ModelRecord) -> Path | None:
    """The base's folder when its tokenizer is on this server already (never imported here)."""
    source = base.source or {}
    if isinstance(source.get("path"), str):
        folder = Path(source["path"])
    elif isinstance(source.get("builtin"), str):
        folder = services.settings.resolved_models_dir / source["builtin"]
    else:
        return None
    return folder if any((folder / name).is_file() for name in _TOKENIZER_FILES) else None


def _encoded_tokens(folder: Path | None, conversations: list[Any], max_seq_length: int) -> int | None:
    if folder is None:
        return None
    from modelyard.finetune.data import encode_examples

    try:
        tokenizer = _tokenizer(str(folder))
        return encode_examples(tokenizer, conversations, max_seq_length).n_tokens
    except Exception:  # noqa: BLE001 - any library failure only means "use the estimate"
        return None


@functools.lru_cache(maxsize=4)
def _tokenizer(folder: str) -> Any:
    from transformers import AutoTokenizer

    # Local files only, and never code shipped with the weights (as training loads it).
    return AutoTokenizer.from_pretrained(folder, local_files_only=True, trust_remote_code=False)


def _measured_speed(services: Services, base_id: str) -> float | None:
    """Median tokens/s of the latest training steps on ``base_id`` here, any tenant's:
    the machine's speed, not anyone's data (only the figure leaves this function)."""
    query = (
        select(FineTuningEvent.data)
        .join(FineTuningJob, FineTuningJob.id == FineTuningEvent.job_id)
        .where(FineTuningJob.model == base_id, FineTuningEvent.type == "metrics")
        .order_by(FineTuningEvent.id.desc())
        .limit(_RECENT_STEPS)
    )
    with services.db.session() as session:
        rows = list(session.scalars(query))
    speeds = [float(d["tokens_per_s"]) for d in rows if d and (d.get("tokens_per_s") or 0) > 0]
    return statistics.median(speeds) if speeds else None


def _probe_speed(services: Services, base: ModelRecord) -> float | None:
    """Tokens/s from the hardware probe's training figure, if this machine was probed
    (read, never measured here: measuring takes seconds and imports torch)."""
    from modelyard.hardware import choose
    from modelyard.hardware.formats import CACHE_FILE
    from modelyard.hardware.probe import VERSION

    report = services.pool.context.number_formats.report()
    figures = report["choice"]["figures"] if report else _cached_figures(services, CACHE_FILE, VERSION)
    if not figures or "train" not in figures:
        return None
    configured = services.settings.train_dtype
    try:
        dtype = configured if configured != "auto" else choose(figures).train
        per_token = float(figures["train"][dtype])
    except (KeyError, TypeError, ValueError):
        return None
    scale = (base.parameters or _PROBE_REFERENCE_PARAMETERS) / _PROBE_REFERENCE_PARAMETERS
    return 1 / (per_token * scale) if per_token > 0 else None


def _cached_figures(services: Services, cache_file: str, version: int) -> dict[str, Any] | None:
    try:
        cache = json.loads((services.settings.resolved_hardware_dir / cache_file).read_text())
    except (OSError, ValueError):
        return None
    entries = (
        [v for k, v in cache.items() if isinstance(v, dict) and k.startswith(f"probe-{version}:")]
        if isinstance(cache, dict)
        else []
    )
    newest = max(entries, key=lambda e: e.get("measured_at", 0), default=None)
    return newest.get("figures") if newest else None
