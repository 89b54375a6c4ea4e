"""`modelyard audit verify|head|rekey` and `modelyard outbound ...`.

The audit commands read the database directly (no server needed) with the audit key of
this home (or MODELYARD_AUDIT_KEY): a verification must not depend on the process it checks.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import typer
from rich.table import Table

from modelyard.cli.client import ApiClient, console, fail
from modelyard.config import Settings

if TYPE_CHECKING:
    from modelyard.audit.chain import ChainHead
    from modelyard.audit.log import AuditLog

__all__ = ["audit_app", "outbound_app"]

audit_app = typer.Typer(help="Check the hash-chained audit log.", no_args_is_help=True)
outbound_app = typer.Typer(help="Hosts remote providers may live on despite the private-address guard.")
ApiKeyOpt = typer.Option(
    None, "--api-key", help="Admin key (default: MODELYARD_API_KEY or <home>/admin.key)."
)
HeadOpt = typer.Option(None, "--head", help="An exported head, as SEQ:HASH.")
HeadFileOpt = typer.Option(None, "--head-file", help="An exported head, as `audit head --json` wrote it.")
JsonOpt = typer.Option(False, "--json", help="Print JSON.")
T = TypeVar("T")


def _with_log(use: Callable[[AuditLog], T], *, need_key: bool = True) -> T:
    """Run ``use`` on this home's audit log, turning a missing key or database into a message."""
    from sqlalchemy.exc import SQLAlchemyError

    from modelyard.audit.keys import load_audit_key
    from modelyard.audit.log import AuditLog
    from modelyard.store import Database

    settings = Settings()
    key = load_audit_key(settings)
    if key is None and need_key:
        where = settings.audit_key_file
        raise fail(f"no audit key: set MODELYARD_AUDIT_KEY, or start the server once (it makes {where})")
    db = Database(settings.resolved_database_url)
    try:
        return use(AuditLog(db, key or b""))
    except SQLAlchemyError as exc:
        raise fail(f"cannot read the audit log: {type(exc).__name__}") from exc
    finally:
        db.dispose()


def _expected_head(head: str | None, head_file: Path | None) -> ChainHead | None:
    from modelyard.audit.chain import ChainHead

    try:
        if head_file is not None:
            data = json.loads(head_file.read_text())
            return ChainHead(int(data["seq"]), str(data["hash"]))
        if head is not None:
            seq, _, digest = head.partition(":")
            return ChainHead(int(seq), digest)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise fail(f"cannot read the exported head: {type(exc).__name__}") from exc
    return None


@audit_app.command("verify")
def verify(head: str | None = HeadOpt, head_file: Path | None = HeadFileOpt, as_json: bool = JsonOpt) -> None:
    """Recompute the whole chain from the database; exit 1 at the first bad entry.

    With an exported head, a log cut back to before it (or changed at it) fails too.
    """
    expected = _expected_head(head, head_file)
    report = _with_log(lambda log: log.verify(expected))
    if as_json:
        typer.echo(json.dumps(report.to_dict()))
    elif not report.ok:
        typer.echo(
            f"FAILED at entry {report.bad_seq}: {report.reason} ({report.count} entries before it are intact)"
        )
    else:
        head_text = f"; head {report.head.seq}:{report.head.hash}" if report.head else ""
        typer.echo(f"OK: {report.count} entries, chain intact{head_text}")
    if not report.ok:
        raise typer.Exit(code=1)


@audit_app.command("head")
def head(as_json: bool = JsonOpt) -> None:
    """Print the newest entry's seq and hash: keep it elsewhere, and pass it to verify later."""
    newest = _with_log(lambda log: log.head(), need_key=False)
    if newest is None:
        raise fail("the audit log is empty")
    typer.echo(json.dumps(newest.to_dict()) if as_json else f"{newest.seq}:{newest.hash}")


@audit_app.command("rekey")
def rekey() -> None:
    """Key a chain written before audit keys existed (needed only with MODELYARD_AUDIT_KEY;
    a key made in the home re-keys it by itself). Refuses a chain that already verifies."""
    if _with_log(lambda log: log.verify()).ok:
        typer.echo("The chain already verifies under this key; nothing to do.")
        return
    report = _with_log(lambda log: log.rekey_legacy())
    if not report.ok:
        typer.echo(
            f"Re-keyed {report.count} entries; entry {report.bad_seq} fails the old check: {report.reason}"
        )
        raise typer.Exit(code=1)
    typer.echo(f"Re-keyed {report.count} entries.")


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
