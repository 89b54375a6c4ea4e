"""A live server with a worker, a tiny model, two tenants, and a browser that records requests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.helpers.browser import launch_chromium
from tests.helpers.deadlines import milliseconds, scaled
from tests.integration.conftest import LiveServer, free_port, start_server

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}
# The two windows and two languages every page is checked in (issue 12: a desktop and a phone).
WIDE = {"width": 1440, "height": 900}
NARROW = {"width": 390, "height": 844}
VIEWPORTS = {"wide": WIDE, "narrow": NARROW}
LOCALES = ("en", "zh-CN")
TINY = "tiny-chat"
# acme's quota: generous enough never to refuse a test's call, so the usage page has bars to draw.
ACME_QUOTA = {
    "requests_per_minute": 600,
    "tokens_per_minute": 200_000,
    "spend_budget": 25.0,
    "budget_period": "month",
    "max_concurrent_jobs": 4,
}


@dataclass
class Console:
    """The live server, the keys the tests sign in with, and the tiny model's id."""

    server: LiveServer
    acme_key: str  # a member of acme (made after the tenant's first key)
    globex_key: str  # a member of another tenant
    acme_admin_key: str = ""  # acme's first key, its tenant_admin: manages acme's keys
    model: str = TINY

    @property
    def url(self) -> str:
        return f"{self.server.base_url}/console"

    def api(self, method: str, path: str, key: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key or self.server.admin_key}"}
        return httpx.request(
            method, f"{self.server.base_url}{path}", headers=headers, timeout=scaled(60), **kwargs
        )


def _tenant_key(console_api: Any, name: str) -> str:
    response = console_api("POST", "/v1/admin/tenants", json={"name": name})
    assert response.status_code == 201, response.text
    return response.json()["key"]["key"]


def _key(console_api: Any, tenant: str, role: str, name: str) -> str:
    response = console_api("POST", f"/v1/admin/tenants/{tenant}/keys", json={"role": role, "name": name})
    assert response.status_code == 201, response.text
    return response.json()["key"]


# Package scope, not session: the server and the browser go when the browser tests end.
# Playwright's sync API keeps its event loop running in the main thread while it is open,
# and every later test that calls asyncio.run() would fail.
@pytest.fixture(scope="package")
def console(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Iterator[Console]:
    home = tmp_path_factory.mktemp("console-home")
    extra = {"MODELYARD_TRAIN_DTYPE": "float32", "MODELYARD_TORCH_DTYPE": "float32"}
    with start_server(home, free_port(), extra_env=extra) as server:
        partial = Console(server, "", "")
        card = {
            "kind": "local",
            "id": TINY,
            "path": str(tiny_model_dir),
            "provider": "modelyard-tests",
            "licence": "apache-2.0",
            "context_length": 512,
            "price_input_per_1k": 0.1,
            "price_output_per_1k": 0.2,
            "tags": ["tiny", "test"],
            "description": "A random two-layer Llama for tests.",
        }
        assert partial.api("POST", "/v1/models", json=card).status_code == 201
        # A tenant's first key is its tenant_admin; the members come after it.
        acme_admin = _tenant_key(partial.api, "acme")
        _tenant_key(partial.api, "globex")
        acme = _key(partial.api, "acme", "member", "acme member")
        globex = _key(partial.api, "globex", "member", "globex member")
        quota = partial.api("PUT", "/v1/admin/quotas/tenants/acme", json=ACME_QUOTA)
        assert quota.status_code == 200, quota.text
        yield Console(server, acme, globex, acme_admin)


@dataclass
class Recorder:
    """Every request a page makes, so a test can assert they all went to the console's origin."""

    origin: str
    urls: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # "status method url" of each 4xx/5xx answer

    def foreign(self) -> list[str]:
        def origin_of(url: str) -> str:
            parts = urlsplit(url)
            return f"{parts.scheme}://{parts.netloc}"

        return [u for u in self.urls if origin_of(u) != self.origin and not u.startswith(("data:", "blob:"))]


@pytest.fixture(scope="package")
def chromium() -> Iterator[Any]:
    with launch_chromium() as browser:
        yield browser


@pytest.fixture
def recorded_page(chromium: Any, console: Console) -> Iterator[tuple[Any, Recorder]]:
    with recording(chromium, console) as recorded:
        yield recorded


@contextmanager
def recording(
    chromium: Any,
    console: Console,
    *,
    locale: str = "en-US",
    viewport: dict[str, int] | None = None,
    **options: Any,
) -> Iterator[tuple[Any, Recorder]]:
    """A fresh browser context's page on ``console``'s server, and what it requested.

    ``locale``: the browser's language (the console picks its own from it: "en", "zh-CN");
    ``viewport``: ``WIDE``, ``NARROW`` or any size (``VIEWPORT`` by default);
    ``options``: more of ``new_context``'s (``timezone_id``, ...)."""
    context = chromium.new_context(
        viewport=viewport or VIEWPORT, locale=locale, accept_downloads=True, **options
    )
    page = context.new_page()
    recorder = Recorder(origin=console.server.base_url)
    page.on("request", lambda request: recorder.urls.append(request.url))

    def on_response(response: Any) -> None:
        if response.status >= 400:
            recorder.failed.append(f"{response.status} {response.request.method} {response.url}")

    page.on("response", on_response)
    page.on("console", lambda msg: recorder.errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: recorder.errors.append(str(exc)))
    page.set_default_timeout(milliseconds(20))  # every wait_for, click, goto without its own
    try:
        yield page, recorder
    finally:
        context.close()


def sign_in(page: Any, console: Console, key: str, landing: str | None = "Model plaza") -> None:
    """Signs in and waits for the page the key lands on (platform admins: "Overview").

    The form is found by its names, not its words, so this works in any language; pass
    ``landing=None`` to wait only for the console's frame (the header) and the page's heading."""
    page.goto(console.url)
    page.locator("input[name=api-key]").fill(key)
    page.locator("form button[type=submit]").click()
    if landing is None:
        page.get_by_test_id("who").wait_for()
        page.locator("h1#page-title").wait_for()
    else:
        page.get_by_role("heading", name=landing, exact=True).wait_for()


Opener = Callable[..., tuple[Any, Recorder]]


@pytest.fixture
def open_console(chromium: Any, console: Console) -> Iterator[Opener]:
    """A factory: ``open_console(key, locale="zh-CN", viewport=NARROW, path="#/keys")`` gives a
    fresh context's page signed in with ``key`` in that language and window, on ``path`` (the
    key's landing page without one) with every loading state over, and its ``Recorder``.
    Each call is a new context (its own session storage); all close when the test ends.

    ``locale``: "en" or "zh-CN" (the browser's language; the console follows it);
    ``key``: None opens the sign-in page without signing in; ``options``: ``new_context``'s."""
    with ExitStack() as stack:

        def opener(
            key: str | None,
            *,
            locale: str = "en",
            viewport: dict[str, int] | None = None,
            path: str | None = None,
            **options: Any,
        ) -> tuple[Any, Recorder]:
            page, recorder = stack.enter_context(
                recording(chromium, console, locale=locale, viewport=viewport or WIDE, **options)
            )
            if key is None:
                page.goto(f"{console.url}{path or ''}")
                page.locator("input[name=api-key]").wait_for()
                return page, recorder
            sign_in(page, console, key, landing=None)
            if path is not None:
                goto(page, console, path)
            settle(page)
            return page, recorder

        yield opener


def goto(page: Any, console: Console, hash_path: str) -> None:
    """Goes to a page of the console (``"#/keys"``) and waits for its heading and data."""
    page.goto(f"{console.url}{hash_path}")
    page.locator("h1#page-title").wait_for()
    settle(page)


def settle(page: Any) -> None:
    """Waits until no loading state is left on the page."""
    page.wait_for_selector(".state.loading", state="detached")


def missing_messages(page: Any) -> list[str]:
    """The message keys the page asked for that no catalog holds (``window.__missingMessages``)."""
    return list(page.evaluate("window.__missingMessages || []"))


def heading(page: Any) -> str:
    """The page's title (its h1)."""
    return page.locator("h1#page-title").inner_text()


def who(page: Any) -> tuple[str, str]:
    """The header's tenant name and role."""
    return page.get_by_test_id("who-tenant").inner_text(), page.get_by_test_id("who-role").inner_text()


def nav(page: Any) -> list[str]:
    """The sidebar's page names (a narrow window shows them once its menu is open)."""
    return page.get_by_test_id("nav").get_by_role("link").all_inner_texts()


def open_page(page: Any, console: Console, hash_path: str, heading: str) -> None:
    """Goes to a page and waits for its heading and for every loading state to end."""
    page.goto(f"{console.url}{hash_path}")
    page.get_by_role("heading", name=heading, exact=True).wait_for()
    page.wait_for_selector(".state.loading", state="detached")


def clean(recorder: Recorder, *keys: str, refused: tuple[int, ...] = ()) -> None:
    """Every request went to the console's origin, no console error, and no key in any URL.

    ``refused``: statuses a test provokes on purpose (Chromium logs each as an error).
    """
    assert recorder.urls and recorder.foreign() == []
    expected = tuple(f"the server responded with a status of {code}" for code in refused)
    errors = [e for e in recorder.errors if not (expected and any(x in e for x in expected))]
    assert not errors, (errors, recorder.failed)
    assert not [u for u in recorder.urls for k in keys if k and k in u]


def shoot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
