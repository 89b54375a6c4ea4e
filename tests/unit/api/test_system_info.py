"""GET /v1/admin/system: the CPU and the number formats chosen on it, for admins only."""

from __future__ import annotations

from tests.conftest import Platform


def test_admins_see_the_cpu_and_the_measured_choice(platform: Platform) -> None:
    response = platform.client.get("/v1/admin/system", headers=platform.headers(platform.admin_key))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["configured"] == {"torch_dtype": "auto", "train_dtype": "auto"}
    report = body["number_formats"]
    assert report["cpu"]["torch_version"].startswith("2.")
    assert report["cpu"]["description"]
    choice = report["choice"]
    assert body["serving_dtype"] == choice["serve"] in ("float32", "bfloat16")
    assert body["training_dtype"] == choice["train"] in ("float32", "bfloat16")
    assert body["evaluation_dtype"] == choice["batch"] in ("float32", "bfloat16")
    assert choice["batch_reason"]
    assert set(choice["figures"]) == {"decode", "batched_decode", "prefill", "train"}
    assert choice["serve_reason"]
    assert body["torch_threads"] >= 1 and body["cores_available"] >= 1
    # No path of the server's machine in an answer (the home is private).
    assert str(platform.settings.home) not in response.text


def test_tenants_cannot_read_it(platform: Platform) -> None:
    response = platform.client.get("/v1/admin/system", headers=platform.headers())
    assert response.status_code == 403
