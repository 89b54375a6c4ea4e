"""A split part names the file it was split from (issue 12: the console links them)."""

from __future__ import annotations

from tests.conftest import Platform
from tests.unit.api.test_files_api import chat, jsonl, uploaded


def test_split_parts_name_their_parent_and_uploads_have_none(platform: Platform) -> None:
    data = jsonl(*(chat(f"question {i}", f"answer {i}") for i in range(10)))
    source = uploaded(platform, data, filename="qa.jsonl")
    assert source["split_from"] is None
    made = platform.client.post(f"/v1/files/{source['id']}/split", json={}, headers=platform.headers())
    assert made.status_code == 200, made.text
    parts = made.json()["data"]
    assert [p["split_from"] for p in parts] == [
        {"file_id": source["id"], "part": part} for part in ("train", "validation", "test")
    ]
    # Read back (get and list) the same, after the row round-trips the database.
    again = platform.client.get(f"/v1/files/{parts[0]['id']}", headers=platform.headers()).json()
    assert again["split_from"] == {"file_id": source["id"], "part": "train"}
    listed = platform.client.get("/v1/files", headers=platform.headers()).json()["data"]
    assert {f["id"]: f["split_from"] for f in listed}[parts[2]["id"]]["part"] == "test"
