"""ResolvedSpec -> the PEFT LoRA config, the optimizer settings and the learning-rate schedule.

Pure mappings, no training: what a spec means is read here in one place, and tests can
pin it without a model. PEFT is imported inside :func:`lora_config` only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelyard.finetune.spec import ResolvedSpec

if TYPE_CHECKING:
    from peft import LoraConfig

__all__ = ["AdamWSettings", "Schedule", "adamw_settings", "lora_config", "schedule"]

# PEFT's own name for "every nn.Linear in the model except the output layer": attention
# and MLP projections alike, whatever the architecture calls them.
ALL_LINEAR = "all-linear"


def lora_config(spec: ResolvedSpec) -> LoraConfig:
    from peft import LoraConfig, TaskType

    return LoraConfig(
        task_type=TaskType.CAUSAL_LM,
        r=spec.r,
        lora_alpha=spec.alpha,
        lora_dropout=spec.dropout,
        target_modules=list(spec.target_modules) if spec.target_modules else ALL_LINEAR,
        bias="none",
    )


@dataclass(frozen=True, slots=True)
class AdamWSettings:
    lr: float
    betas: tuple[float, float]
    eps: float
    weight_decay: float

    def as_kwargs(self) -> dict[str, Any]:
        return {"lr": self.lr, "betas": self.betas, "eps": self.eps, "weight_decay": self.weight_decay}


def adamw_settings(spec: ResolvedSpec) -> AdamWSettings:
    return AdamWSettings(lr=spec.learning_rate, betas=(0.9, 0.999), eps=1e-8, weight_decay=spec.weight_decay)


@dataclass(frozen=True, slots=True)
class Schedule:
    """Linear warmup to the peak rate, then linear decay; steps count from 1.

    The rate is a pure function of the step, so resuming needs only the step number
    (nanoGPT sets ``param_group["lr"]`` the same way; there is no scheduler object).
    """

    peak: float
    warmup_steps: int
    total_steps: int

    def learning_rate(self, step: int) -> float:
        if step <= self.warmup_steps:
            return self.peak * step / self.warmup_steps
        # The last step still learns (1 / (decay steps + 1) of the peak), none is wasted at 0.
        remaining = self.total_steps - step + 1
        return self.peak * remaining / (self.total_steps - self.warmup_steps + 1)


def schedule(spec: ResolvedSpec, total_steps: int) -> Schedule:
    warmup = min(total_steps, max(1, math.ceil(spec.warmup_ratio * total_steps)))
    return Schedule(peak=spec.learning_rate, warmup_steps=warmup, total_steps=total_steps)
