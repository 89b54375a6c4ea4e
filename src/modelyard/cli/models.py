"""`modelyard models ...`: the model plaza from the terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from modelyard.cli.client import ApiClient, console
from modelyard.config import Settings

__all__ = ["models_app"]

models_app = typer.Typer(help="List, inspect, register and import models.", no_args_is_help=True)
add_app = typer.Typer(help="Register a model (admin key).", no_args_is_help=True)
models_app.add_typer(add_app, name="add")
ApiKeyOpt = typer.Option(None, "--api-key", help="Default: MODELYARD_API_KEY or <home>/admin.key.")


def _card_options(
    task: str,
    provider: str | None,
    licence: str,
    context: int | None,
    price_in: float,
    price_out: float,
    tags: list[str] | None,
    description: str,
) -> dict[str, Any]:
    return {
        "task": task,
        "provider": provider,
        "licence": licence,
        "context_length": context,
        "price_input_per_1k": price_in,
        "price_output_per_1k": price_out,
        "tags": tags or [],
        "description": description,
    }


TaskOpt = typer.Option("chat", "--task", help="chat or embedding.")
ProviderOpt = typer.Option(None, "--provider")
LicenceOpt = typer.Option("unknown", "--licence")
ContextOpt = typer.Option(None, "--context-length")
PriceInOpt = typer.Option(0.0, "--price-in", help="Price per 1K input tokens.")
PriceOutOpt = typer.Option(0.0, "--price-out", help="Price per 1K output tokens.")
PriceTrainOpt = typer.Option(0.0, "--price-train", help="Price per 1K trained tokens (fine-tuning).")
TagOpt = typer.Option(None, "--tag", help="Repeat for several tags.")
DescriptionOpt = typer.Option("", "--description")


@add_app.command("local")
def add_local(
    name: str,
    path: Path = typer.Option(..., "--path", help="A local Hugging Face folder (safetensors)."),
    prompt_format: str = typer.Option("default", "--prompt-format", help="default or chat_template."),
    task: str = TaskOpt,
    provider: str | None = ProviderOpt,
    licence: str = LicenceOpt,
    context: int | None = ContextOpt,
    price_in: float = PriceInOpt,
    price_out: float = PriceOutOpt,
    price_train: float = PriceTrainOpt,
    tags: list[str] | None = TagOpt,
    description: str = DescriptionOpt,
    api_key: str | None = ApiKeyOpt,
) -> None:
    """Register a local folder of safetensors weights."""
    body = {
        "kind": "local",
        "id": name,
        "path": str(path.resolve()),
        "prompt_format": prompt_format,
        **_card_options(task, provider, licence, context, price_in, price_out, tags, description),
        "price_training_per_1k": price_train,
    }
    model = ApiClient(Settings(), api_key=api_key).request("POST", "/v1/models", json=body)
    typer.echo(f"Registered {model['id']} ({model['card']['parameters'] or '?'} parameters).")


@add_app.command("remote")
def add_remote(
    name: str,
    base_url: str = typer.Option(..., "--base-url", help="e.g. https://api.example.com/v1"),
    upstream_model: str = typer.Option(..., "--upstream-model", help="The model's name at the provider."),
    provider_key: str | None = typer.Option(
        None,
        "--provider-key",
        envvar="MODELYARD_PROVIDER_KEY",
        help="The provider's API key; prefer the env var so it stays out of shell history.",
    ),
    timeout: float | None = typer.Option(None, "--timeout"),
    task: str = TaskOpt,
    provider: str | None = ProviderOpt,
    licence: str = LicenceOpt,
    context: int | None = ContextOpt,
    price_in: float = PriceInOpt,
    price_out: float = PriceOutOpt,
    price_train: float = PriceTrainOpt,
    tags: list[str] | None = TagOpt,
    description: str = DescriptionOpt,
    api_key: str | None = ApiKeyOpt,
) -> None:
    """Register a remote OpenAI-compatible provider's model; its key is stored encrypted."""
    body = {
        "kind": "remote",
        "id": name,
        "base_url": base_url,
        "upstream_model": upstream_model,
        "api_key": provider_key,
        "timeout_s": timeout,
        **_card_options(task, provider, licence, context, price_in, price_out, tags, description),
        "price_training_per_1k": price_train,
    }
    model = ApiClient(Settings(), api_key=api_key).request("POST", "/v1/models", json=body)
    typer.echo(f"Registered {model['id']} -> {upstream_model} at {base_url}.")


@models_app.command("list")
def list_models(api_key: str | None = ApiKeyOpt) -> None:
    """Every model your key can use, with its card."""
    data = ApiClient(Settings(), api_key=api_key).request("GET", "/v1/models")["data"]
    table = Table("id", "task", "provider", "params", "context", "licence", "$/1K in", "$/1K out", "status")
    for model in data:
        card = model["card"]
        params = f"{card['parameters'] / 1e6:.0f}M" if card["parameters"] else "-"
        table.add_row(
            model["id"],
            card["task"],
            card["provider"],
            params,
            str(card["context_length"] or "-"),
            card["licence"],
            f"{card['price_input_per_1k']:g}",
            f"{card['price_output_per_1k']:g}",
            card["status"],
        )
    console().print(table)


@models_app.command("show")
def show_model(name: str, api_key: str | None = ApiKeyOpt) -> None:
    model = ApiClient(Settings(), api_key=api_key).request("GET", f"/v1/models/{name}")
    console().print_json(data=model)


@models_app.command("remove")
def remove_model(name: str, api_key: str | None = ApiKeyOpt) -> None:
    ApiClient(Settings(), api_key=api_key).request("DELETE", f"/v1/models/{name}")
    typer.echo(f"Removed {name}.")


@models_app.command("import")
def import_model(name: str = typer.Argument("gemma-3-270m")) -> None:
    """Convert a built-in model into <home>/models now (runs locally, shows progress)."""
    from modelyard.backends.transformers import ensure_builtin_model

    path = ensure_builtin_model(name, Settings().resolved_models_dir)
    typer.echo(f"{name} is ready in {path}.")
