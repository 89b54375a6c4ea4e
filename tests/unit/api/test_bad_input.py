"""Inputs that used to reach a 500 are 400s naming the field (issue 11, item 11).

Each runs on SQLite and PostgreSQL (the ``platform`` fixture), since the 500s came from
what the database or its driver could not hold as much as from Python.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from modelyard.store import Database
from modelyard.store.tables import FileRecord, Tenant
from tests.conftest import Platform

LONE = '"\\ud800"'  # a JSON escape Python decodes to an unencodable str
PAIRED = '"\\ud83d\\ude00"'  # a real character (an emoji), written as a surrogate pair


def _error(response: object, status: int = 400) -> dict:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    return response.json()["error"]  # type: ignore[attr-defined]


def _post_raw(platform: Platform, path: str, body: str, key: str | None = None) -> object:
    headers = {**platform.headers(key), "Content-Type": "application/json"}
    return platform.client.post(path, content=body.encode(), headers=headers)


def test_events_cursor_past_64_bits(platform: Platform) -> None:
    db = Database(platform.settings.resolved_database_url)
    with db.session() as session:
        tenant_id = session.query(Tenant).filter_by(name="acme").one().id
        fields = {"filename": "x.jsonl", "purpose": "fine-tune", "bytes": 1, "format": "chat", "examples": 1}
        session.add(
            FileRecord(id="file-a", tenant_id=tenant_id, status="processed", stats={}, problems=[], **fields)
        )
    db.dispose()
    job = platform.client.post(
        "/v1/fine_tuning/jobs",
        json={"model": "gemma-3-270m", "training_file": "file-a"},
        headers=platform.headers(),
    ).json()
    events = f"/v1/fine_tuning/jobs/{job['id']}/events"
    huge = platform.client.get(
        events, params={"after": "ftevent-99999999999999999999999999"}, headers=platform.headers()
    )
    assert _error(huge)["param"] == "after"
    fine = platform.client.get(events, params={"after": "ftevent-999"}, headers=platform.headers())
    assert fine.status_code == 200


def test_usage_range_at_the_ends_of_the_calendar(platform: Platform) -> None:
    response = platform.client.get(
        "/v1/usage", params={"start": "0001-01-01", "end": "9999-12-31"}, headers=platform.headers()
    )
    assert _error(response)["param"] == "end"
    early = platform.client.get(
        "/v1/usage", params={"start": "0001-01-01", "end": "9999-12-30"}, headers=platform.headers()
    )
    assert early.status_code == 200, early.text


@pytest.mark.parametrize(
    "path, body, param",
    [
        ("/v1/chat/completions", f'{{"model": "m", "messages": [{{"role": "user", "content": {LONE}}}]}}',
         "messages.0.content"),
        ("/v1/chat/completions",
         f'{{"model": "m", "messages": [{{"role": "user", "content": [{{"type": "text", "text": {LONE}}}]}}]}}',  # noqa: E501
         "messages.0.content.0.text"),
        ("/v1/completions", f'{{"model": "m", "prompt": ["ok", {LONE}]}}', "prompt.1"),
        ("/v1/embeddings", f'{{"model": "m", "input": {LONE}}}', "input"),
    ],
)  # fmt: skip
def test_a_lone_surrogate_in_a_call_names_its_field(
    platform: Platform, path: str, body: str, param: str
) -> None:
    error = _error(_post_raw(platform, path, body))
    assert error["param"] == param and "surrogate" in error["message"]


def test_a_lone_surrogate_in_a_management_body_names_its_field(platform: Platform) -> None:
    response = _post_raw(platform, "/v1/admin/tenants", f'{{"name": {LONE}}}', platform.admin_key)
    assert _error(response)["param"] == "name"


def test_a_surrogate_pair_is_an_ordinary_character(platform: Platform) -> None:
    body = f'{{"model": "no-such-model", "messages": [{{"role": "user", "content": {PAIRED}}}]}}'
    response = _post_raw(platform, "/v1/chat/completions", body)
    assert _error(response, 404)["param"] == "model"  # it reached the route


def _upload(platform: Platform, data: bytes) -> object:
    return platform.client.post(
        "/v1/files",
        files={"file": ("train.jsonl", data, "application/jsonl")},
        data={"purpose": "fine-tune"},
        headers=platform.headers(),
    )


def test_a_jsonl_upload_with_a_lone_surrogate(platform: Platform) -> None:
    bad = (
        f'{{"messages": [{{"role": "user", "content": {LONE}}}, {{"role": "assistant", "content": "x"}}]}}\n'
    )
    good = '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}\n'
    error = _error(_upload(platform, bad.encode()))
    assert error["param"] == "file"
    mixed = _upload(platform, (good + bad).encode())
    assert mixed.status_code == 200, mixed.text
    stored = mixed.json()
    assert stored["examples"] == 1
    [problem] = stored["problems"]
    assert (
        problem["line"] == 2
        and problem["code"] == "invalid_text"
        and "messages.0.content" in problem["message"]
    )


def _register(platform: Platform, folder: Path) -> object:
    body = {"kind": "local", "id": "odd-weights", "path": str(folder)}
    return platform.client.post("/v1/models", json=body, headers=platform.headers(platform.admin_key))


def _folder_with(tmp_path: Path, weights: bytes | None = None, link_to: str | None = None) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"max_position_embeddings": 128}))
    if link_to is not None:
        (folder / "model.safetensors").symlink_to(link_to)
    else:
        (folder / "model.safetensors").write_bytes(weights or b"")
    return folder


@pytest.mark.parametrize(
    "weights",
    [
        b"",
        b"\x01\x02",
        struct.pack("<Q", 2**60) + b"{}",  # a header longer than the file
        struct.pack("<Q", 2) + b"[]",  # a header that is not a table
        struct.pack("<Q", 15) + b'{"w": "shape"}',
        struct.pack("<Q", 24) + b'{"w": {"shape": "3x4"}}',
        struct.pack("<Q", 5) + b"{nope",
    ],
)
def test_malformed_safetensors_are_refused(platform: Platform, tmp_path: Path, weights: bytes) -> None:
    error = _error(_register(platform, _folder_with(tmp_path, weights)))
    assert error["param"] == "path" and str(tmp_path) not in error["message"]


def test_a_safetensors_link_to_another_file_is_refused(platform: Platform, tmp_path: Path) -> None:
    error = _error(_register(platform, _folder_with(tmp_path, link_to="/etc/passwd")))
    assert error["param"] == "path" and "root" not in error["message"]
