"""The audit chain is keyed: whoever can write the database cannot recompute it, and an
exported head catches a cut-off tail (issue 11, item 6)."""

from __future__ import annotations

import hashlib
import json
import stat
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from modelyard.audit.chain import GENESIS, HASHED_FIELDS
from modelyard.cli.main import app as cli_app
from modelyard.config import Settings
from modelyard.services import build_services
from modelyard.store import Database
from modelyard.store.tables import AuditEntry
from tests.conftest import Platform

_TABLE = AuditEntry.__table__


def _public_hash(row: Mapping[str, Any], prev: str) -> str:
    """The hash anyone can compute: sha256 over prev_hash and the entry's canonical JSON."""

    def canonical(value: Any) -> Any:
        return (
            value.astimezone(UTC).isoformat(timespec="microseconds") if isinstance(value, datetime) else value
        )

    fields = {name: canonical(row.get(name)) for name in HASHED_FIELDS}
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(f"{prev}\n{text}".encode()).hexdigest()


def _rechain_publicly(db: Database, *, edit_seq: int | None = None) -> None:
    """What an attacker with write access does: edit an entry, recompute every hash."""
    with db.engine.begin() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(_TABLE).order_by(_TABLE.c.seq))]
        prev = GENESIS
        for row in rows:
            if row["seq"] == edit_seq:
                row["status_code"] = 299
            digest = _public_hash(row, prev)
            values = {"status_code": row["status_code"], "prev_hash": prev, "hash": digest}
            conn.execute(update(_TABLE).where(_TABLE.c.seq == row["seq"]).values(**values))
            prev = digest


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Entries are written only when a test flushes them: otherwise the platform's own later
    # entries (the verify calls) could refill a tail a test has just cut off, between checks.
    return settings.model_copy(update={"audit_flush_interval_s": 3600.0})


def _admin(platform: Platform) -> dict[str, str]:
    return platform.headers(platform.admin_key)


def _fill(platform: Platform, calls: int = 3) -> None:
    for _ in range(calls):
        platform.client.get("/v1/models", headers=platform.headers())
    platform.flush_audit()


def _verify(platform: Platform, **params: Any) -> dict[str, Any]:
    response = platform.client.get("/v1/admin/audit/verify", params=params, headers=_admin(platform))
    assert response.status_code == 200, response.text
    return response.json()


def _env(platform: Platform) -> dict[str, str]:
    return {
        "MODELYARD_HOME": str(platform.settings.home),
        "MODELYARD_DATABASE_URL": platform.settings.resolved_database_url,
    }


def test_an_edit_with_every_later_hash_recomputed_is_still_caught(platform: Platform) -> None:
    _fill(platform)
    assert _verify(platform)["ok"] is True
    db = Database(platform.settings.resolved_database_url)
    _rechain_publicly(db, edit_seq=2)
    db.dispose()
    report = _verify(platform)
    assert report["ok"] is False and report["bad_seq"] == 1  # no entry keeps a valid hash
    cli = CliRunner().invoke(cli_app, ["audit", "verify"], env=_env(platform))
    assert cli.exit_code == 1 and "FAILED" in cli.output


def test_a_cut_off_tail_is_caught_against_an_exported_head(platform: Platform) -> None:
    _fill(platform)
    head = platform.client.get("/v1/admin/audit/head", headers=_admin(platform)).json()
    assert head["seq"] >= 4 and len(head["hash"]) == 64
    report = _verify(platform, head_seq=head["seq"], head_hash=head["hash"])
    assert report["ok"] is True and report["count"] >= head["seq"] and report["head"]["seq"] >= head["seq"]

    db = Database(platform.settings.resolved_database_url)
    with db.engine.begin() as conn:
        conn.execute(_TABLE.delete().where(_TABLE.c.seq >= head["seq"] - 1))
    db.dispose()
    assert _verify(platform)["ok"] is True  # on its own, a shorter chain is a valid chain
    cut = _verify(platform, head_seq=head["seq"], head_hash=head["hash"])
    assert cut["ok"] is False and "truncated" in cut["reason"] and cut["bad_seq"] == head["seq"] - 1


def test_an_exported_head_that_no_longer_matches_is_named(platform: Platform) -> None:
    _fill(platform)
    head = platform.client.get("/v1/admin/audit/head", headers=_admin(platform)).json()
    report = _verify(platform, head_seq=head["seq"], head_hash="0" * 64)
    assert report["ok"] is False and report["bad_seq"] == head["seq"] and "mismatch" in report["reason"]
    half = platform.client.get("/v1/admin/audit/verify", params={"head_seq": 1}, headers=_admin(platform))
    assert half.status_code == 400 and half.json()["error"]["param"] == "head_hash"


def test_cli_exports_the_head_and_verifies_against_it(platform: Platform, tmp_path: Any) -> None:
    _fill(platform)
    runner, env = CliRunner(), _env(platform)
    exported = runner.invoke(cli_app, ["audit", "head", "--json"], env=env)
    assert exported.exit_code == 0, exported.output
    head = json.loads(exported.output)
    head_file = tmp_path / "head.json"
    head_file.write_text(exported.output)
    ok = runner.invoke(cli_app, ["audit", "verify", "--head-file", str(head_file)], env=env)
    assert ok.exit_code == 0 and "chain intact" in ok.output, ok.output
    verified = runner.invoke(cli_app, ["audit", "verify", "--json"], env=env)
    assert json.loads(verified.output)["count"] >= head["seq"]

    db = Database(platform.settings.resolved_database_url)
    with db.engine.begin() as conn:
        conn.execute(_TABLE.delete().where(_TABLE.c.seq == head["seq"]))
    db.dispose()
    plain = runner.invoke(cli_app, ["audit", "verify"], env=env)
    assert plain.exit_code == 0  # the newest entry gone: the chain alone cannot tell
    cut = runner.invoke(cli_app, ["audit", "verify", "--head", f"{head['seq']}:{head['hash']}"], env=env)
    assert cut.exit_code == 1 and "truncated" in cut.output


# -- the key and the migration of unkeyed chains ---------------------------------------------
def _legacy_chain(settings: Settings, entries: int = 4) -> Database:
    """A log as 0.4 wrote it: chained with the public hash, before any audit key existed."""
    db = Database(settings.resolved_database_url)
    db.migrate()
    prev = GENESIS
    with db.engine.begin() as conn:
        for seq in range(1, entries + 1):
            row = {"seq": seq, "created_at": datetime.now(UTC), "kind": "request", "route": "/v1/models",
                   "method": "GET", "status_code": 200, "prompt_tokens": 0, "completion_tokens": 0,
                   "latency_ms": 1.0}  # fmt: skip
            conn.execute(_TABLE.insert().values(**row, prev_hash=prev, hash=_public_hash(row, prev)))
            prev = _public_hash(row, prev)
    return db


def _stored_hashes(db: Database) -> list[str]:
    with db.engine.connect() as conn:
        return [r.hash for r in conn.execute(select(_TABLE.c.hash).order_by(_TABLE.c.seq))]


def test_a_legacy_chain_is_rekeyed_when_the_key_is_made(settings: Settings) -> None:
    settings.home.mkdir(parents=True, exist_ok=True)
    db = _legacy_chain(settings)
    before = _stored_hashes(db)
    services = build_services(settings)
    try:
        key_file = settings.audit_key_file
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and len(key_file.read_bytes().strip()) == 64
        report = services.audit.verify()
        assert report.ok and report.count == 4
        after = _stored_hashes(db)
        assert all(old != new for old, new in zip(before, after, strict=True))
    finally:
        services.db.dispose()
    # The key exists now: a chain rewritten with the public hash is not re-keyed again.
    _rechain_publicly(db, edit_seq=3)
    db.dispose()
    again = build_services(settings)
    try:
        assert again.audit.verify().bad_seq == 1
    finally:
        again.db.dispose()


def test_a_legacy_chain_edited_before_the_upgrade_keeps_its_break(settings: Settings) -> None:
    settings.home.mkdir(parents=True, exist_ok=True)
    db = _legacy_chain(settings)
    with db.engine.begin() as conn:
        conn.execute(update(_TABLE).where(_TABLE.c.seq == 3).values(status_code=500))
    db.dispose()
    services = build_services(settings)
    try:
        report = services.audit.verify()
        assert not report.ok and report.bad_seq == 3 and report.count == 2
    finally:
        services.db.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_configured_key_is_used_and_no_key_file_is_made(settings: Settings) -> None:
    keyed = settings.model_copy(update={"audit_key": "operator-chosen-audit-key"})
    services = build_services(keyed)
    try:
        services.audit.admin("test_action")
        assert services.audit.verify().ok and not keyed.audit_key_file.exists()
    finally:
        services.db.dispose()
    other = build_services(settings.model_copy(update={"audit_key": "another-key-entirely"}))
    try:
        assert other.audit.verify().bad_seq == 1  # a different key cannot vouch for it
    finally:
        other.db.dispose()
