"""Wire models for the catalog: registration bodies and the model card."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

__all__ = ["CardIn", "LocalModelIn", "ModelCard", "ModelObject", "RemoteModelIn"]

ModelId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$")]
Task = Literal["chat", "embedding"]


class CardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: ModelId
    task: Task = "chat"
    provider: str | None = Field(default=None, max_length=80)
    licence: str = Field(default="unknown", max_length=80)
    context_length: int | None = Field(default=None, ge=1)
    price_input_per_1k: float = Field(default=0.0, ge=0)
    price_output_per_1k: float = Field(default=0.0, ge=0)
    tags: list[Annotated[str, Field(max_length=40)]] = Field(default_factory=list, max_length=20)
    description: str = Field(default="", max_length=2000)


class LocalModelIn(CardIn):
    kind: Literal["local"] = "local"
    path: str = Field(min_length=1, max_length=4096)
    prompt_format: Literal["default", "chat_template"] = "default"


class RemoteModelIn(CardIn):
    kind: Literal["remote"] = "remote"
    base_url: HttpUrl
    upstream_model: str = Field(min_length=1, max_length=200)
    api_key: str | None = Field(default=None, max_length=4096)
    timeout_s: float | None = Field(default=None, gt=0, le=600)


class ModelCard(BaseModel):
    provider: str
    task: str
    backend: str
    parameters: int | None
    context_length: int | None
    licence: str
    price_input_per_1k: float
    price_output_per_1k: float
    tags: list[str]
    status: str
    description: str
    owner: Literal["platform", "tenant"]


class ModelObject(BaseModel):
    """OpenAI's model object, with our card alongside (the SDK keeps extra fields)."""

    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str
    card: ModelCard
