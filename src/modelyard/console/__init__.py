"""The web console: the built single-page app, served at ``/console`` with a strict CSP.

No business logic and no data live here: the page is the same for everyone, so its files
need no key; every data call the page makes goes to ``/v1/...`` with the key the user
typed (kept in the tab's ``sessionStorage``). The assets are built from ``console/`` at
the repository root (``make console``) into ``static/``, which ships in the package.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response

__all__ = ["CSP", "STATIC_DIR", "router"]

STATIC_DIR = Path(__file__).parent / "static"

# Only this origin, no inline script or style, no framing, no plugins.
CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
# Explicit, so a host's own MIME table cannot serve the app's script as something else.
_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".html": "text/html"}
_NOT_BUILT = (
    "<!doctype html><title>modelyard console</title>"
    "<p>The console's assets are not built. Run <code>make console</code>.</p>"
)

router = APIRouter(tags=["console"], include_in_schema=False)


def _assets() -> dict[str, Path]:
    """The built files by name, read once: a request can only ever name one of these."""
    folder = STATIC_DIR / "assets"
    return {p.name: p for p in folder.iterdir() if p.is_file()} if folder.is_dir() else {}


_ASSETS = _assets()


@router.get("/console")
@router.get("/console/")
def index() -> Response:
    page = STATIC_DIR / "index.html"
    headers = {**SECURITY_HEADERS, "Cache-Control": "no-cache"}
    if not page.is_file():
        return HTMLResponse(_NOT_BUILT, status_code=503, headers=headers)
    return FileResponse(page, media_type="text/html; charset=utf-8", headers=headers)


@router.get("/console/assets/{name}")
def asset(name: str) -> Response:
    path = _ASSETS.get(name)
    if path is None:
        return Response("not found", status_code=404, media_type="text/plain", headers=SECURITY_HEADERS)
    # File names carry a content hash: a new build is a new name, so caching forever is safe.
    headers = {**SECURITY_HEADERS, "Cache-Control": "public, max-age=31536000, immutable"}
    media_type = _TYPES.get(path.suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    return FileResponse(path, media_type=media_type, headers=headers)
