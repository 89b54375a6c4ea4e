"""The model plaza over HTTP: cards, registration rules, secrets at rest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from modelyard.store import Database
from tests.conftest import Platform


def _folder(tmp_path: Path, *, weights: str = "safetensors", config: dict | None = None) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(config or {"max_position_embeddings": 128}))
    if weights == "safetensors":
        import torch
        from safetensors.torch import save_file

        save_file({"w": torch.zeros(3, 4), "b": torch.zeros(5)}, str(folder / "model.safetensors"))
    else:
        (folder / "pytorch_model.bin").write_bytes(b"\x80\x04not really")
    return folder


def test_builtin_models_have_cards(platform: Platform) -> None:
    models = {
        m["id"]: m for m in platform.client.get("/v1/models", headers=platform.headers()).json()["data"]
    }
    gemma, minilm = models["gemma-3-270m"], models["all-minilm-l6-v2"]
    assert gemma["object"] == "model" and gemma["card"]["task"] == "chat"
    assert minilm["card"]["task"] == "embedding"
    for card in (gemma["card"], minilm["card"]):
        assert {
            "provider",
            "parameters",
            "context_length",
            "licence",
            "price_input_per_1k",
            "price_output_per_1k",
            "price_training_per_1k",
            "tags",
            "status",
        } <= set(card)
        assert card["parameters"] > 1_000_000 and card["context_length"] > 0
    assert "source" not in json.dumps(gemma) and "/" not in json.dumps(gemma["card"]["tags"])


def test_unknown_model_is_404(platform: Platform) -> None:
    response = platform.client.get("/v1/models/nope", headers=platform.headers())
    assert response.status_code == 404 and response.json()["error"]["param"] == "model"


def test_register_local_folder_counts_parameters(platform: Platform, tmp_path: Path) -> None:
    body = {
        "kind": "local",
        "id": "my-local",
        "path": str(_folder(tmp_path)),
        "licence": "mit",
        "price_input_per_1k": 0.5,
        "price_training_per_1k": 3.0,
    }
    response = platform.client.post("/v1/models", json=body, headers=platform.headers(platform.admin_key))
    assert response.status_code == 201, response.text
    card = response.json()["card"]
    assert (card["parameters"], card["context_length"], card["licence"]) == (17, 128, "mit")
    assert (card["price_input_per_1k"], card["price_training_per_1k"]) == (0.5, 3.0)
    assert str(tmp_path) not in response.text
    listed = platform.client.get("/v1/models", headers=platform.headers()).json()["data"]
    assert "my-local" in [m["id"] for m in listed]
    again = platform.client.post("/v1/models", json=body, headers=platform.headers(platform.admin_key))
    assert again.status_code == 409


def test_pickle_weights_are_refused(platform: Platform, tmp_path: Path) -> None:
    body = {"kind": "local", "id": "pickled", "path": str(_folder(tmp_path, weights="bin"))}
    response = platform.client.post("/v1/models", json=body, headers=platform.headers(platform.admin_key))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "unsafe_weights" and "safetensors" in error["message"]
    assert str(tmp_path) not in error["message"]


def test_remote_code_is_refused(platform: Platform, tmp_path: Path) -> None:
    folder = _folder(tmp_path, config={"auto_map": {"AutoModel": "modeling_x.X"}})
    body = {"kind": "local", "id": "custom", "path": str(folder)}
    response = platform.client.post("/v1/models", json=body, headers=platform.headers(platform.admin_key))
    assert response.status_code == 400 and response.json()["error"]["code"] == "remote_code_refused"


def test_remote_provider_key_is_encrypted_at_rest(platform: Platform) -> None:
    secret = "sk-provider-canary-1234567890"
    body = {
        "kind": "remote",
        "id": "remote-chat",
        "base_url": "http://127.0.0.1:9/v1",
        "upstream_model": "gpt-x",
        "api_key": secret,
        "price_output_per_1k": 2.0,
    }
    platform.allow_outbound("127.0.0.1:9")
    response = platform.client.post("/v1/models", json=body, headers=platform.headers(platform.admin_key))
    assert response.status_code == 201, response.text
    assert secret not in response.text
    db = Database(platform.settings.resolved_database_url)
    with db.engine.connect() as conn:
        dump = " ".join(str(row) for row in conn.execute(text("select * from models")))
    db.dispose()
    assert "remote-chat" in dump and secret not in dump
    shown = platform.client.get("/v1/models/remote-chat", headers=platform.headers())
    assert secret not in shown.text and shown.json()["card"]["price_output_per_1k"] == 2.0


def test_only_admins_register_or_remove(platform: Platform, tmp_path: Path) -> None:
    body = {"kind": "local", "id": "mine", "path": str(_folder(tmp_path))}
    assert platform.client.post("/v1/models", json=body, headers=platform.headers()).status_code == 403
    assert platform.client.delete("/v1/models/gemma-3-270m", headers=platform.headers()).status_code == 403


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"kind": "local", "id": "x", "path": "relative/path"}, "path"),
        ({"kind": "remote", "id": "x", "base_url": "not a url", "upstream_model": "m"}, "remote.base_url"),
        ({"kind": "local", "id": "bad id!", "path": "/tmp"}, "local.id"),
        ({"kind": "local", "id": "x", "path": "/tmp", "owner": "someone"}, "local.owner"),
        # Found by the fuzzer: numbers past what a database column (or JSON) can hold.
        ({"kind": "local", "id": "x", "path": "/tmp", "context_length": 10**22}, "local.context_length"),
        (
            {"kind": "local", "id": "x", "path": "/tmp", "price_input_per_1k": 1e308},
            "local.price_input_per_1k",
        ),  # noqa: E501
    ],
)
def test_bad_registration_names_the_field(platform: Platform, body: dict, param: str) -> None:
    response = platform.client.post("/v1/models", json=body, headers=platform.headers(platform.admin_key))
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param
