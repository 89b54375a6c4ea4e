"""`modelyard tenants ...` and `modelyard keys ...`."""

from __future__ import annotations

import re
from typing import Any

import typer
from rich.table import Table

from modelyard.cli.client import ApiClient, console, fail
from modelyard.config import Settings

__all__ = ["keys_app", "parse_duration", "tenants_app"]

tenants_app = typer.Typer(help="Create and list tenants (admin key).", no_args_is_help=True)
keys_app = typer.Typer(help="Create, list, rotate and revoke API keys (admin key).", no_args_is_help=True)
ApiKeyOpt = typer.Option(
    None, "--api-key", help="Admin key (default: MODELYARD_API_KEY or <home>/admin.key)."
)
_DURATION = re.compile(r"^(\d+)([smhdw]?)$")
_UNIT_S = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _client(api_key: str | None) -> ApiClient:
    return ApiClient(Settings(), api_key=api_key)


def parse_duration(text: str) -> int:
    """'90' or '90s', '15m', '12h', '30d', '2w' -> seconds."""
    match = _DURATION.match(text.strip().lower())
    if not match or int(match.group(1)) == 0:
        raise fail(f"cannot read the duration '{text}': use a number with s, m, h, d or w (e.g. 30d)")
    return int(match.group(1)) * _UNIT_S[match.group(2)]


def _print_issued(issued: dict[str, Any], verb: str) -> None:
    typer.echo(f"{verb} {issued['role']} key {issued['id']} for tenant {issued['tenant']} (shown once):")
    # The key is the last line, alone, so scripts can take it with `tail -1`.
    typer.echo(issued["key"])


@tenants_app.command("create")
def create_tenant(name: str, api_key: str | None = ApiKeyOpt) -> None:
    """Create a tenant; its first API key (role tenant_admin: it manages the tenant's other
    keys) is the last line printed. Later keys (`modelyard keys create`) default to member."""
    created = _client(api_key).request("POST", "/v1/admin/tenants", json={"name": name})
    first = created["key"]
    typer.echo(f"Created tenant {created['name']} ({created['id']}).")
    typer.echo(
        f"Its first API key, role {first['role']}: it signs in to the console and manages the "
        "tenant's other keys (shown once, store it now):"
    )
    typer.echo(first["key"])


@tenants_app.command("list")
def list_tenants(api_key: str | None = ApiKeyOpt) -> None:
    data = _client(api_key).request("GET", "/v1/admin/tenants")["data"]
    table = Table("name", "id")
    for tenant in data:
        table.add_row(tenant["name"], tenant["id"])
    console().print(table)


@keys_app.command("create")
def create_key(
    tenant: str = typer.Option(..., "--tenant", help="Tenant name."),
    role: str = typer.Option("member", "--role", help="member (default), tenant_admin, provider or admin."),
    name: str = typer.Option("", "--name", help="A label for the key."),
    scope: list[str] | None = typer.Option(None, "--scope", help="An endpoint scope; repeat for more."),
    model: list[str] | None = typer.Option(None, "--model", help="A model the key may use; repeat."),
    read_only: bool = typer.Option(False, "--read-only", help="The key may only read (GET)."),
    expires_in: str | None = typer.Option(None, "--expires-in", help="Lifetime, e.g. 30d, 12h."),
    api_key: str | None = ApiKeyOpt,
) -> None:
    """Create a key for a tenant; the key is the last line printed."""
    body: dict[str, Any] = {
        "role": role,
        "name": name,
        "scopes": scope or None,
        "allowed_models": model or None,
    }
    body["read_only"] = read_only
    if expires_in is not None:
        body["expires_in_s"] = parse_duration(expires_in)
    issued = _client(api_key).request("POST", f"/v1/admin/tenants/{tenant}/keys", json=body)
    _print_issued(issued, "Created")


@keys_app.command("list")
def list_keys(tenant: str = typer.Option(..., "--tenant"), api_key: str | None = ApiKeyOpt) -> None:
    data = _client(api_key).request("GET", f"/v1/admin/tenants/{tenant}/keys")["data"]
    table = Table("id", "role", "name", "scopes", "expires", "revoked")
    for key in data:
        expires = str(key["expires_at"]) if key["expires_at"] else ""
        revoked = "yes" if key["revoked_at"] else ""
        table.add_row(key["id"], key["role"], key["name"], " ".join(key["scopes"]), expires, revoked)
    console().print(table)


@keys_app.command("revoke")
def revoke_key(key_id: str, api_key: str | None = ApiKeyOpt) -> None:
    _client(api_key).request("DELETE", f"/v1/admin/keys/{key_id}")
    typer.echo(f"Revoked key {key_id}.")


@keys_app.command("rotate")
def rotate_key(
    key_id: str,
    grace: str | None = typer.Option(
        None, "--grace", help="Keep the old key working this long (e.g. 1h, 2d; at most 7d)."
    ),
    api_key: str | None = ApiKeyOpt,
) -> None:
    """Replace a key with a new one of the same settings; the old one stops working at once,
    or after --grace."""
    grace_s = parse_duration(grace) if grace else 0
    body = {"grace_s": grace_s}
    issued = _client(api_key).request("POST", f"/v1/admin/keys/{key_id}/rotate", json=body)
    typer.echo(f"Key {key_id} works for {grace} more." if grace_s else f"Revoked key {key_id}.")
    _print_issued(issued, "Created")
