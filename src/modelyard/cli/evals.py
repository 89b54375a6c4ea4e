"""`modelyard eval ...`: evaluate models on your own data and get a report that recommends one."""

from __future__ import annotations

import json
import time
import webbrowser
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from modelyard.cli.client import ApiClient, console, fail
from modelyard.config import Settings

__all__ = ["eval_app", "follow_evaluation", "print_summary"]

eval_app = typer.Typer(help="Evaluate models side by side on your data.", no_args_is_help=True)
ApiKeyOpt = typer.Option(None, "--api-key", help="Default: MODELYARD_API_KEY or <home>/admin.key.")
TERMINAL = {"succeeded", "failed", "cancelled"}


def _client(api_key: str | None) -> ApiClient:
    return ApiClient(Settings(), api_key=api_key, timeout=1800)


def _metric_specs(names: str, judge_model: str | None, extra: list[str] | None) -> list[dict[str, Any]]:
    specs: list[dict[str, Any]] = [{"name": n.strip()} for n in names.split(",") if n.strip()]
    if judge_model:
        specs = [s for s in specs if s["name"] != "judge"] + [{"name": "judge", "model": judge_model}]
    for raw in extra or []:
        try:
            specs.append(json.loads(raw))
        except ValueError as exc:
            raise fail(f"--metric-json is not JSON: {raw}") from exc
    return specs


def upload_for_eval(client: ApiClient, path: Path) -> str:
    with path.open("rb") as handle:
        uploaded = client.request(
            "POST", "/v1/files", files={"file": (path.name, handle)}, data={"purpose": "evals"}
        )
    return uploaded["id"]


@eval_app.command("run")
def run(
    data: Path = typer.Option(
        ..., "--data", exists=True, dir_okay=False, help="JSONL or CSV with reference answers."
    ),
    models: str = typer.Option(..., "--models", help="Comma-separated model ids."),
    metrics: str = typer.Option("exact_match", "--metrics", help="Comma-separated metric names."),
    judge_model: str | None = typer.Option(
        None, "--judge-model", help="Add a judge metric graded by this model."
    ),
    metric_json: list[str] | None = typer.Option(
        None, "--metric-json", help='e.g. \'{"name":"regex","pattern":"^\\\\d+$"}\''
    ),
    max_tokens: int = typer.Option(256, "--max-tokens"),
    temperature: float = typer.Option(0.0, "--temperature"),
    tolerance: float = typer.Option(2.0, "--tolerance", help="Points below the best still 'as good'."),
    name: str = typer.Option("", "--name"),
    out: Path | None = typer.Option(None, "--out", help="Save the HTML report here."),
    follow: bool = typer.Option(True, "--follow/--no-follow"),
    api_key: str | None = ApiKeyOpt,
) -> None:
    """Upload DATA, evaluate MODELS with METRICS, and print the recommendation."""
    client = _client(api_key)
    body = {
        "name": name,
        "file": upload_for_eval(client, data),
        "models": [m.strip() for m in models.split(",") if m.strip()],
        "metrics": _metric_specs(metrics, judge_model, metric_json),
        "generation": {"max_tokens": max_tokens, "temperature": temperature},
        "tolerance_points": tolerance,
    }
    evaluation = client.request("POST", "/v1/evaluations", json=body)
    typer.echo(f"Created evaluation {evaluation['id']}.")
    if follow:
        evaluation = follow_evaluation(client, evaluation["id"])
        if evaluation["status"] == "succeeded":
            print_summary(client.request("GET", f"/v1/evaluations/{evaluation['id']}/report"))
            if out:
                _save_html(client, evaluation["id"], out)
        else:
            typer.secho(
                f"Evaluation {evaluation['status']}: {(evaluation.get('error') or {}).get('message', '')}",
                fg=typer.colors.RED,
                err=True,
            )
    typer.echo(evaluation["id"])


def follow_evaluation(client: ApiClient, evaluation_id: str, *, poll_s: float = 1.0) -> dict[str, Any]:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} answers"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console()) as progress:
        task = progress.add_task("queued", total=None)
        while True:
            evaluation = client.request("GET", f"/v1/evaluations/{evaluation_id}")
            done = evaluation["progress"].get("done", 0)
            progress.update(
                task,
                description=evaluation["status"],
                completed=done,
                total=evaluation["progress"].get("total"),
            )
            if evaluation["status"] in TERMINAL:
                return evaluation
            time.sleep(poll_s)


def print_summary(report: dict[str, Any]) -> None:
    """The per-model table and the recommendation, from the report JSON."""
    models = report.get("models", [])
    metric_names = [m["name"] for m in report.get("metrics", [])]
    table = Table("model", *metric_names, "p50 ms", "cost/item", "failures")
    for entry in models:
        cells = [_pct(entry["metrics"].get(name, {}).get("mean")) for name in metric_names]
        latency = entry.get("latency", {}).get("p50_ms")
        table.add_row(
            entry["id"],
            *cells,
            f"{latency:.0f}" if latency is not None else "-",
            f"{entry.get('cost', {}).get('per_item') or 0:.6f}",
            str(entry.get("failures", {}).get("count", 0)),
        )
    console().print(table)
    for key, label in (
        ("best_quality", "Best quality"),
        ("cheapest_within_tolerance", "Cheapest within tolerance"),
        ("fastest", "Fastest"),
    ):
        choice = (report.get("recommendation") or {}).get(key)
        if choice:
            console().print(f"{label}: [bold]{choice.get('model')}[/bold] — {choice.get('reason')}")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _save_html(client: ApiClient, evaluation_id: str, out: Path) -> None:
    html = client.request_text("GET", f"/v1/evaluations/{evaluation_id}/report", params={"format": "html"})
    out.write_text(html, encoding="utf-8")
    typer.echo(f"Report saved to {out}")


@eval_app.command("report")
def report(
    evaluation_id: str,
    out: Path | None = typer.Option(None, "--out", help="Save the HTML report here."),
    open_browser: bool = typer.Option(False, "--open", help="Open the HTML report in a browser."),
    as_json: bool = typer.Option(False, "--json", help="Print the report JSON."),
    api_key: str | None = ApiKeyOpt,
) -> None:
    """Print the summary; save or open the standalone HTML report."""
    client = _client(api_key)
    built = client.request("GET", f"/v1/evaluations/{evaluation_id}/report")
    if as_json:
        console().print_json(data=built)
    else:
        print_summary(built)
    target = out or (Path(f"{evaluation_id}.html") if open_browser else None)
    if target:
        _save_html(client, evaluation_id, target)
        if open_browser:
            webbrowser.open(target.resolve().as_uri())


@eval_app.command("list")
def list_evaluations(api_key: str | None = ApiKeyOpt) -> None:
    data = _client(api_key).request("GET", "/v1/evaluations", params={"limit": 100})["data"]
    table = Table("id", "name", "status", "models", "progress")
    for entry in data:
        table.add_row(
            entry["id"],
            entry["name"],
            entry["status"],
            ", ".join(entry["models"]),
            f"{entry['progress'].get('done', 0)}/{entry['progress'].get('total', 0)}",
        )
    console().print(table)


@eval_app.command("cancel")
def cancel(evaluation_id: str, api_key: str | None = ApiKeyOpt) -> None:
    evaluation = _client(api_key).request("POST", f"/v1/evaluations/{evaluation_id}/cancel")
    typer.echo(f"Evaluation {evaluation['id']} is {evaluation['status']}.")


@eval_app.command("rate")
def rate(
    evaluation_id: str,
    item: int = typer.Option(..., "--item"),
    model_a: str = typer.Option(..., "--a"),
    model_b: str | None = typer.Option(None, "--b"),
    winner: str | None = typer.Option(None, "--winner", help="a, b or tie"),
    score: float | None = typer.Option(None, "--score", help="0-10, rating one answer"),
    api_key: str | None = ApiKeyOpt,
) -> None:
    """Record a person's A/B preference (or a score) on one item."""
    body = {"item": item, "model_a": model_a, "model_b": model_b, "winner": winner, "score": score}
    _client(api_key).request("POST", f"/v1/evaluations/{evaluation_id}/ratings", json=body)
    typer.echo("Rating recorded.")
