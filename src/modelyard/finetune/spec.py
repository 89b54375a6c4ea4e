"""What a fine-tuning run is asked to do (``TrainSpec``) and what it will do (``ResolvedSpec``).

A request may leave any hyperparameter at ``"auto"``; :func:`resolve` picks numbers for
the product's promise: about a hundred chat examples, a few minutes on a 2-core CPU, and a
model that then does the task. The reference point (see ``shared/DESIGN.md``): a plain
LoRA loop on gemma-3-270m, 100 examples x 2 epochs, ~3 minutes, ~85% held-out exact
match on a structured-output task. So "auto" aims at ~200 example passes in small
batches (many optimizer steps), LoRA on every linear projection, and a learning rate
high enough to learn a format in a few dozen steps.

Nothing here imports torch or PEFT: the job service validates requests with it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from modelyard.errors import InvalidRequest

__all__ = ["AUTO", "BASE_LEARNING_RATE", "ResolvedSpec", "TrainSpec", "planned_epochs", "resolve"]

AUTO = "auto"
Auto = Literal["auto"]

# LoRA's usual learning rate at alpha / r = 2; learning_rate_multiplier scales it.
BASE_LEARNING_RATE = 2e-4
# ~200 example passes took gemma-3-270m from 0% to ~85% on a structured task.
_TARGET_EXAMPLE_PASSES = 200
_MAX_AUTO_EPOCHS = 10
# Small batches mean more optimizer steps from few examples; 8 caps the padding waste.
_EXAMPLES_PER_AUTO_BATCH = 25
_MAX_AUTO_BATCH = 8
_MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]{0,127}$")


@dataclass(frozen=True, slots=True, kw_only=True)
class TrainSpec:
    """A fine-tuning request's knobs, checked by :meth:`validate`; "auto" where unset.

    ``n_epochs``, ``batch_size`` and ``learning_rate_multiplier`` are OpenAI's
    hyperparameters (the error ``param`` says ``hyperparameters.<name>``); the rest is
    our ``method.lora`` block (``method.lora.<name>``).
    """

    n_epochs: int | Auto = AUTO
    batch_size: int | Auto = AUTO
    learning_rate_multiplier: float | Auto = AUTO
    r: int = 16
    alpha: float = 32.0
    dropout: float = 0.05
    target_modules: tuple[str, ...] | None = None  # None: every linear projection in the blocks
    max_seq_length: int = 1024
    seed: int = 42
    checkpoint_every_steps: int = 25
    log_every_steps: int = 1

    @classmethod
    def from_request(
        cls,
        *,
        hyperparameters: Mapping[str, Any] | None = None,
        lora: Mapping[str, Any] | None = None,
        seed: int | None = None,
    ) -> TrainSpec:
        """Build from a job's stored ``hyperparameters`` and ``method.lora`` dicts."""
        fields: dict[str, Any] = {}
        for prefix, given, allowed in (
            ("hyperparameters", hyperparameters, _HYPERPARAMETERS),
            ("method.lora", lora, _LORA_FIELDS),
        ):
            for name, value in (given or {}).items():
                if name not in allowed:
                    raise InvalidRequest(f"unknown parameter '{name}'", param=f"{prefix}.{name}")
                if value is not None:
                    listed = name == "target_modules" and isinstance(value, list | tuple)
                    fields[name] = tuple(value) if listed else value
        if seed is not None:
            fields["seed"] = seed
        spec = cls(**fields)
        spec.validate()
        return spec

    def validate(self) -> None:
        """Raise ``InvalidRequest`` naming the first out-of-range parameter."""
        hp, lora = "hyperparameters.", "method.lora."
        _check_int(self.n_epochs, hp + "n_epochs", 1, 50, auto=True)
        _check_int(self.batch_size, hp + "batch_size", 1, 256, auto=True)
        _check_number(self.learning_rate_multiplier, hp + "learning_rate_multiplier", 0.0, 100.0)
        _check_int(self.r, lora + "r", 1, 256)
        _check_number(self.alpha, lora + "alpha", 0.0, 4096.0, auto=False)
        _check_dropout(self.dropout, lora + "dropout")
        _check_modules(self.target_modules, lora + "target_modules")
        _check_int(self.max_seq_length, lora + "max_seq_length", 16, 32768)
        _check_int(self.seed, "seed", 0, 2**31 - 1)
        _check_int(self.checkpoint_every_steps, "checkpoint_every_steps", 1, 10**6)
        _check_int(self.log_every_steps, "log_every_steps", 1, 10**6)


_HYPERPARAMETERS = frozenset({"n_epochs", "batch_size", "learning_rate_multiplier"})
_LORA_FIELDS = frozenset({"r", "alpha", "dropout", "target_modules", "max_seq_length"})


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolvedSpec:
    """Every number a run needs; what lineage records and what checkpoints are tied to."""

    n_epochs: int
    batch_size: int
    learning_rate_multiplier: float
    learning_rate: float
    r: int
    alpha: float
    dropout: float
    target_modules: tuple[str, ...] | None
    max_seq_length: int
    seed: int
    checkpoint_every_steps: int
    log_every_steps: int
    warmup_ratio: float = 0.1
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values (target_modules as a list)."""
        data = asdict(self)
        if self.target_modules is not None:
            data["target_modules"] = list(self.target_modules)
        return data


def resolve(spec: TrainSpec, n_examples: int) -> ResolvedSpec:
    """Turn every "auto" into a number for a training set of ``n_examples``."""
    spec.validate()
    if n_examples < 1:
        raise InvalidRequest("the training file has no examples", param="training_file")
    n_epochs = spec.n_epochs if spec.n_epochs != AUTO else _auto_epochs(n_examples)
    batch_size = spec.batch_size if spec.batch_size != AUTO else _auto_batch_size(n_examples)
    multiplier = 1.0 if spec.learning_rate_multiplier == AUTO else float(spec.learning_rate_multiplier)
    return ResolvedSpec(
        n_epochs=int(n_epochs),
        # A batch larger than the data set is the data set: say so in what we record.
        batch_size=min(int(batch_size), n_examples),
        learning_rate_multiplier=multiplier,
        learning_rate=BASE_LEARNING_RATE * multiplier,
        r=spec.r,
        alpha=float(spec.alpha),
        dropout=float(spec.dropout),
        target_modules=spec.target_modules,
        max_seq_length=spec.max_seq_length,
        seed=spec.seed,
        checkpoint_every_steps=spec.checkpoint_every_steps,
        log_every_steps=spec.log_every_steps,
    )


def planned_epochs(n_epochs: int | str, n_examples: int) -> int:
    """The epochs a run will make: ``n_epochs``, or what "auto" picks for the data set."""
    return int(n_epochs) if n_epochs != AUTO else _auto_epochs(max(n_examples, 1))


def _auto_epochs(n_examples: int) -> int:
    return max(1, min(_MAX_AUTO_EPOCHS, math.ceil(_TARGET_EXAMPLE_PASSES / n_examples)))


def _auto_batch_size(n_examples: int) -> int:
    return max(1, min(_MAX_AUTO_BATCH, n_examples // _EXAMPLES_PER_AUTO_BATCH))


# -- checks ---------------------------------------------------------------------------
def _is_number(value: object) -> bool:
    # bool is an int to Python, never a hyperparameter to a user.
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_int(value: object, param: str, low: int, high: int, *, auto: bool = False) -> None:
    if auto and value == AUTO:
        return
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        allowed = f"an integer from {low} to {high}" + (' or "auto"' if auto else "")
        raise InvalidRequest(f"{param} must be {allowed}, not {value!r}", param=param)


def _check_number(value: object, param: str, low: float, high: float, *, auto: bool = True) -> None:
    """``low`` excluded, ``high`` included."""
    if auto and value == AUTO:
        return
    if not _is_number(value) or not low < float(value) <= high:  # type: ignore[arg-type]
        allowed = f"a number above {low:g} and at most {high:g}" + (' or "auto"' if auto else "")
        raise InvalidRequest(f"{param} must be {allowed}, not {value!r}", param=param)


def _check_dropout(value: object, param: str) -> None:
    if not _is_number(value) or not 0.0 <= float(value) < 1.0:  # type: ignore[arg-type]
        raise InvalidRequest(f"{param} must be a number from 0 to below 1, not {value!r}", param=param)


def _check_modules(value: Sequence[str] | None, param: str) -> None:
    if value is None:
        return
    if isinstance(value, str) or not 1 <= len(value) <= 32:
        raise InvalidRequest(f"{param} must be a list of 1 to 32 module names", param=param)
    for name in value:
        if not isinstance(name, str) or not _MODULE_NAME.match(name):
            raise InvalidRequest(f"{param} has an invalid module name {name!r}", param=param)
