"""Providers cannot squat model ids: ``ft:`` is the platform's, and look-alike ids are refused."""

from __future__ import annotations

import pytest

from modelyard.catalog.names import check_not_confusable, check_registrable, name_key
from modelyard.errors import Conflict, InvalidRequest
from tests.conftest import Platform
from tests.helpers.trust import add_model, issue

REMOTE = {"kind": "remote", "base_url": "https://llm.example.com/v1", "upstream_model": "m"}
SQUATTED_FT = "ft:gemma-3-270m:alpha:sales:1a2b3c4d"


def _publish(platform: Platform, key: str, model_id: str):
    return platform.client.post("/v1/models", json={**REMOTE, "id": model_id}, headers=platform.headers(key))


@pytest.fixture
def provider(platform: Platform) -> str:
    platform.new_tenant("squatter")
    return issue(platform, "squatter", role="provider")["key"]


def test_nobody_registers_an_id_in_the_fine_tune_namespace(platform: Platform, provider: str) -> None:
    for key in (provider, platform.admin_key):
        for model_id in (SQUATTED_FT, "FT:gemma-3-270m:alpha:x:1", "Ft:anything"):
            response = _publish(platform, key, model_id)
            assert response.status_code == 400, (model_id, response.text)
            assert response.json()["error"]["code"] == "model_id_reserved"
    # A key limited to the tenant's fine-tunes sees and reaches nothing of the provider's.
    limited = issue(platform, "acme", allowed_models=["ft:*"])["key"]
    listed = platform.client.get("/v1/models", headers=platform.headers(limited)).json()["data"]
    assert listed == []
    body = {"model": SQUATTED_FT, "messages": [{"role": "user", "content": "secret prompt"}]}
    called = platform.client.post("/v1/chat/completions", json=body, headers=platform.headers(limited))
    assert called.status_code == 404


def test_an_id_equal_to_an_existing_one_but_for_case_is_refused(platform: Platform, provider: str) -> None:
    add_model(platform, "mock-fast")
    for model_id in ("Mock-Fast", "MOCK-FAST", "Gemma-3-270M"):
        response = _publish(platform, provider, model_id)
        assert response.status_code == 409, (model_id, response.text)
        assert response.json()["error"]["code"] == "model_id_confusable"
    assert _publish(platform, provider, "mock-fast-2").status_code == 201
    # The first of two look-alikes wins, whoever registers it.
    assert _publish(platform, platform.admin_key, "MOCK-FAST-2").status_code == 409


def test_ids_are_compared_after_nfkc_and_case_folding() -> None:
    assert name_key("ｍｏｃｋ-Ｆａｓｔ") == name_key("mock-fast") == name_key("MOCK-FAST")
    assert name_key("Straße") == name_key("STRASSE")
    with pytest.raises(Conflict):
        check_not_confusable("ｍｏｃｋ-fast", ["gemma-3-270m", "mock-fast"])
    check_not_confusable("mock-fast", ["mock-fast"])  # the same id is the exact-duplicate check's job
    with pytest.raises(InvalidRequest):
        check_registrable("ｆｔ:x")
    check_registrable("gift:x")
