"""`modelyard demo finetune`: the on-stage story, end to end, against a running server."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from modelyard.cli.client import ApiClient, console, fail
from modelyard.cli.evals import follow_evaluation, print_summary
from modelyard.cli.finetune import follow_job
from modelyard.config import Settings
from modelyard.demo.sales_charts import ChartExample, generate, to_chat

__all__ = ["demo_app"]

demo_app = typer.Typer(help="Guided demos against a running server.", no_args_is_help=True)


def _evaluate(client: ApiClient, file_id: str, models: list[str], name: str) -> dict[str, Any]:
    """Run an evaluation on the platform and return its report."""
    body = {
        "name": name,
        "file": file_id,
        "models": models,
        "metrics": [{"name": "exact_match"}, {"name": "json_match"}],
        "generation": {"temperature": 0, "max_tokens": 48},
    }
    evaluation = client.request("POST", "/v1/evaluations", json=body)
    evaluation = follow_evaluation(client, evaluation["id"])
    if evaluation["status"] != "succeeded":
        raise fail(f"evaluation {evaluation['id']} {evaluation['status']}")
    return client.request("GET", f"/v1/evaluations/{evaluation['id']}/report")


def _exact_match(report: dict[str, Any], model: str) -> float:
    entry = next(m for m in report["models"] if m["id"] == model)
    return float(entry["metrics"]["exact_match"]["mean"] or 0.0)


def _upload(client: ApiClient, examples: list[ChartExample], folder: Path, purpose: str) -> str:
    path = folder / f"sales-charts.{purpose}.jsonl"
    path.write_text("".join(json.dumps(to_chat(e), ensure_ascii=False) + "\n" for e in examples))
    with path.open("rb") as handle:
        uploaded = client.request(
            "POST", "/v1/files", files={"file": (path.name, handle)}, data={"purpose": purpose}
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
    report_out: Path | None = typer.Option(
        Path("demo-report.html"), "--report-out", help="Save the evaluation report (HTML) here."
    ),
    api_key: str | None = typer.Option(None, "--api-key"),
) -> None:
    """Sales question -> JSON chart spec: base accuracy, fine-tune, tuned accuracy, time, report."""
    client = ApiClient(Settings(), api_key=api_key, timeout=1800)
    started = time.perf_counter()
    train, test = generate(n_train, n_test, seed=seed)
    console().print(f"Task: {test[0].question}  ->  {test[0].answer}")
    with tempfile.TemporaryDirectory() as folder:
        held_out = _upload(client, test, Path(folder), "evals")
        training = _upload(client, train, Path(folder), "fine-tune")
    base_acc = _exact_match(_evaluate(client, held_out, [model], "demo: base model"), model)
    console().print(f"Base model exact match on {n_test} held-out questions: {base_acc:.0%}")
    phase = time.perf_counter()
    body: dict[str, Any] = {"model": model, "training_file": training, "suffix": "sales-charts", "seed": seed}
    if epochs:
        body["hyperparameters"] = {"n_epochs": epochs}
    job = follow_job(client, client.request("POST", "/v1/fine_tuning/jobs", json=body)["id"])
    if job["status"] != "succeeded":
        raise typer.Exit(code=1)
    train_s = time.perf_counter() - phase
    tuned = job["fine_tuned_model"]
    comparison = _evaluate(client, held_out, [model, tuned], "demo: base vs fine-tuned")
    figures = {
        "base_model": model,
        "fine_tuned_model": tuned,
        "train_examples": n_train,
        "held_out": n_test,
        "base_exact_match": base_acc,
        "fine_tuned_exact_match": _exact_match(comparison, tuned),
        "fine_tune_wall_s": round(train_s, 1),
        "total_wall_s": round(time.perf_counter() - started, 1),
        "trained_tokens": job["trained_tokens"],
        "evaluation": comparison["eval"]["id"],
    }
    print_summary(comparison)
    _report(figures)
    if report_out:
        report_out.write_text(
            client.request_text(
                "GET", f"/v1/evaluations/{figures['evaluation']}/report", params={"format": "html"}
            ),
            encoding="utf-8",
        )
        console().print(f"Evaluation report: {report_out}")
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
