"""One Settings object; the only module that reads the environment."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "apply_offline_environment", "cpu_isa_overrides"]

# PyTorch's and oneDNN's own switches for the instruction set they use: they change which
# number format is faster, so a measured choice is only valid under the same values.
_ISA_VARIABLES = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA")


def apply_offline_environment() -> None:
    """There is no model hub to reach: tell the Hugging Face libraries before they import.

    huggingface_hub reads these once, at its first import, so this runs at process start.
    """
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def cpu_isa_overrides() -> dict[str, str]:
    """The instruction-set limits this process runs under (set by the operator, not us)."""
    import os

    return {name: os.environ[name] for name in _ISA_VARIABLES if os.environ.get(name)}


class Settings(BaseSettings):
    """Every knob of a modelyard process. Environment prefix: ``MODELYARD_``."""

    model_config = SettingsConfigDict(env_prefix="MODELYARD_", extra="ignore")

    home: Path = Field(default_factory=lambda: Path.home() / ".modelyard")
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8600

    # Where imported/converted model weights live; defaults to <home>/models.
    models_dir: Path | None = None
    # Encrypts provider API keys at rest; generated into <home>/secret.key when unset.
    secret_key: str | None = None
    # Keys the audit log's hash chain (HMAC), so that editing the database is not enough to
    # rewrite it; generated into <home>/audit.key (mode 600) when unset. Every process that
    # writes or verifies one database's log needs the same key.
    audit_key: str | None = Field(default=None, min_length=16)
    # Built-in models are registered on start-up; import happens on first use.
    builtin_models: bool = True
    # Number format of local transformers models: "auto" measures this machine once (per
    # CPU model and torch version, cached in <home>/hardware) and picks the faster of
    # float32 and bfloat16; bf16 is 86x slower than fp32 where the CPU lacks native bf16.
    torch_dtype: str = "auto"
    # Threads for torch work (serving, training, evaluation); default: the cores this
    # process may run on (os.sched_getaffinity).
    torch_threads: int | None = Field(default=None, ge=1)
    # Where the measured number-format choice is cached; defaults to <home>/hardware.
    hardware_dir: Path | None = None
    # Niceness of the job worker process: training yields the CPU to the gateway's requests.
    worker_nice: int = Field(default=10, ge=0, le=19)
    # Local models whose weights stay in memory at once (a base and its LoRA adapters count
    # once; remote providers not at all). Over it, the least recently used weights go.
    max_loaded_models: int = Field(default=4, ge=1)
    # How long an API call waits for a model that is importing or loading before it gets
    # 503 with Retry-After and what the model is doing (jobs wait as long as it takes).
    model_ready_wait_s: float = Field(default=10.0, ge=0, le=600)

    upstream_timeout_s: float = 60.0
    upstream_connect_timeout_s: float = 5.0
    max_request_tokens: int = 4096
    usage_flush_interval_s: float = 0.2
    audit_flush_interval_s: float = 0.2
    key_cache_ttl_s: float = 5.0

    # Quotas: limits are looked up at most once per TTL per key (PUT clears the cache in
    # this process; other processes see a change within the TTL).
    quota_cache_ttl_s: float = 2.0
    # Shared rate limits across gateway processes; the in-process limiter when unset.
    redis_url: str | None = None
    redis_key_prefix: str = "modelyard:"
    # "memory" or "redis"; by default "redis" exactly when redis_url is set.
    rate_limiter: str | None = None

    # Any other request body (a chat, a registration): refused with 413 above this, before
    # it is parsed. Uploads to /v1/files have max_upload_bytes instead.
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    # Uploaded files (fine-tuning / evaluation data).
    max_upload_bytes: int = 50 * 1024 * 1024
    max_file_lines: int = 100_000

    # Fine-tuning jobs: the worker holds a job under a lease it renews; a crashed
    # worker's job is picked up again once the lease runs out.
    job_lease_s: float = 30.0
    worker_poll_s: float = 1.0
    checkpoint_every_steps: int = 10
    # A job keeps its newest checkpoints only (gemma r=16: ~44 MB each); the newest is what a
    # resume needs, and the published adapter is stored apart from them.
    keep_checkpoints: int = Field(default=3, ge=1)
    # Training precision: "auto" picks the format measured faster for training on this
    # machine (see torch_dtype). A job keeps the dtype it started with across resumes.
    train_dtype: str = "auto"

    # Used by the CLI to reach a running server.
    base_url: str | None = None
    api_key: str | None = None

    @field_validator("torch_dtype", "train_dtype", mode="after")
    @classmethod
    def _number_format(cls, value: str) -> str:
        if value not in ("auto", "float32", "bfloat16"):
            raise ValueError("must be auto, float32 or bfloat16")
        return value

    @field_validator("home", "models_dir", "hardware_dir", mode="after")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'modelyard.db'}"

    @property
    def resolved_rate_limiter(self) -> str:
        return self.rate_limiter or ("redis" if self.redis_url else "memory")

    @property
    def resolved_models_dir(self) -> Path:
        return self.models_dir or self.home / "models"

    @property
    def resolved_base_url(self) -> str:
        return self.base_url or f"http://{self.host}:{self.port}"

    @property
    def resolved_hardware_dir(self) -> Path:
        return self.hardware_dir or self.home / "hardware"

    @property
    def files_dir(self) -> Path:
        return self.home / "files"

    @property
    def jobs_dir(self) -> Path:
        return self.home / "jobs"

    @property
    def admin_key_file(self) -> Path:
        return self.home / "admin.key"

    @property
    def secret_key_file(self) -> Path:
        return self.home / "secret.key"

    @property
    def audit_key_file(self) -> Path:
        return self.home / "audit.key"
