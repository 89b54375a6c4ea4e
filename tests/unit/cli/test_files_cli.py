"""`modelyard files ...` against the in-process app, and local validation with no server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modelyard.api.files import router as files_router
from modelyard.cli import files as files_cli
from modelyard.files import FilesService
from tests.conftest import Platform
from tests.helpers.cli import in_process

runner = CliRunner()
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def qa(question: str, answer: str | None = "ok") -> str:
    turns = [{"role": "user", "content": question}] + (
        [{"role": "assistant", "content": answer}] if answer else []
    )
    return json.dumps({"messages": turns})


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    path = tmp_path / "data.jsonl"
    lines = [qa(f"question {i}", f"answer {i}") for i in range(10)] + ["{broken", qa("no answer", None)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def cli(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> Platform:
    """The CLI's HTTP client pointed at the in-process app (files router added until registered)."""
    app = platform.client.app
    services = app.state.services
    if getattr(services, "files", None) is None:
        services.files = FilesService.from_settings(services.db, platform.settings, services.catalog)
    if not any(getattr(route, "path", None) == "/v1/files" for route in app.routes):
        app.include_router(files_router)

    monkeypatch.setattr(files_cli, "_client", in_process(platform, platform.tenant_key))
    return platform


def test_local_validate_needs_no_server(dataset: Path) -> None:
    result = runner.invoke(files_cli.files_app, ["validate", str(dataset)])
    assert result.exit_code == 0, result.output
    assert "format: chat" in result.output and "10 examples" in result.output
    assert "line 11: not valid JSON" in result.output and "line 12: missing assistant turn" in result.output
    assert "(estimated)" in result.output


def test_local_validate_exits_1_when_rejected(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("{broken\n" + qa("no answer", None) + "\n")
    result = runner.invoke(files_cli.files_app, ["validate", str(path)])
    assert result.exit_code == 1 and "line 1: not valid JSON" in result.output
    evals = runner.invoke(files_cli.files_app, ["validate", str(path), "--purpose", "evals"])
    assert evals.exit_code == 0, evals.output


@sqlite_only
def test_upload_list_split_and_validate_by_id(cli: Platform, dataset: Path) -> None:
    uploaded = runner.invoke(files_cli.files_app, ["upload", str(dataset)])
    assert uploaded.exit_code == 0, uploaded.output
    lines = uploaded.output.strip().splitlines()
    file_id = lines[-1]
    assert file_id.startswith("file-")
    assert "2 line(s) were dropped" in uploaded.output and "line 11: not valid JSON" in uploaded.output

    listed = runner.invoke(files_cli.files_app, ["list"])
    assert listed.exit_code == 0 and file_id in listed.output and "data.jsonl" in listed.output

    split = runner.invoke(
        files_cli.files_app,
        ["split", file_id, "--train", ".8", "--validation", ".1", "--test", ".1", "--seed", "0"],
    )
    assert split.exit_code == 0, split.output
    assert [line.split()[1] for line in split.output.strip().splitlines()] == [
        "data.train.jsonl",
        "data.validation.jsonl",
        "data.test.jsonl",
    ]

    stored = runner.invoke(files_cli.files_app, ["validate", file_id])
    assert stored.exit_code == 0 and "line 12: missing assistant turn" in stored.output

    deleted = runner.invoke(files_cli.files_app, ["delete", file_id])
    assert deleted.exit_code == 0
    missing = runner.invoke(files_cli.files_app, ["show", file_id])
    assert missing.exit_code == 1 and "404" in missing.output
