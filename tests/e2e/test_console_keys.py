"""The keys page (issue 12 items 10 and 14): rotate and revoke confirm in the page's own dialog,
never the browser's confirm(); the rotate dialog offers the API's grace period for the old key.
In English and Chinese, at 1440x900 and 390x844.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import NARROW, WIDE, Console, Opener, missing_messages
from tests.helpers.browser import off_screen

CASES = [("en", WIDE), ("zh-CN", NARROW)]
ONE_DAY_S = 86400


def _key(console: Console, name: str) -> dict:
    response = console.api("POST", "/v1/keys", console.acme_admin_key, json={"name": name, "role": "member"})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize(("locale", "viewport"), CASES)
def test_rotate_offers_a_grace_period_and_revoke_asks_first(
    console: Console, open_console: Opener, locale: str, viewport: dict[str, int]
) -> None:
    old = _key(console, f"rotating-{locale}")
    doomed = _key(console, f"doomed-{locale}")
    page, _ = open_console(console.acme_admin_key, locale=locale, viewport=viewport, path="#/keys")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    table = page.get_by_test_id("keys-table")

    # Rotate, keeping the old key for a day.
    row = table.locator(f"tr[data-key-id='{old['id']}']")
    row.locator("button.secondary").click()
    dialog = page.get_by_test_id("confirm-dialog")
    dialog.wait_for()
    grace = dialog.get_by_test_id("grace-period")
    assert grace.locator("option").count() == 4
    grace.select_option(str(ONE_DAY_S))
    if viewport == NARROW:
        assert off_screen(page) == []
    page.get_by_test_id("confirm-yes").click()
    page.get_by_test_id("new-key").wait_for()
    new_key = page.get_by_test_id("new-key").locator("code").inner_text()
    assert console.api("GET", "/v1/me", new_key).status_code == 200
    me = console.api("GET", "/v1/me", old["key"])
    assert me.status_code == 200, "the old key works through its grace period"

    # Revoke: "no" keeps the key, "yes" revokes it.
    row = table.locator(f"tr[data-key-id='{doomed['id']}']")
    row.locator("button.danger").click()
    page.get_by_test_id("confirm-no").click()
    page.get_by_test_id("confirm-dialog").wait_for(state="detached")
    assert console.api("GET", "/v1/me", doomed["key"]).status_code == 200
    row.locator("button.danger").click()
    page.get_by_test_id("confirm-yes").click()
    row.wait_for(state="detached")  # revoked keys are hidden unless asked for
    assert console.api("GET", "/v1/me", doomed["key"]).status_code == 401
    assert dialogs == [], "no browser confirm()"
    assert missing_messages(page) == []


def test_rotate_without_a_grace_period_stops_the_old_key_at_once(
    console: Console, open_console: Opener
) -> None:
    old = _key(console, "rotating-now")
    page, _ = open_console(console.acme_admin_key, locale="en", viewport=WIDE, path="#/keys")
    page.get_by_test_id("keys-table").locator(f"tr[data-key-id='{old['id']}'] button.secondary").click()
    dialog = page.get_by_test_id("confirm-dialog")
    assert dialog.get_by_test_id("grace-period").input_value() == "0"
    assert "stops at once" in dialog.inner_text()
    page.get_by_test_id("confirm-yes").click()
    page.get_by_test_id("new-key").wait_for()
    assert console.api("GET", "/v1/me", old["key"]).status_code == 401
