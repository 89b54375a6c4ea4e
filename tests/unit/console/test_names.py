"""Every role, scope and status the server can send has a translated name in the console.

The names are literal maps (``ROLE_NAMES``, ``SCOPE_NAMES`` in ``lib/session.js``,
``STATUS_NAMES`` in ``components/ui.jsx``), one message key each; a value missing from a map
would show raw (``fine_tuning``) to a reader of either language.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

from modelyard.backends.readiness import Status as ModelStatus
from modelyard.jobs.states import JobStatus
from modelyard.tenancy.roles import ROLES, SCOPES

CONSOLE = Path(__file__).resolve().parents[3] / "console" / "src"
ENTRY = re.compile(r"^\s*(\w+): \(\) => t\(\"[\w.]+\"\),$", re.MULTILINE)


def _names(path: Path, table: str) -> set[str]:
    source = path.read_text(encoding="utf-8")
    body = re.search(rf"const {table} = \{{(.*?)\n\}};", source, re.DOTALL)
    assert body, f"{table} not found in {path.name}"
    return set(ENTRY.findall(body.group(1)))


def test_every_role_and_scope_has_a_name() -> None:
    session = CONSOLE / "lib" / "session.js"
    assert set(ROLES) <= _names(session, "ROLE_NAMES")
    assert set(SCOPES) <= _names(session, "SCOPE_NAMES")


def test_every_job_and_model_status_has_a_name() -> None:
    statuses = _names(CONSOLE / "components" / "ui.jsx", "STATUS_NAMES")
    assert {s.value for s in JobStatus} <= statuses
    assert set(get_args(ModelStatus)) <= statuses
