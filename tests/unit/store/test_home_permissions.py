"""A fresh home is private (0700, files 0600); an existing home readable by others is warned about."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelyard.config import Settings
from modelyard.home import exposure_warning
from modelyard.services import build_services
from modelyard.store import Database, Tenant


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    # The common default: without care, folders come out 755 and files 644.
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_fresh_home_and_everything_in_it_is_private(settings: Settings) -> None:
    assert not settings.home.exists()
    services = build_services(settings)
    try:
        services.tenancy.ensure_admin_key(settings.admin_key_file)
        with services.db.session() as session:
            session.add(Tenant(id="ten_perm", name="perm"))  # a write, so the WAL exists
        assert _mode(settings.home) == 0o700
        assert _mode(settings.secret_key_file) == 0o600
        assert _mode(settings.admin_key_file) == 0o600
        if services.db.is_sqlite:
            db_file = Path(settings.resolved_database_url.split("///", 1)[1])
            files = [db_file, Path(f"{db_file}-wal"), Path(f"{db_file}-shm")]
            assert all(f.exists() for f in files), files
            assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        services.db.dispose()
    assert exposure_warning(settings.home) is None


def test_a_new_sqlite_file_in_a_new_folder_is_private(tmp_path: Path) -> None:
    db_file = tmp_path / "new" / "store.db"
    db = Database(f"sqlite:///{db_file}")
    db.migrate()
    db.dispose()
    assert _mode(db_file.parent) == 0o700 and _mode(db_file) == 0o600


def test_an_existing_home_readable_by_others_is_warned_about_and_left_alone(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    os.chmod(home, 0o755)
    (home / "modelyard.db").touch(mode=0o644)
    warning = exposure_warning(home)
    assert warning is not None and str(home) in warning and "modelyard.db" in warning
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'modelyard.db'}")
    build_services(settings).db.dispose()
    assert _mode(home) == 0o755  # the owner's choice is not overridden, only warned about
    os.chmod(home, 0o700)
    for child in home.iterdir():
        os.chmod(child, 0o600 if child.is_file() else 0o700)
    assert exposure_warning(home) is None


def test_serve_warns_at_start_about_a_readable_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import uvicorn

    from modelyard.cli import serve as serve_module

    home = tmp_path / "shared-home"
    home.mkdir()
    os.chmod(home, 0o755)
    monkeypatch.setenv("MODELYARD_HOME", str(home))
    monkeypatch.setenv("MODELYARD_BUILTIN_MODELS", "false")
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)
    monkeypatch.setattr(serve_module, "_prepare_in_background", lambda *args: None)
    with caplog.at_level(logging.WARNING, logger="modelyard"):
        serve_module.serve(host=None, port=None, import_builtins=False, with_worker=False)
    assert any("readable by other local users" in r.getMessage() for r in caplog.records)
