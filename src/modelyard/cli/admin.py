"""`modelyard tenants ...` and `modelyard keys ...`."""

from __future__ import annotations

import typer
from rich.table import Table

from modelyard.cli.client import ApiClient, console
from modelyard.config import Settings

__all__ = ["keys_app", "tenants_app"]

tenants_app = typer.Typer(help="Create and list tenants (admin key).", no_args_is_help=True)
keys_app = typer.Typer(help="Create, list and revoke API keys (admin key).", no_args_is_help=True)
ApiKeyOpt = typer.Option(
    None, "--api-key", help="Admin key (default: MODELYARD_API_KEY or <home>/admin.key)."
)


@tenants_app.command("create")
def create_tenant(name: str, api_key: str | None = ApiKeyOpt) -> None:
    """Create a tenant; its first API key is the last line printed."""
    created = ApiClient(Settings(), api_key=api_key).request("POST", "/v1/admin/tenants", json={"name": name})
    typer.echo(f"Created tenant {created['name']} ({created['id']}).")
    typer.echo("Its first API key (shown once, store it now):")
    typer.echo(created["key"]["key"])


@tenants_app.command("list")
def list_tenants(api_key: str | None = ApiKeyOpt) -> None:
    data = ApiClient(Settings(), api_key=api_key).request("GET", "/v1/admin/tenants")["data"]
    table = Table("name", "id")
    for tenant in data:
        table.add_row(tenant["name"], tenant["id"])
    console().print(table)


@keys_app.command("create")
def create_key(
    tenant: str = typer.Option(..., "--tenant", help="Tenant name."),
    role: str = typer.Option("member", "--role", help="member or admin."),
    name: str = typer.Option("", "--name", help="A label for the key."),
    api_key: str | None = ApiKeyOpt,
) -> None:
    """Create a key for a tenant; the key is the last line printed."""
    client = ApiClient(Settings(), api_key=api_key)
    issued = client.request("POST", f"/v1/admin/tenants/{tenant}/keys", json={"role": role, "name": name})
    typer.echo(f"Created {issued['role']} key {issued['id']} for tenant {issued['tenant']} (shown once):")
    typer.echo(issued["key"])


@keys_app.command("list")
def list_keys(tenant: str = typer.Option(..., "--tenant"), api_key: str | None = ApiKeyOpt) -> None:
    data = ApiClient(Settings(), api_key=api_key).request("GET", f"/v1/admin/tenants/{tenant}/keys")["data"]
    table = Table("id", "role", "name", "revoked")
    for key in data:
        table.add_row(key["id"], key["role"], key["name"], "yes" if key["revoked_at"] else "")
    console().print(table)


@keys_app.command("revoke")
def revoke_key(key_id: str, api_key: str | None = ApiKeyOpt) -> None:
    ApiClient(Settings(), api_key=api_key).request("DELETE", f"/v1/admin/keys/{key_id}")
    typer.echo(f"Revoked key {key_id}.")
