"""A NUL in a name the caller sends is a 4xx and leaves metering and audit working (both
databases). PostgreSQL text cannot hold NUL: found by fuzzing against PostgreSQL, where such
a name was a 500 and its usage and audit rows blocked every later row for good."""

from __future__ import annotations

from tests.conftest import Platform

NAME = "bad\x00name"


def test_a_nul_in_a_name_is_not_found_and_blocks_nothing(platform: Platform) -> None:
    headers = platform.headers()
    body = {"model": NAME, "messages": [{"role": "user", "content": "hi"}]}
    assert platform.client.post("/v1/chat/completions", json=body, headers=headers).status_code == 404
    embeddings = {"model": NAME, "input": ["x"]}
    assert platform.client.post("/v1/embeddings", json=embeddings, headers=headers).status_code == 404
    for path in ("/v1/models/bad%00name", "/v1/files/file-%00", "/v1/fine_tuning/jobs/ftjob-%00"):
        assert platform.client.get(path, headers=headers).status_code == 404, path
    admin = platform.headers(platform.admin_key)
    assert platform.client.get("/v1/admin/audit", params={"model": NAME}, headers=admin).status_code == 200
    platform.flush_usage()
    platform.flush_audit()
    # Later rows are written: the writers are not stuck retrying the rows above.
    assert platform.client.get("/v1/models", headers=headers).status_code == 200
    platform.flush_audit()
    entries = platform.client.get("/v1/admin/audit", params={"limit": 5}, headers=admin).json()["data"]
    assert entries[0]["route"] == "/v1/models"  # the newest entry: the call just made
    refused = [e for e in platform.client.get("/v1/admin/audit", headers=admin).json()["data"] if e["model"]]
    assert all("\x00" not in e["model"] for e in refused)
    assert platform.client.get("/v1/admin/audit/verify", headers=admin).json()["ok"] is True
