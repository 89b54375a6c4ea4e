"""`modelyard demo finetune`: the on-stage story, end to end, against a running server."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import typer
from rich.progress import Progress
from rich.table import Table

from modelyard.cli.client import ApiClient, console
from modelyard.cli.finetune import follow_job
from modelyard.config import Settings
from modelyard.demo.sales_charts import ChartExample, answer_matches, generate, to_chat

__all__ = ["demo_app"]

demo_app = typer.Typer(help="Guided demos against a running server.", no_args_is_help=True)


def _accuracy(
    client: ApiClient, model: str, examples: list[ChartExample], label: str
) -> tuple[float, list[str]]:
    outputs: list[str] = []
    with Progress(console=console()) as progress:
        task = progress.add_task(f"{label}: {model}", total=len(examples))
        for example in examples:
            body = {**to_chat(example, with_answer=False), "model": model, "temperature": 0, "max_tokens": 48}
            reply = client.request("POST", "/v1/chat/completions", json=body)
            outputs.append(reply["choices"][0]["message"]["content"])
            progress.advance(task)
    hits = sum(answer_matches(o, e.answer) for o, e in zip(outputs, examples, strict=True))
    return hits / len(examples), outputs


def _upload(client: ApiClient, examples: list[ChartExample], folder: Path) -> str:
    path = folder / "sales-charts.train.jsonl"
    path.write_text("".join(json.dumps(to_chat(e), ensure_ascii=False) + "\n" for e in examples))
    with path.open("rb") as handle:
        uploaded = client.request(
            "POST", "/v1/files", files={"file": (path.name, handle)}, data={"purpose": "fine-tune"}
        )
    return uploaded["id"]


@demo_app.command("finetune")
def finetune(
    model: str = typer.Option("gemma-3-270m", "--model", help="The base model to tune."),
    n_train: int = typer.Option(100, "--train", help="Training examples."),
    n_test: int = typer.Option(40, "--test", help="Held-out examples."),
    seed: int = typer.Option(2019, "--seed"),
    epochs: int | None = typer.Option(None, "--epochs", help="Default: the platform's 'auto'."),
    out: Path | None = typer.Option(None, "--out", help="Write the figures as JSON here."),
    api_key: str | None = typer.Option(None, "--api-key"),
) -> None:
    """Sales question -> JSON chart spec: base accuracy, fine-tune, tuned accuracy, time taken."""
    client = ApiClient(Settings(), api_key=api_key, timeout=1800)
    started = time.perf_counter()
    train, test = generate(n_train, n_test, seed=seed)
    console().print(f"Task: {test[0].question}  ->  {test[0].answer}")
    base_acc, _ = _accuracy(client, model, test, "base model")
    phase = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        file_id = _upload(client, train, Path(folder))
    body: dict[str, Any] = {"model": model, "training_file": file_id, "suffix": "sales-charts", "seed": seed}
    if epochs:
        body["hyperparameters"] = {"n_epochs": epochs}
    job = client.request("POST", "/v1/fine_tuning/jobs", json=body)
    job = follow_job(client, job["id"])
    if job["status"] != "succeeded":
        raise typer.Exit(code=1)
    train_s = time.perf_counter() - phase
    tuned_acc, outputs = _accuracy(client, job["fine_tuned_model"], test, "fine-tuned")
    figures = {
        "base_model": model,
        "fine_tuned_model": job["fine_tuned_model"],
        "train_examples": n_train,
        "held_out": n_test,
        "base_exact_match": base_acc,
        "fine_tuned_exact_match": tuned_acc,
        "fine_tune_wall_s": round(train_s, 1),
        "total_wall_s": round(time.perf_counter() - started, 1),
        "trained_tokens": job["trained_tokens"],
        "sample_output": outputs[0],
    }
    _report(figures)
    if out:
        out.write_text(json.dumps(figures, ensure_ascii=False, indent=2))


def _report(figures: dict[str, Any]) -> None:
    table = Table("", "value")
    table.add_row("base exact match", f"{figures['base_exact_match']:.0%}")
    table.add_row("fine-tuned exact match", f"{figures['fine_tuned_exact_match']:.0%}")
    table.add_row("upload + fine-tune", f"{figures['fine_tune_wall_s']:.0f} s")
    table.add_row("whole demo", f"{figures['total_wall_s']:.0f} s")
    table.add_row("fine-tuned model", figures["fine_tuned_model"])
    console().print(table)
