"""`modelyard finetune ...`: create, follow and steer fine-tuning jobs."""

from __future__ import annotations

import time
from typing import Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from modelyard.cli.client import ApiClient, console
from modelyard.config import Settings

__all__ = ["finetune_app", "follow_job"]

finetune_app = typer.Typer(help="Fine-tune a base model on your labelled data.", no_args_is_help=True)
ApiKeyOpt = typer.Option(None, "--api-key", help="Default: MODELYARD_API_KEY or <home>/admin.key.")
TERMINAL = {"succeeded", "failed", "cancelled"}


def _client(api_key: str | None) -> ApiClient:
    return ApiClient(Settings(), api_key=api_key)


def _auto(value: Any) -> Any:
    return "auto" if value is None else value


def _job_body(
    model: str, training_file: str, validation_file: str | None, hyperparameters: dict[str, Any]
) -> dict[str, Any]:
    return {
        "model": model,
        "training_file": training_file,
        "validation_file": validation_file,
        "hyperparameters": {key: _auto(value) for key, value in hyperparameters.items()},
    }


@finetune_app.command("estimate")
def estimate(
    model: str = typer.Option(..., "--model", help="Base model, e.g. gemma-3-270m."),
    training_file: str = typer.Option(..., "--training-file"),
    epochs: int | None = typer.Option(None, "--epochs"),
    api_key: str | None = ApiKeyOpt,
) -> None:
    """Before starting: tokens to train, time on this machine and cost of such a job."""
    body = _job_body(model, training_file, None, {"n_epochs": epochs})
    got = _client(api_key).request("POST", "/v1/fine_tuning/estimates", json=body)
    typer.echo(
        f"{got['examples']} examples x {got['epochs']} epochs: {got['trained_tokens']:,} tokens to train"
    )
    if got["seconds"] is None:
        typer.echo(
            "Time: unknown (no job has trained on this base here yet, and the machine is not measured)."
        )
    else:
        typer.echo(
            f"Time: about {_duration(got['seconds'])} at {got['tokens_per_s']:.0f} tokens/s ({got['basis']})"
        )
    typer.echo(f"Cost: ${got['cost']:.4f} at ${got['price_training_per_1k']}/1K trained tokens")


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


@finetune_app.command("create")
def create(
    model: str = typer.Option(..., "--model", help="Base model, e.g. gemma-3-270m."),
    training_file: str = typer.Option(..., "--training-file"),
    validation_file: str | None = typer.Option(None, "--validation-file"),
    suffix: str | None = typer.Option(None, "--suffix"),
    seed: int | None = typer.Option(None, "--seed"),
    epochs: int | None = typer.Option(None, "--epochs"),
    batch_size: int | None = typer.Option(None, "--batch-size"),
    lr_multiplier: float | None = typer.Option(None, "--lr-multiplier"),
    lora_r: int | None = typer.Option(None, "--lora-r"),
    lora_alpha: float | None = typer.Option(None, "--lora-alpha"),
    max_seq_length: int | None = typer.Option(None, "--max-seq-length"),
    follow: bool = typer.Option(True, "--follow/--no-follow", help="Show progress until the job ends."),
    api_key: str | None = ApiKeyOpt,
) -> None:
    """Start a fine-tuning job; prints its id (last line when --no-follow)."""
    lora = {"r": lora_r, "alpha": lora_alpha, "max_seq_length": max_seq_length}
    hyperparameters = {
        "n_epochs": epochs,
        "batch_size": batch_size,
        "learning_rate_multiplier": lr_multiplier,
    }
    body = _job_body(model, training_file, validation_file, hyperparameters) | {
        "suffix": suffix,
        "seed": seed,
        "method": {"type": "supervised", "lora": {k: v for k, v in lora.items() if v is not None}},
    }
    client = _client(api_key)
    job = client.request("POST", "/v1/fine_tuning/jobs", json=body)
    typer.echo(f"Created job {job['id']} ({job['status']}).")
    if follow:
        job = follow_job(client, job["id"])
        _print_outcome(job)
    typer.echo(job["id"])


def _print_outcome(job: dict[str, Any]) -> None:
    if job["status"] == "succeeded":
        typer.echo(f"Fine-tuned model: {job['fine_tuned_model']} ({job['trained_tokens']} tokens trained)")
    elif job["status"] == "failed":
        typer.secho(f"Job failed: {(job.get('error') or {}).get('message')}", fg=typer.colors.RED, err=True)
    else:
        typer.echo(f"Job {job['status']}.")


def _latest_metrics(client: ApiClient, job_id: str) -> dict[str, Any]:
    events = client.request("GET", f"/v1/fine_tuning/jobs/{job_id}/events", params={"limit": 20})["data"]
    for event in events:
        if event.get("type") == "metrics" and (event.get("data") or {}).get("total_steps"):
            return event["data"]
    return {}


def follow_job(client: ApiClient, job_id: str, *, poll_s: float = 1.0) -> dict[str, Any]:
    """Poll a job with a progress bar showing step, loss and ETA until it ends."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TextColumn("{task.fields[loss]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console(), transient=False) as progress:
        task = progress.add_task("validating", total=None, loss="")
        while True:
            job = client.request("GET", f"/v1/fine_tuning/jobs/{job_id}")
            metrics = _latest_metrics(client, job_id)
            loss = metrics.get("val_loss") or metrics.get("train_loss")
            progress.update(
                task,
                # While it runs, the phase says more than "running" (loading the base, tokenizing...).
                description=job.get("phase") or job["status"],
                total=metrics.get("total_steps"),
                completed=metrics.get("step", 0),
                loss=f"loss {float(loss):.4f}" if loss is not None else "",
            )
            if job["status"] in TERMINAL:
                return job
            time.sleep(poll_s)


@finetune_app.command("list")
def list_jobs(api_key: str | None = ApiKeyOpt) -> None:
    data = _client(api_key).request("GET", "/v1/fine_tuning/jobs", params={"limit": 100})["data"]
    table = Table("id", "model", "status", "fine-tuned model", "tokens")
    for job in data:
        phase = job.get("phase")
        table.add_row(
            job["id"],
            job["model"],
            f"{job['status']} ({phase})" if phase and phase != job["status"] else job["status"],
            job["fine_tuned_model"] or "",
            str(job["trained_tokens"] or ""),
        )
    console().print(table)


@finetune_app.command("show")
def show(job_id: str, api_key: str | None = ApiKeyOpt) -> None:
    console().print_json(data=_client(api_key).request("GET", f"/v1/fine_tuning/jobs/{job_id}"))


@finetune_app.command("events")
def events(
    job_id: str, follow: bool = typer.Option(False, "--follow"), api_key: str | None = ApiKeyOpt
) -> None:
    """Print a job's events, oldest first; --follow shows the progress bar after."""
    client = _client(api_key)
    data = client.request("GET", f"/v1/fine_tuning/jobs/{job_id}/events", params={"limit": 100})["data"]
    for event in reversed(data):
        typer.echo(f"{time.strftime('%H:%M:%S', time.localtime(event['created_at']))}  {event['message']}")
    if follow:
        _print_outcome(follow_job(client, job_id))


@finetune_app.command("checkpoints")
def checkpoints(job_id: str, api_key: str | None = ApiKeyOpt) -> None:
    data = _client(api_key).request("GET", f"/v1/fine_tuning/jobs/{job_id}/checkpoints")["data"]
    table = Table("id", "step", "metrics")
    for checkpoint in data:
        table.add_row(checkpoint["id"], str(checkpoint["step_number"]), str(checkpoint["metrics"]))
    console().print(table)


def _steer(action: str, job_id: str, api_key: str | None) -> None:
    job = _client(api_key).request("POST", f"/v1/fine_tuning/jobs/{job_id}/{action}")
    typer.echo(f"Job {job['id']} is {job['status']}.")


@finetune_app.command("cancel")
def cancel(job_id: str, api_key: str | None = ApiKeyOpt) -> None:
    _steer("cancel", job_id, api_key)


@finetune_app.command("pause")
def pause(job_id: str, api_key: str | None = ApiKeyOpt) -> None:
    _steer("pause", job_id, api_key)


@finetune_app.command("resume")
def resume(job_id: str, api_key: str | None = ApiKeyOpt) -> None:
    _steer("resume", job_id, api_key)
