"""The CLI against a real server: tenants, keys, models, chat."""

from __future__ import annotations

import httpx

from modelyard.tenancy.keys import KEY_PATTERN
from tests.helpers.deadlines import scaled
from tests.integration.conftest import LiveServer


def _works(server: LiveServer, key: str) -> bool:
    headers = {"Authorization": f"Bearer {key}"}
    response = httpx.get(f"{server.base_url}/v1/models", headers=headers, timeout=scaled(60))
    return response.status_code == 200


def test_first_serve_created_an_admin_key_and_said_where(live_server: LiveServer) -> None:
    log = (live_server.home / "server.log").read_text()
    assert str(live_server.home / "admin.key") in log
    assert live_server.admin_key not in log
    assert _works(live_server, live_server.admin_key)


def test_tenants_create_prints_the_key_last(live_server: LiveServer) -> None:
    result = live_server.cli("tenants", "create", "cli-tenant")
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip().splitlines()[-1]
    assert KEY_PATTERN.match(key) and _works(live_server, key)
    listed = live_server.cli("tenants", "list")
    assert "cli-tenant" in listed.stdout


def test_keys_create_prints_the_key_last(live_server: LiveServer) -> None:
    live_server.cli("tenants", "create", "cli-keys")
    result = live_server.cli("keys", "create", "--tenant", "cli-keys")
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip().splitlines()[-1]
    assert KEY_PATTERN.match(key) and _works(live_server, key)
    key_id = key.split("-")[1]
    assert live_server.cli("keys", "revoke", key_id).returncode == 0
    assert not _works(live_server, key)


def test_cli_errors_are_clear(live_server: LiveServer) -> None:
    result = live_server.cli("keys", "create", "--tenant", "no-such-tenant")
    assert result.returncode == 1
    assert "404" in result.stderr and "no-such-tenant" in result.stderr
    assert "Traceback" not in result.stderr


def test_models_list_shows_the_plaza(live_server: LiveServer) -> None:
    result = live_server.cli("models", "list")
    assert result.returncode == 0, result.stderr
    assert "gemma-3-270m" in result.stdout and "all-minilm-l6-v2" in result.stdout


def test_models_add_and_chat_streams_from_stdin(live_server: LiveServer) -> None:
    from tests.helpers.mock_upstream import MockUpstream

    with MockUpstream() as upstream:
        # The mock's own port: a bare host would allow ports 80 and 443 only.
        allowed = live_server.cli("outbound", "allow", f"127.0.0.1:{upstream.port}")
        assert allowed.returncode == 0 and "127.0.0.1" in allowed.stdout, allowed.stderr
        env_key = {"MODELYARD_PROVIDER_KEY": "sk-cli-provider"}
        live_server.env.update(env_key)
        try:
            added = live_server.cli(
                "models",
                "add",
                "remote",
                "cli-remote",
                "--base-url",
                upstream.base_url,
                "--upstream-model",
                "mock-model",
                "--price-in",
                "0.5",
                "--tag",
                "mock",
            )
        finally:
            for name in env_key:
                live_server.env.pop(name)
        assert added.returncode == 0, added.stderr
        assert upstream.requests == []  # registering does not call the provider
        chatted = live_server.cli("chat", "cli-remote", stdin="hello cli\nsecond turn\n")
        assert chatted.returncode == 0, chatted.stderr
        assert "You said: hello cli" in chatted.stdout and "You said: second turn" in chatted.stdout
        assert upstream.last_request.headers["authorization"] == "Bearer sk-cli-provider"
        # the second turn carried the first answer as history
        assert len(upstream.last_request.json["messages"]) == 3
        shown = live_server.cli("models", "show", "cli-remote")
        assert '"price_input_per_1k": 0.5' in shown.stdout and "sk-cli-provider" not in shown.stdout


def test_finetune_commands(live_server: LiveServer, tiny_model_dir, tmp_path) -> None:  # noqa: ANN001
    import json

    live_server.cli("models", "add", "local", "tiny-cli", "--path", str(tiny_model_dir))
    data = tmp_path / "train.jsonl"
    rows = [
        {"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i % 2}"}]}
        for i in range(8)
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    uploaded = live_server.cli("files", "upload", str(data))
    assert uploaded.returncode == 0, uploaded.stderr
    file_id = uploaded.stdout.strip().splitlines()[-1]
    created = live_server.cli(
        "finetune",
        "create",
        "--model",
        "tiny-cli",
        "--training-file",
        file_id,
        "--epochs",
        "1",
        "--batch-size",
        "4",
        "--suffix",
        "cli",
        "--no-follow",
    )
    assert created.returncode == 0, created.stderr
    job_id = created.stdout.strip().splitlines()[-1]
    assert job_id.startswith("ftjob-")
    followed = live_server.cli("finetune", "events", job_id, "--follow")
    assert followed.returncode == 0, followed.stderr
    assert "Fine-tuned model: ft:tiny-cli:platform:cli:" in followed.stdout
    assert "Created fine-tuning job" in followed.stdout
    assert job_id in live_server.cli("finetune", "list").stdout
    assert '"status": "succeeded"' in live_server.cli("finetune", "show", job_id).stdout
    assert "step" in live_server.cli("finetune", "checkpoints", job_id).stdout.lower()
    again = live_server.cli(
        "finetune", "create", "--model", "tiny-cli", "--training-file", file_id, "--no-follow"
    )
    second = again.stdout.strip().splitlines()[-1]
    cancelled = live_server.cli("finetune", "cancel", second)
    assert cancelled.returncode == 0 and "cancelled" in cancelled.stdout


def test_eval_run_prints_a_recommendation_and_saves_the_report(live_server: LiveServer, tmp_path) -> None:  # noqa: ANN001
    import json

    from tests.helpers.mock_upstream import MockUpstream

    with MockUpstream() as upstream:
        assert live_server.cli("outbound", "allow", f"127.0.0.1:{upstream.port}").returncode == 0
        for name in ("eval-a", "eval-b"):
            added = live_server.cli(
                "models",
                "add",
                "remote",
                name,
                "--base-url",
                upstream.base_url,
                "--upstream-model",
                "mock-model",
                "--price-out",
                "1" if name == "eval-a" else "2",
            )
            assert added.returncode == 0, added.stderr
        data = tmp_path / "heldout.jsonl"
        rows = [
            {
                "messages": [
                    {"role": "user", "content": f"x{i}"},
                    {"role": "assistant", "content": f"You said: x{i}"},
                ]
            }
            for i in range(5)
        ]
        data.write_text("".join(json.dumps(r) + "\n" for r in rows))
        out = tmp_path / "report.html"
        result = live_server.cli(
            "eval",
            "run",
            "--data",
            str(data),
            "--models",
            "eval-a,eval-b",
            "--metrics",
            "exact_match,token_f1",
            "--out",
            str(out),
        )
    assert result.returncode == 0, result.stderr
    assert "Best quality:" in result.stdout and "Cheapest within tolerance: eval-a" in result.stdout
    assert "100.0%" in result.stdout
    evaluation_id = result.stdout.strip().splitlines()[-1]
    assert evaluation_id.startswith("eval-") and "<svg" in out.read_text()
    listed = live_server.cli("eval", "list")
    assert evaluation_id in listed.stdout
    rated = live_server.cli(
        "eval", "rate", evaluation_id, "--item", "0", "--a", "eval-a", "--b", "eval-b", "--winner", "a"
    )
    assert rated.returncode == 0, rated.stderr
