"""A free best model's recommendation says so, not "costs less than its 0 per item" (issue 12)."""

from __future__ import annotations

from dataclasses import replace

from modelyard.evals.report import build_report
from tests.unit.evals.test_report import BIG, make_results


def test_a_free_best_model_reads_as_free() -> None:
    results = make_results()
    free = replace(results, outputs=[replace(o, cost=0.0) for o in results.outputs])
    cheapest = build_report(free)["recommendation"]["cheapest_within_tolerance"]
    assert cheapest["model"] == BIG
    assert "costs nothing per item" in cheapest["reason"] and " 0 per item" not in cheapest["reason"]


def test_a_paid_best_model_names_its_cost() -> None:
    cheapest = build_report(make_results())["recommendation"]["cheapest_within_tolerance"]
    assert cheapest["model"] == BIG and "costs less than its 0.01 per item" in cheapest["reason"]
