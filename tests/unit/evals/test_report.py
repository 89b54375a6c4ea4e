"""The report's numbers, recomputed here by hand, and the rules that pick a model."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest

from modelyard.evals.report import build_report
from modelyard.evals.results import EvalItem, EvalOutput, EvalResults, ModelInfo, Rating, Score
from modelyard.evals.stats import percentile, summarize, t_quantile, wilson_interval

BIG, FT, TINY = "big-api", "ft:gemma-3-270m:acme:x1", "tiny-local"

# Per model, per item: (output, error, exact_match, rouge_l, latency_ms, ttft_ms, cost)
ROWS: dict[
    str, list[tuple[str | None, str | None, float | None, float | None, float, float | None, float]]
] = {
    BIG: [
        ("Paris", None, 1, 1.0, 800, 200, 0.01),
        ("4", None, 1, 1.0, 900, 210, 0.01),
        ("北京是中国的首都", None, 1, 1.0, 1000, 220, 0.01),
        ("blue", None, 1, 1.0, 1100, 230, 0.01),
        ("1912", None, 0, 0.5, 1200, 240, 0.01),
    ],
    FT: [
        ("Paris", None, 1, 1.0, 300, None, 0.001),
        ("4", None, 1, 1.0, 350, None, 0.001),
        ("北京是中國的首都", None, 1, 0.875, 400, None, 0.001),
        ("The sky is blue", None, 0, 0.5, 450, None, 0.001),
        ("1911", None, None, 0.0, 500, None, 0.001),  # exact_match ungraded
    ],
    TINY: [
        ("Paris", None, 1, 1.0, 100, 20, 0.0),
        ("five", None, 0, 0.0, 120, 20, 0.0),
        (None, "timeout after 5 s", None, None, 5000, None, 0.0),
        ("blue", None, 1, 1.0, 140, 20, 0.0),
        ("1900", None, 0, 0.0, 160, 20, 0.0),
    ],
}
ITEMS = [
    ("What is the capital of France?", "Paris"),
    ("2 + 2 = ?", "4"),
    ("中国的首都是哪里？", "北京是中国的首都"),
    ("What colour is the sky?", "blue"),
    ("When did the Titanic sink?", "1912"),
]


def make_results(**changes: object) -> EvalResults:
    """Three models on five items: one with a failed call, one with an ungraded score."""
    models = [
        ModelInfo(BIG, "openai-compatible", 0.5, 1.5),
        ModelInfo(FT, "transformers", 0.05, 0.1),
        ModelInfo(TINY, "llama.cpp", 0.0, 0.0),
    ]
    items = [EvalItem(i, p, [{"role": "user", "content": p}], ref) for i, (p, ref) in enumerate(ITEMS)]
    outputs = [
        EvalOutput(
            item=i,
            model=model,
            output=out,
            error=err,
            latency_ms=lat,
            ttft_ms=ttft,
            prompt_tokens=10 + i,
            completion_tokens=0 if err else 3,
            cost=cost,
            scores={
                "exact_match": Score(em, None if em is not None else "no reference match attempted"),
                "rouge_l": Score(rl),
            },
        )
        for model, rows in ROWS.items()
        for i, (out, err, em, rl, lat, ttft, cost) in enumerate(rows)
    ]
    ratings = [
        Rating(0, BIG, FT, "a"),  # BIG wins
        Rating(1, BIG, FT, "tie"),
        Rating(2, FT, TINY, "a"),  # FT wins
        Rating(3, TINY, BIG, "b"),  # BIG wins
        Rating(4, BIG, FT, None),  # not answered: ignored
        Rating(0, BIG, score=4.0),
        Rating(1, BIG, score=5.0),
        Rating(0, FT, score=3.0),
    ]
    results = EvalResults(
        id="ev-1",
        name="capitals & facts",
        created_at=1_700_000_000,
        models=models,
        metrics=[{"name": "exact_match"}, {"name": "rouge_l"}],
        items=items,
        outputs=outputs,
        ratings=ratings,
    )
    return replace(results, **changes)  # type: ignore[arg-type]


def _model(report: dict, model_id: str) -> dict:
    return next(m for m in report["models"] if m["id"] == model_id)


# --- stats ------------------------------------------------------------------------------


def test_wilson_interval_matches_the_published_value() -> None:
    # 4 of 5: the Wilson 95% interval is (0.3755, 0.9638) (e.g. statsmodels proportion_confint).
    low, high = wilson_interval(4, 5)
    assert low == pytest.approx(0.37553, abs=1e-4) and high == pytest.approx(0.96378, abs=1e-4)
    assert wilson_interval(0, 5)[0] == 0.0 and wilson_interval(5, 5)[1] == 1.0


def test_t_interval_uses_student_t() -> None:
    assert t_quantile(0.975, 4) == pytest.approx(2.7764, abs=1e-4)
    assert t_quantile(0.975, 1) == pytest.approx(12.7062, abs=1e-4)
    values = [1.0, 2.0, 3.0, 4.0, 5.0]
    half = 2.7764451 * math.sqrt(2.5 / 5)  # sample variance 2.5
    summary = summarize(values)
    assert summary.method == "t"
    assert (summary.ci_low, summary.ci_high) == (pytest.approx(3 - half), pytest.approx(3 + half))


def test_summarize_counts_ungraded_and_handles_edge_cases() -> None:
    summary = summarize([1, None, 0, 1, None])
    assert (summary.mean, summary.n, summary.n_ungraded, summary.method) == (
        pytest.approx(2 / 3),
        3,
        2,
        "wilson",
    )
    assert summarize([None, None]) == summarize([None, None])  # deterministic, no crash
    assert summarize([None, None]).mean is None and summarize([None, None]).n_ungraded == 2
    assert summarize([0.5]).ci_low is None  # one non-binary value: no interval
    assert summarize([0.9, 1.0, 0.95], bounds=(0.0, 1.0)).ci_high == 1.0


def test_percentile_is_linear_interpolation() -> None:
    assert percentile([100, 200], 50) == 150
    assert percentile([5, 1, 3, 2, 4], 95) == pytest.approx(4.8)
    assert percentile([7], 95) == 7
    assert percentile([], 50) is None


# --- per model numbers -------------------------------------------------------------------


def test_report_is_json_serialisable() -> None:
    report = build_report(make_results())
    assert json.loads(json.dumps(report, allow_nan=False)) == report


def test_metric_means_and_intervals() -> None:
    report = build_report(make_results())
    big = _model(report, BIG)["metrics"]["exact_match"]
    assert big["mean"] == pytest.approx(0.8) and big["n_graded"] == 5 and big["n_ungraded"] == 0
    assert (big["ci_low"], big["ci_high"]) == (
        pytest.approx(0.37553, abs=1e-4),
        pytest.approx(0.96378, abs=1e-4),
    )
    ft = _model(report, FT)["metrics"]["exact_match"]
    assert ft["mean"] == pytest.approx(0.75) and ft["n_graded"] == 4 and ft["n_ungraded"] == 1
    # The failed call counts as 0: (1 + 0 + 0 + 1 + 0) / 5.
    tiny = _model(report, TINY)["metrics"]["rouge_l"]
    assert tiny["mean"] == pytest.approx(0.4) and tiny["n_graded"] == 5
    ft_rouge = _model(report, FT)["metrics"]["rouge_l"]
    values = [1.0, 1.0, 0.875, 0.5, 0.0]
    m = sum(values) / 5
    sd = math.sqrt(sum((v - m) ** 2 for v in values) / 4)
    assert ft_rouge["interval"] == "t"
    assert ft_rouge["ci_low"] == pytest.approx(max(0.0, m - 2.7764451 * sd / math.sqrt(5)))
    assert ft_rouge["ci_high"] == pytest.approx(min(1.0, m + 2.7764451 * sd / math.sqrt(5)))


def test_latency_cost_tokens_failures() -> None:
    report = build_report(make_results())
    big, tiny, ft = (_model(report, m) for m in (BIG, TINY, FT))
    assert big["latency"]["p50_ms"] == 1000 and big["latency"]["p95_ms"] == pytest.approx(1180)
    assert big["latency"]["ttft_p50_ms"] == 220 and ft["latency"]["ttft_p50_ms"] is None
    # The failed 5 s call is left out of latency: p50 of [100, 120, 140, 160].
    assert tiny["latency"]["p50_ms"] == 130 and tiny["latency"]["n"] == 4
    assert big["cost"]["total"] == pytest.approx(0.05) and big["cost"]["per_item"] == pytest.approx(0.01)
    assert big["cost"]["per_1k_items"] == pytest.approx(10.0)
    assert (
        big["tokens"]["prompt_total"] == 10 + 11 + 12 + 13 + 14 and big["tokens"]["completion_per_item"] == 3
    )
    assert tiny["failures"] == {"count": 1, "rate": pytest.approx(0.2)}
    assert big["failures"]["count"] == 0


def test_human_win_rate_counts_ties_as_half() -> None:
    report = build_report(make_results())
    big, ft, tiny = (_model(report, m)["human"] for m in (BIG, FT, TINY))
    assert (big["wins"], big["ties"], big["losses"], big["comparisons"]) == (2, 1, 0, 3)
    assert big["win_rate"] == pytest.approx(2.5 / 3)
    assert ft["win_rate"] == pytest.approx(1.5 / 3)
    assert tiny["win_rate"] == 0.0 and tiny["comparisons"] == 2
    assert big["score_mean"] == pytest.approx(4.5) and ft["score_mean"] == 3.0 and tiny["score_mean"] is None
    assert "half" in report["notes"]["ties"]


# --- recommendation -----------------------------------------------------------------------


def test_recommendation_defaults() -> None:
    rec = build_report(make_results())["recommendation"]
    assert _said(rec["best_quality"]) == {
        "model": BIG,
        "reason": f"{BIG} scores 80.0% exact_match, 5.0 points ahead of {FT} (75.0%); "
        "the 95% intervals overlap.",
    }
    # FT is 5 points below: outside the default 2-point tolerance, so the best is also cheapest.
    assert rec["cheapest_within_tolerance"]["model"] == BIG
    # TINY fails 1 call in 5 (under 50%), so it may be fastest; p95 of [100, 120, 140, 160] is 157.
    assert _said(rec["fastest"]) == {
        "model": TINY,
        "reason": f"{TINY} answers in 130 ms at the median (p95 157 ms), 7.7× faster than the "
        f"best-quality model {BIG} (1.00 s), scoring 40.0% exact_match.",
    }


def _said(entry: dict[str, object]) -> dict[str, object]:
    """The pick and its English reason (code and params are checked in test_reasons.py)."""
    return {"model": entry["model"], "reason": entry["reason"]}


def test_fastest_can_be_the_best() -> None:
    results = make_results()
    for out in results.outputs:
        if out.model == BIG:
            out.latency_ms /= 100  # 8..12 ms: now faster than TINY
    rec = build_report(results)["recommendation"]
    assert rec["fastest"]["model"] == BIG == rec["best_quality"]["model"]
    assert rec["fastest"]["reason"].endswith("also the best on quality.")


def test_tolerance_edge_is_inclusive() -> None:
    # 0.80 - 0.75 is 0.05000000000000004 in floating point; "within 5 points" must still hold.
    rec = build_report(make_results(tolerance_points=5.0))["recommendation"]["cheapest_within_tolerance"]
    assert rec["model"] == FT
    assert rec["reason"] == (
        f"{FT} scores 75.0% exact_match, 5.0 points below the best ({BIG}), at 1/10 the cost per item "
        "(0.001 vs 0.01)."
    )
    assert (
        build_report(make_results(tolerance_points=4.99))["recommendation"]["cheapest_within_tolerance"][
            "model"
        ]
        == BIG
    )


def test_cheapest_skips_models_that_fail_too_often() -> None:
    # TINY is free and, with a 50-point tolerance, within reach; at 20% failures it wins.
    assert (
        build_report(make_results(tolerance_points=50))["recommendation"]["cheapest_within_tolerance"][
            "model"
        ]
        == TINY
    )
    # Fail three of its five calls and it is no longer eligible, however cheap.
    results = make_results(tolerance_points=50)
    for out in results.outputs:
        if out.model == TINY and out.item in (0, 1):
            out.error, out.output = "boom", None
    rec = build_report(results)["recommendation"]
    assert rec["cheapest_within_tolerance"]["model"] == FT
    assert rec["fastest"]["model"] == FT


def test_primary_metric_and_ties_are_deterministic() -> None:
    rec = build_report(make_results(primary_metric="rouge_l"))["recommendation"]
    assert rec["primary_metric"] == "rouge_l" and rec["best_quality"]["model"] == BIG  # 0.9 vs 0.675
    # Make FT's exact match equal to BIG's: the tie goes to the cheaper model.
    results = make_results()
    for out in results.outputs:
        if out.model == FT:
            out.scores["exact_match"] = Score(1.0 if out.item != 3 else 0.0)
    rec = build_report(results)["recommendation"]
    assert rec["best_quality"]["model"] == FT
    assert "tied with" in rec["best_quality"]["reason"]


def test_all_failures_and_no_graded_scores() -> None:
    results = make_results()
    for out in results.outputs:
        out.error, out.output, out.scores = "provider down", None, {}
    report = build_report(results)
    rec = report["recommendation"]
    assert rec["best_quality"]["model"] is None and rec["fastest"]["model"] is None
    assert rec["cheapest_within_tolerance"]["model"] is None
    assert _model(report, BIG)["latency"]["p50_ms"] is None
    assert _model(report, BIG)["metrics"]["exact_match"]["mean"] == 0.0  # failures count as 0
    json.dumps(report, allow_nan=False)

    ungraded = make_results()
    for out in ungraded.outputs:
        out.scores = {}
    rec = build_report(ungraded)["recommendation"]
    assert rec["best_quality"]["model"] is None
    assert "No model has a graded exact_match score" in rec["best_quality"]["reason"]
    assert rec["fastest"]["model"] == TINY


# --- per example --------------------------------------------------------------------------


def test_example_rows_flag_failures() -> None:
    rows = build_report(make_results())["examples"]
    assert [r["index"] for r in rows] == [0, 1, 2, 3, 4]
    assert rows[0]["failed"] is False  # every model exact on item 0
    assert rows[1]["models"][TINY]["failed"] is True and rows[1]["models"][BIG]["failed"] is False
    assert rows[2]["models"][TINY]["error"] == "timeout after 5 s" and rows[2]["models"][TINY]["failed"]
    assert rows[4]["models"][FT]["failed"] is True  # ungraded counts as failed
    assert rows[4]["models"][FT]["scores"]["exact_match"] == {
        "value": None,
        "detail": "no reference match attempted",
    }
    assert rows[2]["reference"] == "北京是中国的首都"
