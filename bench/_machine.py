"""What every benchmark prints first: the CPU it ran on and what ``auto`` picked there.

Figures from a CPU with native bf16 (avx512_bf16, AMX) say little about one without it,
where bf16 matrix products are emulated and 86x slower, so no figure goes without this.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from modelyard.config import cpu_isa_overrides  # noqa: E402
from modelyard.hardware import FormatChoice, NumberFormats, available_cores, describe_cpu  # noqa: E402

__all__ = ["auto_choice", "describe_machine"]


def auto_choice(cache: Path) -> FormatChoice:
    """The choice a server with this cache makes (measured here if not cached yet)."""
    return NumberFormats(cache / "hardware", isa_overrides=cpu_isa_overrides()).choice()


def describe_machine(cache: Path) -> str:
    """One paragraph: CPU model, the flags that matter, torch's kernels, cores, and auto's pick."""
    cpu = describe_cpu(available_cores(), cpu_isa_overrides())
    choice = auto_choice(cache)
    figures = ", ".join(
        f"{kind} {v['float32'] * 1000:.1f}/{v['bfloat16'] * 1000:.1f}" for kind, v in choice.figures.items()
    )
    return (
        f"machine: {cpu.describe()}\n"
        f"auto picks: serving {choice.serve}, evaluations {choice.batch}, training {choice.train} "
        f"(probe ms per token float32/bfloat16: {figures})"
    )
