"""`modelyard usage`: requests, tokens and cost per day / model / key, as a table or CSV."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from modelyard.cli.client import ApiClient, console
from modelyard.config import Settings

__all__ = ["usage"]


def _client(api_key: str | None) -> ApiClient:
    return ApiClient(Settings(), api_key=api_key)


def usage(
    by: str = typer.Option("day", "--by", help="Group by any of day,model,key,endpoint."),
    start: str | None = typer.Option(None, "--start", help="YYYY-MM-DD (default: start of this month)."),
    end: str | None = typer.Option(None, "--end", help="YYYY-MM-DD, included (default: today)."),
    tenant: str | None = typer.Option(None, "--tenant", help="Another tenant (admin key)."),
    csv_file: Path | None = typer.Option(None, "--csv", help="Write the report as CSV to this file."),
    api_key: str | None = typer.Option(
        None, "--api-key", help="Default: MODELYARD_API_KEY or <home>/admin.key."
    ),
) -> None:
    """Your tenant's usage; days are UTC."""
    params = {"group_by": by, "start": start, "end": end, "tenant": tenant}
    params = {name: value for name, value in params.items() if value is not None}
    client = _client(api_key)
    if csv_file is not None:
        csv_file.write_text(client.request_text("GET", "/v1/usage", params={**params, "format": "csv"}))
        typer.echo(f"Wrote {csv_file}.")
        return
    report = client.request("GET", "/v1/usage", params=params)
    groups = report["group_by"]
    table = Table(*groups, "requests", "prompt tokens", "completion tokens", "cost")
    for row in report["data"]:
        table.add_row(
            *(str(row[g]) for g in groups),
            str(row["requests"]),
            str(row["prompt_tokens"]),
            str(row["completion_tokens"]),
            f"{row['cost']:.6g}",
        )
    totals = report["totals"]
    table.add_row(
        "total",
        *([""] * (len(groups) - 1)),
        str(totals["requests"]),
        str(totals["prompt_tokens"]),
        str(totals["completion_tokens"]),
        f"{totals['cost']:.6g}",
    )
    typer.echo(f"Usage of {report['tenant']} from {report['start']} to {report['end']}:")
    console().print(table)
