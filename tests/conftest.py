"""Shared fixtures: a store on SQLite and on PostgreSQL, an app, keys, tiny models."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from modelyard.app import create_app
from modelyard.config import Settings
from modelyard.store import Database
from modelyard.store.tables import UsageEvent
from tests.helpers.deadlines import SCALE_ENV, scaled, time_scale

PG_ADMIN_URL = os.environ.get("MODELYARD_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
TEST_CACHE = Path(os.environ.get("MODELYARD_TEST_CACHE", Path.home() / ".cache" / "modelyard-tests"))


def pytest_configure(config: pytest.Config) -> None:
    try:
        time_scale()
    except ValueError as bad:
        raise pytest.UsageError(str(bad)) from None


def pytest_report_header(config: pytest.Config) -> str:
    # pytest-timeout's own header line shows its limit unscaled.
    return f"time scale: {time_scale():g} ({SCALE_ENV}), applied to every wait and to pytest-timeout"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """pytest-timeout's limit (ini, --timeout, PYTEST_TIMEOUT or a marker) times the scale."""
    if not config.pluginmanager.hasplugin("timeout"):
        return
    from pytest_timeout import get_env_settings

    default = get_env_settings(config).timeout
    for item in items:
        marker = item.get_closest_marker("timeout")
        args, kwargs = (marker.args, dict(marker.kwargs)) if marker else ((), {})
        limit = kwargs.pop("timeout") if "timeout" in kwargs else (args[0] if args else default)
        if len(args) > 1:
            kwargs["method"] = args[1]
        if limit:  # None or 0: no limit, which scaling keeps
            # Prepended, so it is the closest marker: the one pytest-timeout reads.
            item.add_marker(pytest.mark.timeout(timeout=scaled(float(limit)), **kwargs), append=False)


def _pg_available() -> bool:
    import psycopg

    try:
        psycopg.connect(PG_ADMIN_URL, connect_timeout=max(1, round(scaled(3)))).close()
        return True
    except psycopg.Error:
        return False


@pytest.fixture(scope="session")
def pg_available() -> bool:
    available = _pg_available()
    if not available and os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required in CI but {PG_ADMIN_URL} is unreachable")
    return available


@pytest.fixture
def postgres_url(pg_available: bool) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    if not pg_available:
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}")
    import psycopg

    name = f"modelyard_test_{secrets.token_hex(6)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'modelyard.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        home=tmp_path / "home",
        database_url=database_url,
        models_dir=TEST_CACHE / "models",
        # The number-format choice is per machine: measured once per test session, not per test.
        hardware_dir=TEST_CACHE / "hardware",
        usage_flush_interval_s=0.05,
        audit_flush_interval_s=0.05,
        # A first call loads its model (and torch) while a busy test machine may be slow: it
        # waits rather than getting 503 model_not_ready. The readiness tests set their own.
        model_ready_wait_s=min(600.0, scaled(120)),
    )


@dataclass
class Platform:
    """A running app (in-process) with an admin key and one tenant."""

    client: TestClient
    settings: Settings
    admin_key: str
    tenant_key: str

    def headers(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.tenant_key}"}

    def new_tenant(self, name: str) -> str:
        response = self.client.post(
            "/v1/admin/tenants", json={"name": name}, headers=self.headers(self.admin_key)
        )
        assert response.status_code == 201, response.text
        return response.json()["key"]["key"]

    def member_key(self, tenant: str) -> str:
        """A member key of ``tenant`` (its first key, from ``new_tenant``, is its tenant_admin)."""
        response = self.client.post(
            f"/v1/admin/tenants/{tenant}/keys", json={"name": "member"}, headers=self.headers(self.admin_key)
        )
        assert response.status_code == 201, response.text
        return response.json()["key"]

    def flush_usage(self) -> None:
        services = self.client.app.state.services
        self.client.portal.call(services.usage.flush)

    def allow_outbound(self, host: str) -> None:
        """Allow-list a destination the way an admin would: ``127.0.0.1:<port>`` for a mock
        upstream (a bare host allows only ports 80 and 443)."""
        response = self.client.post(
            "/v1/admin/outbound-allowlist", json={"host": host}, headers=self.headers(self.admin_key)
        )
        assert response.status_code == 201, response.text

    def usage_rows(self) -> list[UsageEvent]:
        """Every usage row so far, oldest first (pending rows are flushed first)."""
        self.flush_usage()
        db = Database(self.settings.resolved_database_url)
        with db.session() as session:
            rows = list(session.scalars(select(UsageEvent).order_by(UsageEvent.id)))
        db.dispose()
        return rows

    def flush_audit(self) -> None:
        services = self.client.app.state.services
        self.client.portal.call(services.audit.flush)


@pytest.fixture
def platform(settings: Settings) -> Iterator[Platform]:
    app = create_app(settings)
    with TestClient(app) as client:
        issued = app.state.services.tenancy.ensure_admin_key(settings.admin_key_file)
        assert issued is not None
        platform = Platform(client=client, settings=settings, admin_key=issued.key, tenant_key="")
        platform.new_tenant("acme")  # its first key is acme's tenant_admin
        platform.tenant_key = platform.member_key("acme")
        yield platform


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.helpers.tiny_models import build_tiny_causal_lm

    return build_tiny_causal_lm(tmp_path_factory.mktemp("tiny") / "tiny-llama")
