"""`modelyard quotas` and `modelyard usage` against the in-process app."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from modelyard.cli import quotas as quotas_cli
from modelyard.cli import usage as usage_cli
from tests.conftest import Platform
from tests.helpers.cli import in_process

runner = CliRunner()
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
usage_app = typer.Typer()
usage_app.command()(usage_cli.usage)


def test_quotas_set_changes_only_the_named_limits(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(quotas_cli, "_client", in_process(platform, platform.admin_key))
    first = runner.invoke(quotas_cli.quotas_app, ["set", "--tenant", "acme", "--rpm", "10"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(
        quotas_cli.quotas_app, ["set", "--tenant", "acme", "--tpm", "5000", "--period", "day"]
    )
    assert second.exit_code == 0, second.output
    stored = platform.client.get("/v1/admin/quotas/tenants/acme").json()
    assert (stored["requests_per_minute"], stored["tokens_per_minute"], stored["budget_period"]) == (
        10,
        5000,
        "day",
    )
    shown = runner.invoke(quotas_cli.quotas_app, ["show", "--tenant", "acme"])
    assert "requests_per_minute" in shown.output and "5000" in shown.output
    reset = runner.invoke(quotas_cli.quotas_app, ["set", "--tenant", "acme", "--reset", "--max-jobs", "1"])
    assert reset.exit_code == 0
    stored = platform.client.get("/v1/admin/quotas/tenants/acme").json()
    assert stored["requests_per_minute"] is None and stored["max_concurrent_jobs"] == 1
    both = runner.invoke(quotas_cli.quotas_app, ["set", "--tenant", "acme", "--key", "k", "--rpm", "1"])
    assert both.exit_code == 1


def test_usage_prints_totals_and_writes_csv(
    platform: Platform, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(usage_cli, "_client", in_process(platform, platform.tenant_key))
    table = runner.invoke(usage_app, ["--by", "day,model"])
    assert table.exit_code == 0, table.output
    assert "Usage of acme" in table.output and "total" in table.output
    target = tmp_path / "usage.csv"
    written = runner.invoke(usage_app, ["--by", "model", "--csv", str(target)])
    assert written.exit_code == 0, written.output
    assert next(csv.reader(target.open())) == [
        "model",
        "requests",
        "prompt_tokens",
        "completion_tokens",
        "cost",
    ]
