"""The committed console build: present, self-contained, served without a key under a strict CSP."""

from __future__ import annotations

import json
import re
from pathlib import Path

from modelyard.console import CSP, STATIC_DIR
from tests.conftest import Platform

REPO = Path(__file__).resolve().parents[3]
# XML namespaces are names, not addresses: nothing is fetched from them.
NAMESPACES = {
    "http://www.w3.org/2000/svg",
    "http://www.w3.org/1999/xhtml",
    "http://www.w3.org/1998/Math/MathML",
}


def _built() -> list[Path]:
    return [STATIC_DIR / "index.html", *sorted((STATIC_DIR / "assets").iterdir())]


def test_the_build_is_committed_with_its_script_and_stylesheet() -> None:
    index = (STATIC_DIR / "index.html").read_text()
    names = {p.name for p in (STATIC_DIR / "assets").iterdir()}
    referenced = set(re.findall(r"/console/assets/([\w.-]+)", index))
    assert referenced and referenced <= names
    assert any(n.endswith(".js") for n in referenced) and any(n.endswith(".css") for n in referenced)


def test_the_build_names_no_other_origin() -> None:
    for path in _built():
        text = path.read_text(encoding="utf-8")
        origins = set(re.findall(r"https?://[A-Za-z0-9.-]+(?:/[\w./-]*)?", text)) - NAMESPACES
        assert not origins, f"{path.name} names {origins}"
        assert "@import" not in text and "@font-face" not in text, path.name


def test_the_page_has_no_inline_script_or_style() -> None:
    index = (STATIC_DIR / "index.html").read_text()
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", index, re.S)
    assert scripts and all("src=" in attrs and not body.strip() for attrs, body in scripts)
    assert "<style" not in index and " style=" not in index


def test_the_sources_and_lockfile_are_committed_and_build_into_the_package() -> None:
    package = json.loads((REPO / "console" / "package.json").read_text())
    assert package["scripts"]["build"] == "vite build" and "preact" in package["dependencies"]
    assert (REPO / "console" / "package-lock.json").is_file()
    config = (REPO / "console" / "vite.config.js").read_text()
    assert "../src/modelyard/console/static" in config and 'base: "/console/"' in config
    pyproject = (REPO / "pyproject.toml").read_text()
    assert '"console/static/*.html"' in pyproject and '"console/static/assets/*"' in pyproject


def test_console_is_served_without_a_key_under_a_strict_csp(platform: Platform) -> None:
    for path in ("/console", "/console/"):
        response = platform.client.get(path)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
        assert response.headers["content-security-policy"] == CSP
        assert response.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in CSP and "script-src 'self'" in CSP and "unsafe" not in CSP


def test_assets_are_served_with_their_types_and_nothing_else_is(platform: Platform) -> None:
    index = platform.client.get("/console").text
    for name in re.findall(r"/console/assets/([\w.-]+)", index):
        response = platform.client.get(f"/console/assets/{name}")
        assert response.status_code == 200
        types = {"js": "text/javascript", "css": "text/css", "svg": "image/svg+xml"}
        assert response.headers["content-type"].startswith(types[name.rsplit(".", 1)[1]])
        assert "immutable" in response.headers["cache-control"]
    for bad in ("/console/assets/missing.js", "/console/assets/..%2f..%2fapp.py", "/console/assets/%2e%2e"):
        assert platform.client.get(bad).status_code == 404, bad
