"""Every recommendation carries a stable code and params, and they rebuild its English reason.

The console says the reason in the reader's language from ``code`` and ``params`` (issue 12,
item 11); the English ``reason`` stays for API readers and the HTML report. Both are made
from the same params, so a code cannot drift from its sentence.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from modelyard.evals.reasons import REASONS, render_reason
from modelyard.evals.report import build_report
from modelyard.evals.results import EvalItem, EvalOutput, EvalResults, ModelInfo, Score

PICKS = ("best_quality", "cheapest_within_tolerance", "fastest")
# Per model, per item: (score, error, latency_ms, cost)
Row = tuple[float | None, str | None, float, float]


def results(models: dict[str, list[Row]], *, tolerance_points: float = 2.0) -> EvalResults:
    n = len(next(iter(models.values())))
    items = [EvalItem(i, f"q{i}", [{"role": "user", "content": f"q{i}"}], f"a{i}") for i in range(n)]
    outputs = [
        EvalOutput(
            item=i,
            model=model,
            output=None if error else "x",
            error=error,
            latency_ms=latency,
            cost=cost,
            scores={} if score is None else {"m": Score(score)},
        )
        for model, rows in models.items()
        for i, (score, error, latency, cost) in enumerate(rows)
    ]
    return EvalResults(
        id="ev",
        name="ev",
        created_at=1_700_000_000,
        models=[ModelInfo(m, "p", 0.0, 0.0) for m in models],
        metrics=[{"name": "m"}],
        items=items,
        outputs=outputs,
        tolerance_points=tolerance_points,
    )


def ok(scores: list[float | None], latency: float = 100.0, cost: float = 0.0) -> list[Row]:
    return [(s, None, latency + i, cost) for i, s in enumerate(scores)]


FIVE = [1, 1, 1, 1, 0]
SCENARIOS: dict[str, EvalResults] = {
    "overlap, costs, vs best": results({"a": ok(FIVE, 900, 0.01), "b": ok([1, 1, 1, 0, 0], 100, 0.001)}),
    "clear lead": results({"a": ok([1] * 40, 100), "b": ok([0] * 40, 300)}),
    "only one": results({"a": ok(FIVE)}),
    "tie, cheaper": results({"a": ok(FIVE, 100, 0.01), "b": ok(FIVE, 200, 0.02)}),
    "tie, first": results({"a": ok(FIVE, 100, 0.01), "b": ok(FIVE, 200, 0.01)}),
    "below, free": results({"a": ok(FIVE, 200, 0.01), "b": ok([1, 1, 1, 0, 0], 100)}, tolerance_points=30),
    "below, half": results(
        {"a": ok(FIVE, 100, 0.01), "b": ok([1, 1, 1, 0, 0], 200, 0.006)}, tolerance_points=30
    ),
    "below, dearer": results(
        {"a": ok(FIVE, 100, 0.01), "b": ok([1, 1, 1, 0, 0], 200, 0.012)}, tolerance_points=30
    ),
    # (0.1 + 0.2) / 2 is 0.15000000000000002: level with 0.15, but not equal.
    "level": results({"a": ok([0.1, 0.2], 100, 0.01), "b": ok([0.15, 0.15], 200, 0.001)}),
    "raw units": results({"a": ok([3.5, 4.0], 100, 0.01), "b": ok([2.0, 1.0], 50, 0.02)}),
    "all too flaky": results(
        {"a": [(1, None, 100, 0.0), (1, None, 100, 0.0), (None, "x", 0, 0), (None, "x", 0, 0)]}
    ),
    "ungraded, one": results({"a": ok([None, None])}),
    "ungraded, two": results({"a": ok([None, None], 100), "b": ok([None, None], 500)}),
    "all failed": results({"a": [(None, "down", 0, 0.0)] * 3}),
}


def entries() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (name, pick, build_report(scenario)["recommendation"][pick])
        for name, scenario in SCENARIOS.items()
        for pick in PICKS
    ]


@pytest.mark.parametrize(
    ("scenario", "pick", "entry"), entries(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_params_rebuild_the_english_reason(scenario: str, pick: str, entry: dict[str, Any]) -> None:
    assert entry["code"] in REASONS
    # What a client receives: the params after a trip through JSON.
    params = json.loads(json.dumps(entry["params"], allow_nan=False))
    assert render_reason(entry["code"], params) == entry["reason"]
    if "model" in params:
        assert params["model"] == entry["model"]


def test_every_code_is_reachable() -> None:
    seen = {entry["code"] for _, _, entry in entries()}
    assert seen == set(REASONS)


def test_codes_and_sentences_known_to_clients() -> None:
    """The English of a few codes, spelled out: the console's translations mirror these."""
    by_code = {entry["code"]: entry for _, _, entry in entries()}
    assert by_code["best_ahead"]["reason"] == "a scores 100.0% m, 100.0 points ahead of b (0.0%)."
    assert by_code["best_ahead"]["params"] == {
        "model": "a",
        "score": 1.0,
        "metric": "m",
        "fraction": True,
        "gap": 1.0,
        "other": "b",
        "other_score": 0.0,
    }
    assert by_code["cheapest_below_best"]["reason"].endswith("at 60% of the cost per item (0.006 vs 0.01).")
    assert by_code["cheapest_free"]["reason"].endswith(
        "costs nothing per item: no model within 2 points is cheaper."
    )
    assert by_code["fastest_vs_next"]["reason"] == (
        "a answers in 100 ms at the median (p95 101 ms), 5.0× faster than the next fastest b (500 ms), "
        "quality ungraded."
    )
    assert by_code["cheapest_all_fail"]["params"] == {"tolerance_points": 2.0, "failure_limit": 0.5}
    raw = build_report(SCENARIOS["raw units"])["recommendation"]["best_quality"]
    assert raw["params"]["fraction"] is False and raw["reason"].startswith("a scores 3.75 m, 2.25 ahead of b")
