"""Wire models for the catalog: registration bodies and the model card."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AnyUrl, BaseModel, ConfigDict, Field

__all__ = ["CardIn", "Lineage", "LocalModelIn", "ModelCard", "ModelKind", "ModelObject", "RemoteModelIn"]

ModelId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$")]
Task = Literal["chat", "embedding"]
_MAX_INT32 = 2**31 - 1
_MAX_PRICE = 1_000_000.0


class CardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: ModelId
    task: Task = "chat"
    provider: str | None = Field(default=None, max_length=80)
    licence: str = Field(default="unknown", max_length=80)
    # Bounded so every database's integer column holds it (found by the fuzzer).
    context_length: int | None = Field(default=None, ge=1, le=_MAX_INT32)
    # Finite and bounded: an infinite price would make every cost unprintable as JSON.
    price_input_per_1k: float = Field(default=0.0, ge=0, le=_MAX_PRICE)
    price_output_per_1k: float = Field(default=0.0, ge=0, le=_MAX_PRICE)
    # What fine-tuning on this model costs per 1K trained tokens (tokens x epochs).
    price_training_per_1k: float = Field(default=0.0, ge=0, le=_MAX_PRICE)
    tags: list[Annotated[str, Field(max_length=40)]] = Field(default_factory=list, max_length=20)
    description: str = Field(default="", max_length=2000)


class LocalModelIn(CardIn):
    kind: Literal["local"] = "local"
    path: str = Field(min_length=1, max_length=4096)
    prompt_format: Literal["default", "chat_template"] = "default"


class RemoteModelIn(CardIn):
    kind: Literal["remote"] = "remote"
    # Any scheme parses here so that the outbound guard refuses the wrong ones in one voice.
    base_url: AnyUrl
    upstream_model: str = Field(min_length=1, max_length=200)
    api_key: str | None = Field(default=None, max_length=4096)
    timeout_s: float | None = Field(default=None, gt=0, le=600)


# What a chat model does with a prompt: a base model continues text; an instruction-tuned
# one answers it. Decided in ``catalog.kinds``.
ModelKind = Literal["base", "instruct", "embedding"]


class Lineage(BaseModel):
    """Where a fine-tuned model came from; shown only to its own tenant (and admins)."""

    base_model: str | None = None
    job: str | None = None
    training_file: str | None = None
    validation_file: str | None = None
    # Evaluations of the owning tenant that compared this model, newest first.
    evaluations: list[str] = Field(default_factory=list)


class ModelCard(BaseModel):
    provider: str
    task: str
    backend: str
    parameters: int | None
    context_length: int | None
    licence: str
    price_input_per_1k: float
    price_output_per_1k: float
    price_training_per_1k: float
    tags: list[str]
    # Runtime readiness in this server: importing, loading, ready or failed.
    status: str
    # While importing: the step ("queued", "assembling", "converting", "saving") and the
    # fraction done; when failed: why, in words for the caller.
    phase: str | None = None
    progress: float | None = None
    reason: str | None = None
    description: str
    owner: Literal["platform", "tenant"]
    kind: ModelKind = "base"
    lineage: Lineage | None = None


class ModelObject(BaseModel):
    """OpenAI's model object, with our card alongside (the SDK keeps extra fields)."""

    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str
    card: ModelCard
