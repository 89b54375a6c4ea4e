"""`modelyard audit verify` and `modelyard outbound ...`."""

from __future__ import annotations

import typer
from rich.table import Table

from modelyard.cli.client import ApiClient, console, fail
from modelyard.config import Settings

__all__ = ["audit_app", "outbound_app"]

audit_app = typer.Typer(help="Check the hash-chained audit log.", no_args_is_help=True)
outbound_app = typer.Typer(help="Hosts remote providers may live on despite the private-address guard.")
ApiKeyOpt = typer.Option(
    None, "--api-key", help="Admin key (default: MODELYARD_API_KEY or <home>/admin.key)."
)


@audit_app.command("verify")
def verify() -> None:
    """Recompute the whole chain from the database; exit 1 at the first bad entry."""
    from sqlalchemy.exc import SQLAlchemyError

    from modelyard.audit.log import AuditLog
    from modelyard.store import Database

    settings = Settings()
    db = Database(settings.resolved_database_url)
    try:
        report = AuditLog(db).verify()
    except SQLAlchemyError as exc:
        raise fail(f"cannot read the audit log: {type(exc).__name__}") from exc
    finally:
        db.dispose()
    if not report.ok:
        typer.echo(
            f"FAILED at entry {report.bad_seq}: {report.reason} ({report.count} entries before it are intact)"
        )
        raise typer.Exit(code=1)
    typer.echo(f"OK: {report.count} entries, chain intact")


@outbound_app.command("allow")
def allow(host: str, api_key: str | None = ApiKeyOpt) -> None:
    """Allow outbound calls to HOST (e.g. a provider on the company network)."""
    entry = ApiClient(Settings(), api_key=api_key).request(
        "POST", "/v1/admin/outbound-allowlist", json={"host": host}
    )
    typer.echo(f"Allowed outbound calls to {entry['host']}.")


@outbound_app.command("remove")
def remove(host: str, api_key: str | None = ApiKeyOpt) -> None:
    ApiClient(Settings(), api_key=api_key).request("DELETE", f"/v1/admin/outbound-allowlist/{host}")
    typer.echo(f"Removed {host} from the outbound allow-list.")


@outbound_app.command("list")
def list_hosts(api_key: str | None = ApiKeyOpt) -> None:
    data = ApiClient(Settings(), api_key=api_key).request("GET", "/v1/admin/outbound-allowlist")["data"]
    table = Table("host", "allowed by")
    for entry in data:
        table.add_row(entry["host"], entry["created_by"] or "")
    console().print(table)
