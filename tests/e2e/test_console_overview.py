"""The admin Overview: the machine, and the number formats measured on it (serving, evaluations,
training), for admins only.

The shared console server pins float32 (its fine-tuning tests want exact numbers), so this
module starts its own, left to choose: ``auto`` for serving and training."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conftest import (
    NARROW,
    WIDE,
    Console,
    Recorder,
    clean,
    heading,
    missing_messages,
    nav,
    recording,
    shoot,
    sign_in,
)
from tests.helpers.browser import off_screen
from tests.integration.conftest import free_port, start_server

KINDS = ("prefill", "decode", "batched_decode", "train")
FORMATS = ("float32", "bfloat16")
FIGURE = re.compile(r"^(faster )?\d+\.\d+ ms$")
ZONE = "Europe/Berlin"  # not the machine's: the page must show the browser's own time zone


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    auto = {"MODELYARD_TORCH_DTYPE": "auto", "MODELYARD_TRAIN_DTYPE": "auto"}
    home = tmp_path_factory.mktemp("overview-home")
    with start_server(home, free_port(), worker=False, extra_env=auto) as server:
        created = Console(server, "", "").api("POST", "/v1/admin/tenants", json={"name": "initech"})
        assert created.status_code == 201, created.text
        yield Console(server, created.json()["key"]["key"], "")


@pytest.fixture
def berlin_page(chromium: Any, measured: Console) -> Iterator[tuple[Any, Recorder]]:
    with recording(chromium, measured, timezone_id=ZONE) as recorded:
        yield recorded


def test_admins_land_on_the_machine_and_its_number_formats(
    measured: Console, berlin_page: tuple[Any, Recorder]
) -> None:
    page, recorder = berlin_page
    sign_in(page, measured, measured.server.admin_key, landing="Overview")
    links = nav(page)
    assert links.index("Overview") + 1 == links.index("Tenants"), links  # first of the admin pages
    page.get_by_test_id("format-figures").wait_for()
    system = measured.api("GET", "/v1/admin/system").json()
    report, choice = system["number_formats"], system["number_formats"]["choice"]

    cpu = report["cpu"]
    assert page.get_by_test_id("cpu-description").inner_text() == cpu["description"]
    if cpu["flags"]:  # none of the relevant ones: the page says "none"
        assert page.get_by_test_id("cpu-flags").locator("li").all_inner_texts() == cpu["flags"]
    machine = page.locator(".panel", has=page.get_by_role("heading", name="Machine")).inner_text()
    assert cpu["torch_version"] in machine and f"{cpu['torch_capability']} kernels" in machine
    assert page.get_by_test_id("serving-dtype").inner_text() == system["serving_dtype"] == choice["serve"]
    assert page.get_by_test_id("training-dtype").inner_text() == system["training_dtype"] == choice["train"]
    # Evaluations run on the job worker's copy, which may use another format than serving's.
    evaluation = page.get_by_test_id("evaluation-dtype").inner_text()
    assert evaluation == system["evaluation_dtype"] == choice["batch"]
    assert choice["serve"] in FORMATS and choice["train"] in FORMATS and choice["batch"] in FORMATS
    formats = page.locator(".panel", has=page.get_by_role("heading", name="Number formats"))
    labels = formats.locator(".stat-label").all_text_contents()  # the source text, not CSS-cased
    assert labels == ["Serving", "Evaluations", "Training"], labels

    for kind in KINDS:
        row = page.get_by_test_id("format-figures").locator(f"tr[data-kind={kind}]")
        for fmt in FORMATS:
            cell = row.locator(f"td[data-format={fmt}]").inner_text().strip()
            assert FIGURE.match(cell), (kind, fmt, cell)
            milliseconds = float(cell.removeprefix("faster ").removesuffix(" ms"))
            assert milliseconds == pytest.approx(choice["figures"][kind][fmt] * 1000, rel=0.01, abs=0.001)
            assert cell.startswith("faster") == (choice["fastest"][kind] == fmt), (kind, fmt, cell)
    assert choice["serve_reason"] in page.get_by_test_id("serve-reason").inner_text()
    batch_reason = page.get_by_test_id("batch-reason").inner_text()
    assert choice["batch_reason"] in batch_reason and f"for evaluations: {choice['batch']}," in batch_reason
    assert choice["batch_seconds"].keys() == set(FORMATS)

    # When it was measured, in the browser's time zone, and whether it came from the cache.
    stamp = page.get_by_test_id("measured-at").inner_text()
    local = datetime.fromtimestamp(report["measured_at"], ZoneInfo(ZONE))
    offset = f"GMT+{local.utcoffset().seconds // 3600}"  # type: ignore[union-attr]
    zone_named = f"{local:%H:%M} {local.tzname()}" in stamp or f"{local:%H:%M} {offset}" in stamp
    assert zone_named and str(local.year) in stamp, stamp
    assert ("from the cache" in stamp) == report["from_cache"], stamp
    page.set_viewport_size({"width": 1280, "height": 1000})  # both panels in the screenshot
    shoot(page, "admin-overview")
    clean(recorder, measured.server.admin_key)


def test_a_tenant_key_has_no_overview(measured: Console, berlin_page: tuple[Any, Recorder]) -> None:
    page, recorder = berlin_page
    sign_in(page, measured, measured.acme_key)  # a tenant still lands on the model plaza
    assert "Overview" not in nav(page)
    page.goto(f"{measured.url}#/admin/overview")
    page.get_by_role("heading", name="Platform admins only").wait_for()
    assert page.get_by_test_id("format-figures").count() == 0
    assert measured.api("GET", "/v1/admin/system", measured.acme_key).status_code == 403
    clean(recorder, measured.acme_key)


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
@pytest.mark.parametrize("viewport", [WIDE, NARROW], ids=["wide", "narrow"])
def test_the_overview_shows_tenants_providers_and_the_audit_chain(
    chromium: Any, measured: Console, locale: str, viewport: dict[str, int]
) -> None:
    """Issue 12, item 4: tenants with their keys and this month's usage, providers with their
    models, and whether the audit chain holds, above the machine."""
    with recording(chromium, measured, locale=locale, viewport=viewport) as (page, recorder):
        sign_in(page, measured, measured.server.admin_key, landing=None)
        assert heading(page) == ("Overview" if locale == "en" else "概览")
        row = page.get_by_test_id("overview-tenants").locator("tr[data-tenant=initech]")
        row.wait_for()
        cells = row.locator("td").all_inner_texts()
        assert cells[0] == "initech" and cells[1] == "1", cells  # its first key, live
        facts = measured.api("GET", "/v1/admin/overview").json()
        initech = next(t for t in facts["tenants"] if t["name"] == "initech")
        assert initech["keys"] == 1 and initech["usage"]["requests"] == 0
        google = page.get_by_test_id("overview-providers").locator("li[data-provider=google]")
        assert "gemma-3-270m" in google.inner_text()
        chain = page.get_by_test_id("audit-chain").inner_text()
        assert chain == ("intact" if locale == "en" else "完整") and facts["audit"]["ok"] is True
        assert missing_messages(page) == []
        assert off_screen(page) == []
        if viewport == WIDE:
            shoot(page, "admin-overview-platform" if locale == "en" else "zh-admin-overview-platform")
        clean(recorder, measured.server.admin_key)
