"""What this machine is, as far as the speed of torch's number formats goes."""

from __future__ import annotations

import hashlib
import json
import os
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["CpuIdentity", "available_cores", "describe_cpu"]

# The flags that decide how fast float32 and bfloat16 matmuls run on x86 (and the Arm
# equivalents); the rest of /proc/cpuinfo's list does not change the choice.
RELEVANT_FLAGS = (
    "avx",
    "avx2",
    "fma",
    "f16c",
    "avx512f",
    "avx512_bf16",
    "avx512_fp16",
    "avx512_vnni",
    "amx_bf16",
    "amx_tile",
    "amx_fp16",
    "bf16",  # Arm (aarch64 "Features")
    "sve",
    "asimd",
)


@dataclass(frozen=True, slots=True)
class CpuIdentity:
    """Everything a measured choice depends on: change one and the choice is measured again."""

    model: str
    flags: tuple[str, ...]
    torch_version: str
    torch_capability: str  # what PyTorch's own kernels dispatch to (AVX2, AVX512, ...)
    threads: int
    isa_overrides: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        blob = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def describe(self) -> str:
        flags = " ".join(self.flags) or "none of the relevant flags"
        overrides = "".join(f", {k}={v}" for k, v in sorted(self.isa_overrides.items()))
        return (
            f"{self.model} ({flags}; torch {self.torch_version} {self.torch_capability} kernels, "
            f"{self.threads} threads{overrides})"
        )


def available_cores() -> int:
    """The cores this process may run on (a container's or taskset's limit, not the host's)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _cpuinfo() -> tuple[str, tuple[str, ...]]:
    model, flags = platform.processor() or platform.machine(), set[str]()
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return model, ()
    for line in text.splitlines():
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name in ("model name", "cpu model") and value.strip():
            model = value.strip()
        elif name in ("flags", "features"):
            flags.update(value.split())
    return model, tuple(f for f in RELEVANT_FLAGS if f in flags)


def describe_cpu(threads: int, isa_overrides: dict[str, str]) -> CpuIdentity:
    """Imports torch: call it where torch work is about to happen anyway."""
    import torch

    model, flags = _cpuinfo()
    return CpuIdentity(
        model=model,
        flags=flags,
        torch_version=torch.__version__,
        torch_capability=str(torch.backends.cpu.get_cpu_capability()),
        threads=threads,
        isa_overrides=dict(isa_overrides),
    )
