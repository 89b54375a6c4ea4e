"""A small HTTP client for the CLI: base URL and key from Settings, errors as text."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import typer
from rich.console import Console

from modelyard.config import Settings

__all__ = ["ApiClient", "console", "fail"]


def console() -> Console:
    # Piped output keeps whole rows: scripts grep it, and 80 columns would wrap ids.
    return Console() if sys.stdout.isatty() else Console(width=240)


def fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def _resolve_key(settings: Settings, explicit: str | None) -> str:
    key = explicit or settings.api_key
    if not key and settings.admin_key_file.exists():
        key = settings.admin_key_file.read_text().strip()
    if not key:
        raise fail("no API key: pass --api-key, set MODELYARD_API_KEY, or run on the server's home")
    return key


class ApiClient:
    def __init__(self, settings: Settings, *, api_key: str | None = None, timeout: float = 600) -> None:
        self._http = httpx.Client(
            base_url=settings.resolved_base_url,
            headers={"Authorization": f"Bearer {_resolve_key(settings, api_key)}"},
            timeout=timeout,
        )

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise fail(f"cannot reach modelyard at {self._http.base_url}: {exc}") from exc
        _raise_for_error(response)
        return response.json() if response.content else None

    def request_text(self, method: str, path: str, **kwargs: Any) -> str:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise fail(f"cannot reach modelyard at {self._http.base_url}: {exc}") from exc
        _raise_for_error(response)
        return response.text

    def stream_sse(self, path: str, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        try:
            with self._http.stream("POST", path, json=body) as response:
                if response.is_error:
                    response.read()
                    _raise_for_error(response)
                for line in response.iter_lines():
                    if not line.startswith("data: ") or line == "data: [DONE]":
                        continue
                    event = json.loads(line[6:])
                    if "error" in event:
                        raise fail(event["error"].get("message", "stream failed"))
                    yield event
        except httpx.HTTPError as exc:
            raise fail(f"cannot reach modelyard at {self._http.base_url}: {exc}") from exc


def _raise_for_error(response: httpx.Response) -> None:
    if not response.is_error:
        return
    try:
        message = response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = response.text[:300]
    raise fail(f"{response.status_code}: {message}")
