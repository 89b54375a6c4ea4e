"""`modelyard files ...`: upload, inspect, validate and split datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from modelyard.cli.client import ApiClient, console, fail
from modelyard.config import Settings
from modelyard.datasets import estimate_tokens, validate
from modelyard.errors import InvalidRequest

__all__ = ["files_app"]

files_app = typer.Typer(help="Upload and check fine-tuning and evaluation data.", no_args_is_help=True)
ApiKeyOpt = typer.Option(None, "--api-key", help="Default: MODELYARD_API_KEY or <home>/admin.key.")
PurposeOpt = typer.Option("fine-tune", "--purpose", help="fine-tune or evals.")
SHOWN_PROBLEMS = 20


def _client(api_key: str | None) -> ApiClient:
    return ApiClient(Settings(), api_key=api_key)


def _print_problems(problems: list[dict[str, Any]], total: int | None = None) -> None:
    for problem in problems[:SHOWN_PROBLEMS]:
        typer.echo(f"  line {problem['line']}: {problem['message']} [{problem['code']}]")
    hidden = (total if total is not None else len(problems)) - SHOWN_PROBLEMS
    if hidden > 0:
        typer.echo(f"  ... and {hidden} more")


def _print_stats(stats: dict[str, Any]) -> None:
    estimated = " (estimated)" if stats.get("token_counts_estimated") else ""
    typer.echo(
        f"{stats.get('examples', 0)} examples; tokens per example min {stats.get('min_tokens', 0)}, "
        f"mean {stats.get('mean_tokens', 0)}, max {stats.get('max_tokens', 0)}{estimated}; "
        f"{stats.get('estimated_training_tokens', 0)} training tokens per epoch"
    )


@files_app.command("upload")
def upload(path: Path, purpose: str = PurposeOpt, api_key: str | None = ApiKeyOpt) -> None:
    """Upload a JSONL or CSV file; the file id is printed on the last line."""
    if not path.is_file():
        raise fail(f"no such file: {path}")
    with path.open("rb") as handle:
        created = _client(api_key).request(
            "POST", "/v1/files", files={"file": (path.name, handle)}, data={"purpose": purpose}
        )
    _print_stats(created["stats"])
    if created["problems"]:
        typer.echo(f"{len(created['problems'])} line(s) were dropped:")
        _print_problems(created["problems"], created["stats"].get("dropped"))
    typer.echo(created["id"])


@files_app.command("list")
def list_files(
    purpose: str | None = typer.Option(None, "--purpose"), api_key: str | None = ApiKeyOpt
) -> None:
    """Your tenant's files, newest first."""
    params = {"purpose": purpose} if purpose else {}
    data = _client(api_key).request("GET", "/v1/files", params=params)["data"]
    table = Table("id", "filename", "purpose", "format", "examples", "dropped", "bytes", "status")
    for item in data:
        dropped = item["stats"].get("dropped", len(item["problems"]))
        table.add_row(
            item["id"],
            item["filename"],
            item["purpose"],
            item["format"],
            str(item["examples"]),
            str(dropped),
            str(item["bytes"]),
            item["status"],
        )
    console().print(table)


@files_app.command("show")
def show(file_id: str, api_key: str | None = ApiKeyOpt) -> None:
    console().print_json(data=_client(api_key).request("GET", f"/v1/files/{file_id}"))


@files_app.command("delete")
def delete(file_id: str, api_key: str | None = ApiKeyOpt) -> None:
    _client(api_key).request("DELETE", f"/v1/files/{file_id}")
    typer.echo(f"Deleted {file_id}.")


@files_app.command("split")
def split(
    file_id: str,
    train: float = typer.Option(0.8, "--train"),
    validation: float = typer.Option(0.1, "--validation"),
    test: float = typer.Option(0.1, "--test"),
    seed: int = typer.Option(0, "--seed"),
    api_key: str | None = ApiKeyOpt,
) -> None:
    """Split a file into new train / validation / test files (same seed, same split)."""
    body = {"train": train, "validation": validation, "test": test, "seed": seed}
    parts = _client(api_key).request("POST", f"/v1/files/{file_id}/split", json=body)["data"]
    for part in parts:
        typer.echo(f"{part['id']}  {part['filename']}  {part['examples']} examples")


@files_app.command("validate")
def validate_command(
    path_or_id: str,
    purpose: str = PurposeOpt,
    model: str | None = typer.Option(None, "--model", help="Check lengths against this model."),
    api_key: str | None = ApiKeyOpt,
) -> None:
    """Check a local file (nothing is uploaded) or an uploaded file id; exit 1 if rejected."""
    path = Path(path_or_id)
    if path.is_file():
        _validate_local(path, purpose, model, api_key)
    else:
        _validate_remote(path_or_id, model, api_key)


def _validate_local(path: Path, purpose: str, model: str | None, api_key: str | None) -> None:
    context_length = _context_length(model, api_key) if model else None
    try:
        report = validate(
            path.read_bytes(),
            purpose=purpose,
            count_tokens=estimate_tokens if context_length else None,
            context_length=context_length,
            max_lines=Settings().max_file_lines,
        )
    except InvalidRequest as exc:
        raise fail(exc.message) from exc
    _print_report(report.as_dict())
    if context_length:
        typer.echo(f"lengths checked against {model}'s context of {context_length} tokens (estimated counts)")
    if report.rejected:
        raise fail("the file has no usable examples")


def _context_length(model: str, api_key: str | None) -> int | None:
    card = _client(api_key).request("GET", f"/v1/models/{model}")["card"]
    return card.get("context_length")


def _validate_remote(file_id: str, model: str | None, api_key: str | None) -> None:
    client = _client(api_key)
    if model:
        report = client.request("POST", f"/v1/files/{file_id}/validate", json={"model": model})
        _print_report(report)
        typer.echo(report["note"])
        if report["rejected"]:
            raise fail(f"{file_id} has no example usable with {model}")
        return
    stored = client.request("GET", f"/v1/files/{file_id}")
    _print_report({"format": stored["format"], "stats": stored["stats"], "problems": stored["problems"]})


def _print_report(report: dict[str, Any]) -> None:
    typer.echo(f"format: {report['format']}")
    _print_stats(report["stats"])
    if report["problems"]:
        typer.echo(f"{report['stats'].get('dropped', len(report['problems']))} line(s) with problems:")
        _print_problems(report["problems"], report["stats"].get("dropped"))
