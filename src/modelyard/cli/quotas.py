"""`modelyard quotas ...`: set and show quotas (admin), or show your own."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from modelyard.cli.client import ApiClient, console, fail
from modelyard.config import Settings

__all__ = ["quotas_app"]

quotas_app = typer.Typer(help="Quotas per tenant and per key.", no_args_is_help=True)
ApiKeyOpt = typer.Option(None, "--api-key", help="Default: MODELYARD_API_KEY or <home>/admin.key.")
TenantOpt = typer.Option(None, "--tenant", help="Tenant name.")
KeyOpt = typer.Option(None, "--key", help="API key id.")


def _client(api_key: str | None) -> ApiClient:
    return ApiClient(Settings(), api_key=api_key)


def _subject_path(tenant: str | None, key: str | None) -> str:
    if (tenant is None) == (key is None):
        raise fail("name exactly one of --tenant or --key")
    return f"/v1/admin/quotas/tenants/{tenant}" if tenant else f"/v1/admin/quotas/keys/{key}"


def _print_limits(limits: dict[str, Any]) -> None:
    table = Table("limit", "value")
    for name, value in limits.items():
        table.add_row(
            name, "no limit" if value is None else f"{value:g}" if isinstance(value, float) else str(value)
        )
    console().print(table)


@quotas_app.command("set")
def set_quota(
    tenant: str | None = TenantOpt,
    key: str | None = KeyOpt,
    rpm: int | None = typer.Option(None, "--rpm", help="Requests per minute."),
    tpm: int | None = typer.Option(None, "--tpm", help="Tokens per minute."),
    budget: float | None = typer.Option(None, "--budget", help="Spend budget per period."),
    period: str | None = typer.Option(None, "--period", help="Budget period: day or month."),
    max_tokens: int | None = typer.Option(None, "--max-tokens", help="Largest max_tokens per request."),
    max_upload: int | None = typer.Option(None, "--max-upload-bytes", help="Largest file upload."),
    max_jobs: int | None = typer.Option(None, "--max-jobs", help="Queued or running jobs at once."),
    reset: bool = typer.Option(False, "--reset", help="Start from no limits instead of the current ones."),
    api_key: str | None = ApiKeyOpt,
) -> None:
    """Change the named limits; the others keep their values (unless --reset)."""
    path = _subject_path(tenant, key)
    client = _client(api_key)
    current = {} if reset else client.request("GET", path)
    given = {
        "requests_per_minute": rpm,
        "tokens_per_minute": tpm,
        "spend_budget": budget,
        "budget_period": period,
        "max_tokens": max_tokens,
        "max_upload_bytes": max_upload,
        "max_concurrent_jobs": max_jobs,
    }
    body = {name: current.get(name) for name in given if current.get(name) is not None}
    body |= {name: value for name, value in given.items() if value is not None}
    stored = client.request("PUT", path, json=body)
    typer.echo(f"Quota of {stored['subject_type']} {stored['name']} updated.")
    _print_limits({name: stored[name] for name in given})


@quotas_app.command("show")
def show_quota(
    tenant: str | None = TenantOpt, key: str | None = KeyOpt, api_key: str | None = ApiKeyOpt
) -> None:
    """A tenant's or key's quota (admin); with neither, your own limits and what is left now."""
    client = _client(api_key)
    if tenant is None and key is None:
        status = client.request("GET", "/v1/quotas")
        table = Table("", "effective limit", "left now")
        for name, value in status["effective"].items():
            table.add_row(name, "no limit" if value is None else str(value), "")
        for name, value in status["remaining"].items():
            table.add_row(name, "", "-" if value is None else f"{value:g}")
        console().print(table)
        return
    stored = client.request("GET", _subject_path(tenant, key))
    typer.echo(f"Quota of {stored['subject_type']} {stored['name']}:")
    _print_limits({name: value for name, value in stored.items() if name not in _META})


_META = {"object", "subject_type", "subject_id", "name", "updated_at"}
