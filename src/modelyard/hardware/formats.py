"""Resolve ``auto`` number formats: measured once per machine, cached in the home.

The cache (``<home>/hardware/number-formats.json``) is keyed by everything the choice
depends on (CPU model and flags, torch version and kernel level, threads, instruction-set
overrides), so a new CPU or a torch upgrade measures again, and moving a home between
machines never carries a wrong choice along.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from modelyard.hardware.choice import FormatChoice, choose
from modelyard.hardware.cpu import CpuIdentity, available_cores, describe_cpu
from modelyard.hardware.probe import VERSION as PROBE_VERSION

__all__ = ["NumberFormats", "apply_threads"]

log = logging.getLogger(__name__)

CACHE_FILE = "number-formats.json"
Measure = Callable[[], dict[str, dict[str, float]]]
Identify = Callable[[], CpuIdentity]


def apply_threads(threads: int | None) -> int:
    """Give torch the cores this process may use (or the configured count); returns it."""
    import torch

    count = threads or available_cores()
    if torch.get_num_threads() != count:
        torch.set_num_threads(count)
    return count


def _measure() -> dict[str, dict[str, float]]:
    """On the threads this process's torch work will use (``apply_threads`` ran first):
    decoding is bound by memory reads, and one thread cannot saturate them, so a
    single-threaded probe would hide bf16's halved bytes. Interleaved rounds and the fastest
    of repeats keep another process's load from swinging the comparison."""
    from modelyard.hardware.probe import measure

    return measure()


class NumberFormats:
    """One per process: answers which format serving and training use on this machine."""

    def __init__(
        self,
        cache_dir: Path,
        *,
        threads: int | None = None,
        isa_overrides: dict[str, str] | None = None,
        measure: Measure = _measure,
        identify: Identify | None = None,
    ) -> None:
        self._cache_file = cache_dir / CACHE_FILE
        self._threads = threads
        self._measure = measure
        self._identify = identify or (lambda: describe_cpu(apply_threads(threads), isa_overrides or {}))
        self._lock = threading.Lock()
        self._resolved: tuple[CpuIdentity, FormatChoice, float, bool] | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> NumberFormats:
        from modelyard.config import cpu_isa_overrides

        return cls(
            settings.resolved_hardware_dir, threads=settings.torch_threads, isa_overrides=cpu_isa_overrides()
        )

    def serve_dtype(self, configured: str) -> str:
        return self.choice().serve if configured == "auto" else configured

    def batch_dtype(self, configured: str) -> str:
        return self.choice().batch if configured == "auto" else configured

    def train_dtype(self, configured: str) -> str:
        return self.choice().train if configured == "auto" else configured

    def choice(self) -> FormatChoice:
        """Blocking the first time on a new machine (about a second of measuring)."""
        with self._lock:
            if self._resolved is None:
                self._resolved = self._resolve()
            return self._resolved[1]

    def report(self) -> dict[str, Any] | None:
        """What was chosen and measured, for admins; None before anything asked."""
        if self._resolved is None:
            return None
        identity, choice, measured_at, from_cache = self._resolved
        return {
            "cpu": {**asdict(identity), "description": identity.describe()},
            "choice": choice.to_dict(),
            "measured_at": int(measured_at),
            "from_cache": from_cache,
            "cache_file": self._cache_file.name,
        }

    def _resolve(self) -> tuple[CpuIdentity, FormatChoice, float, bool]:
        identity = self._identify()
        cache = self._read_cache()
        key = f"probe-{PROBE_VERSION}:{identity.key}"
        entry = cache.get(key)
        if entry is not None:
            try:
                choice = choose(entry["figures"])
            except (KeyError, TypeError, ValueError):
                entry = None
            else:
                self._log(identity, choice, "cached")
                return identity, choice, float(entry.get("measured_at", 0)), True
        started = time.monotonic()
        figures = self._measure()
        choice = choose(figures)
        now = time.time()
        cache[key] = {"identity": asdict(identity), "figures": figures, "measured_at": now}
        self._write_cache(cache)
        self._log(identity, choice, f"measured in {time.monotonic() - started:.1f} s")
        return identity, choice, now, False

    def _read_cache(self) -> dict[str, Any]:
        try:
            data = json.loads(self._cache_file.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write_cache(self, cache: dict[str, Any]) -> None:
        """Atomically: another process may be reading or measuring at the same time."""
        try:
            self._cache_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = self._cache_file.with_name(f".{self._cache_file.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(cache, indent=1, sort_keys=True))
            tmp.replace(self._cache_file)
        except OSError:
            log.warning("could not cache the number-format choice in %s", self._cache_file.parent)

    @staticmethod
    def _log(identity: CpuIdentity, choice: FormatChoice, how: str) -> None:
        figures = ", ".join(
            f"{kind} {v['float32'] * 1000:.2f}/{v['bfloat16'] * 1000:.2f} ms"
            for kind, v in choice.figures.items()
        )
        log.info(
            "number formats on %s (%s): serving %s, evaluations %s, training %s; "
            "float32/bfloat16 per token: %s; %s; %s",
            identity.describe(),
            how,
            choice.serve,
            choice.batch,
            choice.train,
            figures,
            choice.serve_reason,
            choice.batch_reason,
        )
