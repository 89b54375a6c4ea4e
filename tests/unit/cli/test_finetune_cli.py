"""`modelyard finetune estimate` and the job list's phase, against the in-process app."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from modelyard.cli import finetune as finetune_cli
from tests.conftest import Platform
from tests.helpers.cli import in_process
from tests.unit.api.test_fine_tuning_publish import JOBS, _job_body, _register_tiny, _upload

runner = CliRunner()
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def cli(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> Platform:
    monkeypatch.setattr(finetune_cli, "_client", in_process(platform, platform.tenant_key))
    return platform


@sqlite_only
def test_estimate_prints_tokens_time_and_cost(cli: Platform, tiny_model_dir: Path) -> None:
    _register_tiny(cli, tiny_model_dir)
    file_id = _upload(cli)
    expected = cli.client.post(
        "/v1/fine_tuning/estimates", json=_job_body(file_id), headers=cli.headers()
    ).json()
    args = ["estimate", "--model", "tiny", "--training-file", file_id, "--epochs", "2"]
    result = runner.invoke(finetune_cli.finetune_app, args)
    assert result.exit_code == 0, result.output
    assert f"12 examples x 2 epochs: {expected['trained_tokens']:,} tokens to train" in result.output
    assert f"Cost: ${expected['cost']:.4f}" in result.output
    assert "Time:" in result.output


@sqlite_only
def test_the_job_list_names_a_queued_jobs_phase(cli: Platform, tiny_model_dir: Path) -> None:
    _register_tiny(cli, tiny_model_dir)
    job = cli.client.post(JOBS, json=_job_body(_upload(cli)), headers=cli.headers()).json()
    listed = cli.client.get(JOBS, headers=cli.headers()).json()["data"]
    assert [(j["id"], j["phase"]) for j in listed] == [(job["id"], "queued")]
    result = runner.invoke(finetune_cli.finetune_app, ["list"])
    assert result.exit_code == 0, result.output
    assert job["id"] in result.output
