"""What a host process is told when it starts, and how it travels to it.

The launch (the base model's spec, which may hold a provider credential, and the host's
secret) goes to the child as one JSON line on its stdin, never on its command line, where
any local user could read it in ``ps``. The parent keeps that pipe open for the child's
whole life: when the parent dies, however it dies, the child reads end-of-file and exits,
so no host outlives the process that supervises it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelyard.backends.base import BackendContext, ModelSpec
from modelyard.errors import InvalidRequest

__all__ = ["AdapterRef", "HostLaunch", "decode_launch", "encode_launch"]


@dataclass(frozen=True, slots=True)
class AdapterRef:
    """A LoRA adapter a request runs on: its model id and the folder holding its weights."""

    id: str
    path: str

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "path": self.path}

    @classmethod
    def from_json(cls, data: Any) -> AdapterRef | None:
        if data is None:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not data["id"]:
            raise InvalidRequest("'adapter' must be an object with an 'id' and a 'path'", param="adapter")
        if not isinstance(data.get("path"), str) or not data["path"]:
            raise InvalidRequest("'adapter.path' must name the adapter's folder", param="adapter")
        return cls(id=data["id"], path=data["path"])


@dataclass(frozen=True, slots=True)
class HostLaunch:
    """One host: one engine instance for ``spec`` (a base model), and how it runs."""

    spec: ModelSpec
    models_dir: Path
    torch_dtype: str = "auto"
    torch_threads: int | None = None
    default_max_tokens: int = 256
    workload: str = "interactive"
    # Adapters a request names must lie under this folder (None: any folder). The host
    # trusts its caller, who holds the secret, but this keeps a mistake from reading
    # an arbitrary directory.
    adapter_root: Path | None = None
    # Modules the host imports before building its engine, so that a backend registered
    # by a plug-in outside modelyard can be hosted too.
    plugins: tuple[str, ...] = ()
    # How long the host's own server waits for open responses once told to stop.
    shutdown_grace_s: float = 30.0
    log_level: str = "warning"
    name: str = field(default="")

    @property
    def label(self) -> str:
        return self.name or self.spec.id

    def backend_context(self) -> BackendContext:
        return BackendContext(
            models_dir=self.models_dir,
            torch_dtype=self.torch_dtype,
            torch_threads=self.torch_threads,
            default_max_tokens=self.default_max_tokens,
            workload=self.workload,
        )


def encode_launch(launch: HostLaunch, secret: str) -> bytes:
    """The line written to the child's stdin."""
    spec = launch.spec
    data = {
        "spec": {
            "id": spec.id,
            "backend": spec.backend,
            "task": spec.task,
            "source": spec.source,
            "secret": spec.secret,
            "context_length": spec.context_length,
        },
        "models_dir": str(launch.models_dir),
        "torch_dtype": launch.torch_dtype,
        "torch_threads": launch.torch_threads,
        "default_max_tokens": launch.default_max_tokens,
        "workload": launch.workload,
        "adapter_root": None if launch.adapter_root is None else str(launch.adapter_root),
        "plugins": list(launch.plugins),
        "shutdown_grace_s": launch.shutdown_grace_s,
        "log_level": launch.log_level,
        "name": launch.name,
        "host_secret": secret,
    }
    return json.dumps(data).encode() + b"\n"


def decode_launch(line: bytes) -> tuple[HostLaunch, str]:
    """The launch and the host's secret, from the line :func:`encode_launch` wrote."""
    data = json.loads(line)
    spec = ModelSpec(**data["spec"])
    root = data.get("adapter_root")
    launch = HostLaunch(
        spec=spec,
        models_dir=Path(data["models_dir"]),
        torch_dtype=data["torch_dtype"],
        torch_threads=data["torch_threads"],
        default_max_tokens=data["default_max_tokens"],
        workload=data["workload"],
        adapter_root=None if root is None else Path(root),
        plugins=tuple(data["plugins"]),
        shutdown_grace_s=float(data["shutdown_grace_s"]),
        log_level=data["log_level"],
        name=data["name"],
    )
    secret = data["host_secret"]
    if not isinstance(secret, str) or len(secret) < 16:
        raise ValueError("the host secret is missing or too short")
    return launch, secret
