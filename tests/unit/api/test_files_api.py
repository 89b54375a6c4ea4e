"""The Files API over HTTP on SQLite and PostgreSQL: OpenAI shapes, problems, tenancy, disk."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest

from modelyard.api.files import router as files_router
from modelyard.config import Settings
from modelyard.files import FilesService
from tests.conftest import Platform

UPLOAD_LIMIT = 64 * 1024
LINE_LIMIT = 200
# Storage-specific behaviour (JSON columns, ordering, tenancy, deletes) runs on both
# databases; parsing and HTTP details, which no database changes, run on SQLite only.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"max_upload_bytes": UPLOAD_LIMIT, "max_file_lines": LINE_LIMIT})


@pytest.fixture
def platform(platform: Platform) -> Platform:
    """The shared platform, plus the files router and service until app.py registers them."""
    app = platform.client.app
    services = app.state.services
    if getattr(services, "files", None) is None:
        services.files = FilesService.from_settings(services.db, platform.settings, services.catalog)
    if not any(getattr(route, "path", None) == "/v1/files" for route in app.routes):
        app.include_router(files_router)
    return platform


def chat(user: str, answer: str | None = "ok") -> str:
    messages = [{"role": "user", "content": user}]
    if answer is not None:
        messages.append({"role": "assistant", "content": answer})
    return json.dumps({"messages": messages})


def jsonl(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


GOOD = jsonl(*(chat(f"question {i}", f"answer {i}") for i in range(10)))


def upload(
    platform: Platform,
    data: bytes,
    *,
    purpose: str = "fine-tune",
    filename: str = "data.jsonl",
    key: str | None = None,
) -> httpx.Response:
    return platform.client.post(
        "/v1/files",
        files={"file": (filename, data)},
        data={"purpose": purpose},
        headers=platform.headers(key),
    )


def uploaded(platform: Platform, data: bytes = GOOD, **kwargs: str) -> dict:
    response = upload(platform, data, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def listed_ids(platform: Platform, key: str | None = None, **params: str) -> list[str]:
    response = platform.client.get("/v1/files", params=params, headers=platform.headers(key))
    assert response.status_code == 200, response.text
    return [f["id"] for f in response.json()["data"]]


# -- OpenAI shapes -------------------------------------------------------------
def test_upload_returns_openai_file_object(platform: Platform) -> None:
    created = uploaded(platform)
    assert created["object"] == "file" and created["id"].startswith("file-")
    assert (created["bytes"], created["filename"], created["purpose"]) == (
        len(GOOD),
        "data.jsonl",
        "fine-tune",
    )
    assert created["status"] == "processed" and created["status_details"] is None
    assert isinstance(created["created_at"], int)
    assert (created["format"], created["examples"], created["problems"]) == ("chat", 10, [])
    assert created["stats"]["examples"] == 10 and created["stats"]["token_counts_estimated"] is True
    assert created["stats"]["estimated_training_tokens"] > 0

    fetched = platform.client.get(f"/v1/files/{created['id']}", headers=platform.headers())
    assert fetched.status_code == 200 and fetched.json() == created
    content = platform.client.get(f"/v1/files/{created['id']}/content", headers=platform.headers())
    assert content.status_code == 200 and content.content == GOOD

    page = platform.client.get("/v1/files", headers=platform.headers()).json()
    assert page["object"] == "list" and [f["id"] for f in page["data"]] == [created["id"]]

    deleted = platform.client.delete(f"/v1/files/{created['id']}", headers=platform.headers())
    assert deleted.json() == {"id": created["id"], "object": "file", "deleted": True}
    assert listed_ids(platform) == []
    gone = platform.client.get(f"/v1/files/{created['id']}", headers=platform.headers())
    assert gone.status_code == 404 and gone.json()["error"]["type"] == "not_found_error"


def test_list_filters_by_purpose_and_pages(platform: Platform) -> None:
    tune = [uploaded(platform)["id"] for _ in range(3)]
    evals = uploaded(platform, jsonl(chat("judge me", None)), purpose="evals")["id"]
    assert set(listed_ids(platform, purpose="fine-tune")) == set(tune)
    assert listed_ids(platform, purpose="evals") == [evals]
    everything = listed_ids(platform)
    first = platform.client.get("/v1/files", params={"limit": 2}, headers=platform.headers()).json()
    assert first["has_more"] is True and [f["id"] for f in first["data"]] == everything[:2]
    rest = platform.client.get(
        "/v1/files", params={"after": first["last_id"]}, headers=platform.headers()
    ).json()
    assert [f["id"] for f in rest["data"]] == everything[2:] and rest["has_more"] is False


# -- bad lines -----------------------------------------------------------------
BAD_LINES = {
    2: ("invalid_json", "{not json"),
    3: ("invalid_shape", "[1, 2, 3]"),
    4: ("missing_assistant", chat("no answer here", None)),
    5: ("empty_content", chat("   ", "ok")),
    6: ("unknown_role", json.dumps({"messages": [{"role": "robot", "content": "beep"}]})),
    7: ("duplicate", chat("question 0", "answer 0")),
}


def test_each_kind_of_bad_line_is_reported_with_its_line_number(platform: Platform) -> None:
    lines = [chat("question 0", "answer 0")] + [BAD_LINES[n][1] for n in sorted(BAD_LINES)]
    lines.append(chat("question 8", "answer 8"))
    created = uploaded(platform, jsonl(*lines))
    problems = {p["line"]: p for p in created["problems"]}
    assert {n: p["code"] for n, p in problems.items()} == {n: code for n, (code, _) in BAD_LINES.items()}
    assert "line 1" in problems[7]["message"]
    assert created["examples"] == 2 and created["status"] == "processed"
    assert "6 line(s) dropped" in created["status_details"]
    # Only the usable examples reach the trainer.
    examples = platform.client.app.state.services.files.examples(_tenant_id(platform), created["id"])
    assert [e[0].content for e in examples] == ["question 0", "question 8"]


def test_a_file_with_only_bad_lines_is_rejected_and_not_stored(platform: Platform) -> None:
    data = jsonl("{broken", chat("no answer", None), "42")
    response = upload(platform, data)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "file" and error["code"] == "invalid_file"
    for fragment in (
        "line 1: not valid JSON",
        "line 2: missing assistant turn",
        "line 3: expected a JSON object",
    ):
        assert fragment in error["message"]
    assert listed_ids(platform) == []
    assert not any(p.is_file() for p in platform.settings.files_dir.rglob("*"))


@sqlite_only
def test_empty_file_and_bad_purpose_are_400(platform: Platform) -> None:
    assert upload(platform, b"").status_code == 400
    response = upload(platform, GOOD, purpose="assistants")
    assert response.status_code == 400 and response.json()["error"]["param"] == "purpose"
    missing = platform.client.post("/v1/files", files={"file": ("a.jsonl", GOOD)}, headers=platform.headers())
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "purpose"
    not_form = platform.client.post("/v1/files", json={"purpose": "fine-tune"}, headers=platform.headers())
    assert not_form.status_code == 400


@sqlite_only
def test_evals_files_may_leave_out_the_answer(platform: Platform) -> None:
    created = uploaded(platform, jsonl(chat("grade this", None), chat("and this", "ref")), purpose="evals")
    assert created["examples"] == 2 and created["problems"] == []
    assert created["stats"]["with_answer"] == 1


@sqlite_only
def test_csv_and_prompt_completion_are_converted_to_chat(platform: Platform) -> None:
    csv = '\ufeffprompt,completion\n"Capital of France?","Paris"\n"Two\nlines",two\n'.encode()
    pairs = jsonl(
        json.dumps({"prompt": "1+1?", "completion": "2"}), json.dumps({"prompt": "x", "completion": "y"})
    )
    services = platform.client.app.state.services
    for data, name, expected_format in ((csv, "data.csv", "csv"), (pairs, "pc.jsonl", "prompt_completion")):
        created = uploaded(platform, data, filename=name)
        assert created["format"] == expected_format and created["examples"] == 2
        examples = services.files.examples(_tenant_id(platform), created["id"])
        assert [[m.role for m in e] for e in examples] == [["user", "assistant"]] * 2
        # The raw upload is what content returns; the conversion is what training reads.
        content = platform.client.get(f"/v1/files/{created['id']}/content", headers=platform.headers())
        assert content.content == data
    assert examples[0][0].content == "1+1?"


# -- limits --------------------------------------------------------------------
def test_oversize_upload_is_413_and_not_stored(platform: Platform) -> None:
    line = chat("x" * 1000, "y")
    data = jsonl(*(line.replace("x", str(i % 10), 1) for i in range(UPLOAD_LIMIT // 1000 + 5)))
    assert len(data) > UPLOAD_LIMIT
    response = upload(platform, data)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert listed_ids(platform) == []


@sqlite_only
def test_oversize_body_without_length_is_cut_off_while_reading(platform: Platform) -> None:
    def chunks():  # a generator body: sent chunked, no Content-Length to check up front
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.jsonl"\r\n\r\n'
        for _ in range(UPLOAD_LIMIT // 1024 + 100):
            yield b"x" * 1024
        yield b"\r\n--b--\r\n"

    headers = {**platform.headers(), "content-type": "multipart/form-data; boundary=b"}
    response = platform.client.post("/v1/files", content=chunks(), headers=headers)
    assert response.status_code == 413


@sqlite_only
def test_too_many_lines_is_400_with_a_clear_message(platform: Platform) -> None:
    data = jsonl(*(chat(f"q{i}", "a") for i in range(LINE_LIMIT + 1)))
    response = upload(platform, data)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "too_many_lines" and str(LINE_LIMIT) in error["message"]


# -- split -----------------------------------------------------------------------
def test_split_is_reproducible_with_a_seed(platform: Platform) -> None:
    data = jsonl(*(chat(f"question {i}", f"answer {i}") for i in range(20)))
    source = uploaded(platform, data, filename="qa.jsonl")
    body = {"train": 0.8, "validation": 0.1, "test": 0.1, "seed": 7}

    def contents(parts: list[dict]) -> list[bytes]:
        return [
            platform.client.get(f"/v1/files/{p['id']}/content", headers=platform.headers()).content
            for p in parts
        ]

    first = platform.client.post(f"/v1/files/{source['id']}/split", json=body, headers=platform.headers())
    assert first.status_code == 200, first.text
    parts = first.json()["data"]
    assert [p["filename"] for p in parts] == ["qa.train.jsonl", "qa.validation.jsonl", "qa.test.jsonl"]
    assert [p["examples"] for p in parts] == [16, 2, 2]
    assert all(p["purpose"] == "fine-tune" and p["format"] == "chat" for p in parts)
    again = platform.client.post(f"/v1/files/{source['id']}/split", json=body, headers=platform.headers())
    assert contents(again.json()["data"]) == contents(parts)
    other = platform.client.post(
        f"/v1/files/{source['id']}/split", json={**body, "seed": 8}, headers=platform.headers()
    )
    assert contents(other.json()["data"]) != contents(parts)


@sqlite_only
def test_split_rejects_bad_ratios(platform: Platform) -> None:
    source = uploaded(platform)
    response = platform.client.post(
        f"/v1/files/{source['id']}/split",
        json={"train": 0.5, "validation": 0.1, "test": 0.1},
        headers=platform.headers(),
    )
    assert response.status_code == 400 and "add up to 1" in response.json()["error"]["message"]


# -- tenancy and disk ------------------------------------------------------------
def test_another_tenants_file_is_404_everywhere(platform: Platform) -> None:
    mine = uploaded(platform)["id"]
    other = platform.new_tenant("globex")
    nowhere = "file-000000000000000000000000"
    requests = [
        ("GET", "/v1/files/{}", None),
        ("GET", "/v1/files/{}/content", None),
        ("POST", "/v1/files/{}/split", {"train": 0.5, "validation": 0.5, "test": 0}),
        ("POST", "/v1/files/{}/validate", {"model": "gemma-3-270m"}),
        ("DELETE", "/v1/files/{}", None),
    ]
    headers = platform.headers(other)
    for method, path, body in requests:
        theirs = platform.client.request(method, path.format(mine), json=body, headers=headers)
        missing = platform.client.request(method, path.format(nowhere), json=body, headers=headers)
        assert theirs.status_code == missing.status_code == 404, (method, path, theirs.text)
        assert theirs.json()["error"]["code"] == missing.json()["error"]["code"]
    assert listed_ids(platform, other) == []
    assert listed_ids(platform) == [mine]  # still there: the other tenant's delete did nothing


@sqlite_only
def test_uploaded_filenames_never_reach_the_disk(platform: Platform) -> None:
    names = ["../../etc/passwd", "..\\..\\boot.ini", "evil\nname.jsonl", "/tmp/abs.jsonl"]
    ids = [uploaded(platform, filename=name)["id"] for name in names]
    # httpx percent-encodes control characters, so send a raw NUL and newline by hand.
    raw = (
        b'--b\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nfine-tune\r\n'
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="nul\x00and\nnewline.jsonl"\r\n\r\n'
        + GOOD
        + b"\r\n--b--\r\n"
    )
    headers = {**platform.headers(), "content-type": "multipart/form-data; boundary=b"}
    response = platform.client.post("/v1/files", content=raw, headers=headers)
    assert response.status_code in (200, 400), response.text
    if response.status_code == 200:
        ids.append(response.json()["id"])
        assert not any(ch in response.json()["filename"] for ch in "\x00\n/")

    # Only generated names exist under files_dir: <tenant id>/<file id>/{upload,examples.jsonl}.
    tenant = _tenant_id(platform)
    for root, dirs, files in os.walk(platform.settings.files_dir):
        depth = len(Path(root).relative_to(platform.settings.files_dir).parts)
        expected_dirs = {0: {tenant}, 1: set(ids)}.get(depth, set())
        assert set(dirs) == expected_dirs, (root, dirs)
        assert sorted(files) == (["examples.jsonl", "upload"] if depth == 2 else []), (root, files)
    assert not (platform.settings.home / "etc").exists() and not Path("/tmp/abs.jsonl").exists()
    filenames = {
        f["filename"] for f in platform.client.get("/v1/files", headers=platform.headers()).json()["data"]
    }
    assert "passwd" in filenames and not any("/" in f or "\\" in f or "\n" in f for f in filenames)


def _tenant_id(platform: Platform) -> str:
    return platform.client.app.state.services.tenancy.authenticate(platform.tenant_key).tenant_id


# -- validate against a model ----------------------------------------------------
def _register(platform: Platform, body: dict) -> None:
    response = platform.client.post("/v1/models", json=body, headers=platform.headers(platform.admin_key))
    assert response.status_code == 201, response.text


@sqlite_only
def test_validate_uses_the_models_tokenizer_and_context(platform: Platform, tiny_model_dir: Path) -> None:
    _register(platform, {"kind": "local", "id": "tiny", "path": str(tiny_model_dir), "context_length": 64})
    long_line = chat("The quick brown fox jumps over the lazy dog. " * 20, "ok")
    created = uploaded(platform, jsonl(chat("Hi", "Hello!"), long_line, chat("Hi", "Hello!")))
    assert created["problems"] == [{"line": 3, "code": "duplicate", "message": "duplicate of line 1"}]

    response = platform.client.post(
        f"/v1/files/{created['id']}/validate", json={"model": "tiny"}, headers=platform.headers()
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["object"] == "file.validation" and report["token_counter"] == "tokenizer"
    assert (report["model"], report["context_length"], report["examples"]) == ("tiny", 64, 1)
    codes = {p["line"]: p["code"] for p in report["problems"]}
    assert codes == {2: "too_long", 3: "duplicate"}
    assert report["stats"]["token_counts_estimated"] is False
    assert "tiny" in report["note"] and str(tiny_model_dir) not in response.text
    # Validation reports; it does not change the stored file.
    stored = platform.client.get(f"/v1/files/{created['id']}", headers=platform.headers()).json()
    assert stored["examples"] == 2


@sqlite_only
def test_validate_falls_back_to_an_estimate_and_says_so(platform: Platform) -> None:
    remote = {
        "kind": "remote",
        "id": "far-away",
        "base_url": "http://127.0.0.1:9/v1",
        "upstream_model": "m",
        "context_length": 40,
    }
    platform.allow_outbound("127.0.0.1:9")
    _register(platform, remote)
    created = uploaded(platform, jsonl(chat("short", "ok"), chat("long " * 200, "ok")))
    report = platform.client.post(
        f"/v1/files/{created['id']}/validate", json={"model": "far-away"}, headers=platform.headers()
    ).json()
    assert report["token_counter"] == "estimate" and "estimate" in report["note"]
    assert report["stats"]["token_counts_estimated"] is True
    assert [(p["line"], p["code"]) for p in report["problems"]] == [(2, "too_long")]
    assert "about" in report["problems"][0]["message"]
    unknown = platform.client.post(
        f"/v1/files/{created['id']}/validate", json={"model": "nope"}, headers=platform.headers()
    )
    assert unknown.status_code == 404 and unknown.json()["error"]["param"] == "model"


# -- the official SDK --------------------------------------------------------------
@sqlite_only
def test_openai_sdk_uploads_lists_retrieves_downloads_and_deletes(platform: Platform, tmp_path: Path) -> None:
    """In-process (the SDK over the test client's transport); tests/integration repeats it over TCP."""
    from openai import OpenAI

    client = OpenAI(base_url="http://testserver/v1", api_key=platform.tenant_key, http_client=platform.client)
    path = tmp_path / "train.jsonl"
    path.write_bytes(GOOD)
    with path.open("rb") as handle:
        created = client.files.create(file=handle, purpose="fine-tune")
    assert created.id.startswith("file-") and created.filename == "train.jsonl" and created.bytes == len(GOOD)
    assert created.status == "processed"
    assert [f.id for f in client.files.list()] == [created.id]
    assert [f.id for f in client.files.list(purpose="fine-tune")] == [created.id]
    assert client.files.retrieve(created.id).purpose == "fine-tune"
    assert client.files.content(created.id).read() == GOOD
    assert client.files.delete(created.id).deleted is True
    assert list(client.files.list()) == []
