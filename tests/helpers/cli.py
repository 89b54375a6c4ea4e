"""CLI commands against the in-process app, with no server and no socket."""

from __future__ import annotations

from collections.abc import Callable

from modelyard.cli.client import ApiClient
from modelyard.config import Settings
from tests.conftest import Platform

__all__ = ["in_process"]


def in_process(platform: Platform, key: str) -> Callable[[str | None], ApiClient]:
    """A stand-in for a CLI module's ``_client``: calls go to ``platform``'s app with ``key``."""

    def client(_api_key: str | None) -> ApiClient:
        api = ApiClient(Settings(api_key=key))
        api._http = platform.client  # the app in-process instead of a socket
        platform.client.headers["Authorization"] = f"Bearer {key}"
        return api

    return client
