"""Item 2 (and 14) of issue 12: the card says whether a model continues text or answers, and a
fine-tune's card drops its base's "base-model" tag and links its job, data and evaluations."""

from __future__ import annotations

from modelyard.store import Database, ModelRecord
from modelyard.store.tables import Evaluation
from tests.conftest import Platform

FT = "ft:gemma-3-270m:acme:abc123"


def _cards(platform: Platform, key: str | None = None) -> dict[str, dict]:
    response = platform.client.get("/v1/models", headers=platform.headers(key))
    assert response.status_code == 200, response.text
    return {m["id"]: m["card"] for m in response.json()["data"]}


def _tenant_id(platform: Platform, key: str) -> str:
    return platform.client.app.state.services.tenancy.authenticate(key).tenant_id


def _seed(platform: Platform, acme: str, globex: str) -> None:
    db = Database(platform.settings.resolved_database_url)
    with db.session() as session:
        session.add(
            ModelRecord(
                id=FT, owner_tenant_id=acme, backend="transformers", task="chat", provider="google",
                source={"builtin": "gemma-3-270m", "adapter": "/nowhere", "base_model": "gemma-3-270m"},
                tags=["local", "text-generation", "base-model", "cpu", "fine-tuned"], description="",
                lineage={"base_model": "gemma-3-270m", "job": "ftjob-1", "training_file": "file-train",
                         "validation_file": None, "hyperparameters": {"n_epochs": 2}},
            )
        )  # fmt: skip
        for evaluation_id, tenant in (("eval-mine", acme), ("eval-theirs", globex)):
            session.add(
                Evaluation(
                    id=evaluation_id, tenant_id=tenant, key_id="k", file_id="f", status="succeeded",
                    models=[FT, "gemma-3-270m"],
                )
            )  # fmt: skip
        session.add(Evaluation(id="eval-other", tenant_id=acme, key_id="k", file_id="f", status="queued"))
    db.dispose()


def test_builtin_kinds(platform: Platform) -> None:
    cards = _cards(platform)
    assert cards["gemma-3-270m"]["kind"] == "base" and "base-model" in cards["gemma-3-270m"]["tags"]
    assert cards["all-minilm-l6-v2"]["kind"] == "embedding"
    assert cards["gemma-3-270m"]["lineage"] is None


def test_a_fine_tune_is_instruction_tuned_with_its_lineage(platform: Platform) -> None:
    globex_key = platform.new_tenant("globex")
    _seed(platform, _tenant_id(platform, platform.tenant_key), _tenant_id(platform, globex_key))
    card = _cards(platform)[FT]
    assert card["kind"] == "instruct"
    assert "base-model" not in card["tags"] and "fine-tuned" in card["tags"]
    lineage = card["lineage"]
    assert (lineage["base_model"], lineage["job"], lineage["training_file"]) == (
        "gemma-3-270m",
        "ftjob-1",
        "file-train",
    )
    # Its own tenant's evaluations only, never another tenant's that named the same id.
    assert lineage["evaluations"] == ["eval-mine"]
    single = platform.client.get(f"/v1/models/{FT}", headers=platform.headers()).json()["card"]
    assert single["lineage"]["evaluations"] == ["eval-mine"]
    assert FT not in _cards(platform, globex_key)
    assert "eval-mine" not in platform.client.get("/v1/models", headers=platform.headers(globex_key)).text
