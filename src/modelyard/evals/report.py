"""Turns raw evaluation results into a JSON-able report that recommends a model.

The report answers the three questions a buyer asks: which model is best, which is the
cheapest that is nearly as good, and which is fastest while still working. Rules that decide
those answers, stated once here and repeated in ``report["notes"]``:

- A failed call (an output with an error and no score) counts as 0 on every metric; dropping
  it would reward a model for timing out on the hard items.
- Latency is measured on successful calls only (a fast refusal is not a fast answer); a model
  failing on half its items or more cannot be "cheapest" or "fastest".
- Metrics whose scores all lie in [0, 1] are fractions: shown as percentages, and one
  tolerance point is 0.01. Other metrics use their own units.
- Ties break deterministically: better quality, then lower cost, then the order of
  ``results.models``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from modelyard.evals.reasons import reason_entry
from modelyard.evals.results import EvalOutput, EvalResults, ModelInfo, Rating
from modelyard.evals.stats import mean, percentile, summarize

__all__ = ["FAILURE_RATE_LIMIT", "build_report", "output_failed"]

FAILURE_RATE_LIMIT = 0.5  # at or above this a model is unusable, however cheap or fast
_EPSILON = 1e-9  # so that "exactly 2.0 points below" survives floating-point subtraction

NOTES = {
    "failures": "A failed call (error, no score) counts as 0 on every metric.",
    "latency": "Latency percentiles use successful calls only (p50/p95: linear interpolation).",
    "ties": "A/B win rate = (wins + ties / 2) / comparisons: a tie counts as half a win for each side.",
    "intervals": "95% intervals: Wilson for 0/1 scores, Student t otherwise (needs 2+ graded items).",
    "eligibility": f"Cheapest and fastest need a failure rate under {FAILURE_RATE_LIMIT:.0%}.",
}


def build_report(results: EvalResults) -> dict[str, Any]:
    """The whole report as plain dicts, lists, strings and numbers (ready for ``json.dumps``)."""
    names = _metric_names(results)
    primary = results.primary_metric or (names[0] if names else None)
    fractions = _fraction_metrics(results.outputs, names)
    grouped = _outputs_by_model(results.outputs)
    models = [
        _model_summary(info, grouped.get(info.id, []), names, fractions, results.ratings)
        for info in results.models
    ]
    return {
        "eval": {
            "id": results.id,
            "name": results.name,
            "created_at": results.created_at,
            "n_items": len(results.items),
        },
        "metrics": [{"name": name, "fraction": name in fractions} for name in names],
        "primary_metric": primary,
        "tolerance_points": results.tolerance_points,
        "notes": dict(NOTES),  # a copy: callers may edit their report, never the module
        "models": models,
        "recommendation": _recommend(models, primary, primary in fractions, results.tolerance_points),
        "examples": _examples(results, names, primary),
    }


def output_failed(output: EvalOutput | None, primary: str | None) -> bool:
    """True when the output needs a look: an error, or a primary score below 1 or missing."""
    if output is None or output.error is not None:
        return True
    if primary is None:
        return False
    score = output.scores.get(primary)
    return score is None or score.value is None or score.value < 1


# --- per model -------------------------------------------------------------------------


def _metric_names(results: EvalResults) -> list[str]:
    names = [str(spec["name"]) for spec in results.metrics]
    if results.primary_metric and results.primary_metric not in names:
        names.insert(0, results.primary_metric)
    return names


def _fraction_metrics(outputs: list[EvalOutput], names: list[str]) -> set[str]:
    values: dict[str, list[float]] = {name: [] for name in names}
    for output in outputs:
        for name, score in output.scores.items():
            if name in values and score.value is not None:
                values[name].append(score.value)
    return {name for name, seen in values.items() if all(0 <= v <= 1 for v in seen)}


def _outputs_by_model(outputs: list[EvalOutput]) -> dict[str, list[EvalOutput]]:
    grouped: dict[str, list[EvalOutput]] = {}
    for output in outputs:
        grouped.setdefault(output.model, []).append(output)
    return grouped


def _model_summary(
    info: ModelInfo, outputs: list[EvalOutput], names: list[str], fractions: set[str], ratings: list[Rating]
) -> dict[str, Any]:
    return {
        "id": info.id,
        "provider": info.provider,
        "price_input_per_1k": info.price_input_per_1k,
        "price_output_per_1k": info.price_output_per_1k,
        "n_outputs": len(outputs),
        "metrics": {name: _metric_summary(outputs, name, name in fractions) for name in names},
        "latency": _latency(outputs),
        "tokens": _tokens(outputs),
        "cost": _cost(outputs),
        "failures": _failures(outputs),
        "human": _human(info.id, ratings),
    }


def _metric_value(output: EvalOutput, name: str) -> float | None:
    score = output.scores.get(name)
    if score is not None and score.value is not None:
        return score.value
    return 0.0 if output.error is not None else None


def _failed_unscored(output: EvalOutput, name: str) -> bool:
    score = output.scores.get(name)
    return output.error is not None and (score is None or score.value is None)


def _metric_summary(outputs: list[EvalOutput], name: str, fraction: bool) -> dict[str, Any]:
    summary = summarize([_metric_value(o, name) for o in outputs], bounds=(0.0, 1.0) if fraction else None)
    return {
        "mean": summary.mean,
        "ci_low": summary.ci_low,
        "ci_high": summary.ci_high,
        "n_graded": summary.n,
        "n_ungraded": summary.n_ungraded,
        "n_failed_as_zero": sum(1 for o in outputs if _failed_unscored(o, name)),
        "interval": summary.method,
    }


def _latency(outputs: list[EvalOutput]) -> dict[str, Any]:
    succeeded = [o for o in outputs if o.error is None]
    totals = [o.latency_ms for o in succeeded]
    ttfts = [o.ttft_ms for o in succeeded if o.ttft_ms is not None]
    return {
        "p50_ms": percentile(totals, 50),
        "p95_ms": percentile(totals, 95),
        "mean_ms": mean(totals),
        "ttft_p50_ms": percentile(ttfts, 50),
        "ttft_p95_ms": percentile(ttfts, 95),
        "n": len(totals),
    }


def _tokens(outputs: list[EvalOutput]) -> dict[str, Any]:
    prompt = sum(o.prompt_tokens for o in outputs)
    completion = sum(o.completion_tokens for o in outputs)
    return {
        "prompt_total": prompt,
        "completion_total": completion,
        "prompt_per_item": prompt / len(outputs) if outputs else None,
        "completion_per_item": completion / len(outputs) if outputs else None,
    }


def _cost(outputs: list[EvalOutput]) -> dict[str, Any]:
    total = math.fsum(o.cost for o in outputs)
    per_item = total / len(outputs) if outputs else None
    return {
        "total": total,
        "per_item": per_item,
        "per_1k_items": per_item * 1000 if per_item is not None else None,
    }


def _failures(outputs: list[EvalOutput]) -> dict[str, Any]:
    count = sum(1 for o in outputs if o.error is not None)
    return {"count": count, "rate": count / len(outputs) if outputs else None}


def _human(model: str, ratings: Iterable[Rating]) -> dict[str, Any]:
    wins = losses = ties = 0
    scores: list[float | None] = []
    for rating in ratings:
        if rating.model_b is None and rating.model_a == model and rating.score is not None:
            scores.append(rating.score)
        if rating.model_b is None or model not in (rating.model_a, rating.model_b):
            continue
        if rating.model_a == rating.model_b or rating.winner not in ("a", "b", "tie"):
            continue  # a model against itself, or an unanswered comparison, says nothing
        if rating.winner == "tie":
            ties += 1
        elif (rating.winner == "a") == (rating.model_a == model):
            wins += 1
        else:
            losses += 1
    comparisons = wins + losses + ties
    score = summarize(scores)
    return {
        "wins": wins,
        "losses": losses,
        "ties": ties,
        "comparisons": comparisons,
        "win_rate": (wins + ties / 2) / comparisons if comparisons else None,
        "score_mean": score.mean,
        "score_ci_low": score.ci_low,
        "score_ci_high": score.ci_high,
        "n_scores": score.n,
    }


# --- recommendation -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Candidate:
    id: str
    order: int
    quality: float | None
    ci: tuple[float | None, float | None]
    cost: float
    p50: float | None
    p95: float | None
    failure_rate: float

    @property
    def usable(self) -> bool:
        return self.failure_rate < FAILURE_RATE_LIMIT

    @property
    def score(self) -> float:
        """Quality for sorting: ungraded sorts below every graded model."""
        return self.quality if self.quality is not None else -math.inf

    @property
    def speed(self) -> float:
        """Median latency for sorting: untimed sorts after every timed model."""
        return self.p50 if self.p50 is not None else math.inf


@dataclass(frozen=True, slots=True)
class _Units:
    """How to compare the primary metric: fractions (a point is 0.01) or raw units."""

    metric: str
    fraction: bool
    tolerance_points: float

    @property
    def tolerance(self) -> float:
        return self.tolerance_points / 100 if self.fraction else self.tolerance_points


def _candidates(models: list[dict[str, Any]], primary: str | None) -> list[_Candidate]:
    found = []
    for order, model in enumerate(models):
        metric = model["metrics"].get(primary, {}) if primary else {}
        # Zeros from failed calls alone do not make a model ranked: it needs one real score.
        scored = metric.get("n_graded", 0) > metric.get("n_failed_as_zero", 0)
        found.append(
            _Candidate(
                id=model["id"],
                order=order,
                quality=metric.get("mean") if scored else None,
                ci=(metric.get("ci_low"), metric.get("ci_high")),
                cost=model["cost"]["per_item"] or 0.0,
                p50=model["latency"]["p50_ms"],
                p95=model["latency"]["p95_ms"],
                failure_rate=1.0 if model["failures"]["rate"] is None else model["failures"]["rate"],
            )
        )
    return found


def _recommend(
    models: list[dict[str, Any]], primary: str | None, fraction: bool, tolerance_points: float
) -> dict[str, Any]:
    units = _Units(primary or "quality", fraction, tolerance_points)
    candidates = _candidates(models, primary)
    graded = [c for c in candidates if c.quality is not None]
    best = min(graded, key=_by_quality, default=None)
    return {
        "primary_metric": primary,
        "best_quality": _best_entry(best, graded, units),
        "cheapest_within_tolerance": _cheapest_entry(best, graded, units),
        "fastest": _fastest_entry(best, candidates, units),
    }


def _entry(pick: _Candidate | None, code: str, /, **params: Any) -> dict[str, Any]:
    return reason_entry(pick.id if pick else None, code, **params)


def _score_params(candidate: _Candidate, units: _Units) -> dict[str, Any]:
    return {
        "model": candidate.id,
        "score": candidate.quality,
        "metric": units.metric,
        "fraction": units.fraction,
    }


def _best_entry(best: _Candidate | None, graded: list[_Candidate], units: _Units) -> dict[str, Any]:
    if best is None:
        return _entry(None, "no_graded", metric=units.metric)
    scores = _score_params(best, units)
    others = sorted((c for c in graded if c is not best), key=_by_quality)
    if not others:
        return _entry(best, "best_only_graded", **scores)
    second = others[0]
    if second.score == best.score:
        code = "best_tied_cheaper" if second.cost > best.cost else "best_tied_first"
        return _entry(best, code, **scores, other=second.id)
    code = "best_ahead_overlap" if _overlap(best.ci, second.ci) else "best_ahead"
    return _entry(
        best, code, **scores, gap=best.score - second.score, other=second.id, other_score=second.score
    )


def _overlap(a: tuple[float | None, float | None], b: tuple[float | None, float | None]) -> bool:
    a_low, a_high = a
    b_low, b_high = b
    if a_low is None or a_high is None or b_low is None or b_high is None:
        return True  # no interval: the lead cannot be told apart from noise
    return a_low <= b_high and b_low <= a_high


def _cheapest_entry(best: _Candidate | None, graded: list[_Candidate], units: _Units) -> dict[str, Any]:
    if best is None:
        return _entry(None, "no_graded", metric=units.metric)
    floor = best.score - units.tolerance - _EPSILON
    near = [c for c in graded if c.usable and c.score >= floor]
    if not near:
        return _entry(
            None,
            "cheapest_all_fail",
            tolerance_points=units.tolerance_points,
            failure_limit=FAILURE_RATE_LIMIT,
        )
    pick = min(near, key=lambda c: (c.cost, -c.score, c.order))
    scores = _score_params(pick, units)
    if pick is best:
        # "costs less than its 0 per item" reads as a bug: a free best says so.
        code = "cheapest_costs" if pick.cost else "cheapest_free"
        return _entry(pick, code, **scores, tolerance_points=units.tolerance_points, cost=pick.cost)
    gap = best.score - pick.score
    code = "cheapest_level" if gap <= _EPSILON else "cheapest_below_best"
    return _entry(pick, code, **scores, gap=gap, best=best.id, cost=pick.cost, best_cost=best.cost)


def _fastest_entry(best: _Candidate | None, candidates: list[_Candidate], units: _Units) -> dict[str, Any]:
    timed = [c for c in candidates if c.usable and c.p50 is not None]
    if not timed:
        return _entry(None, "fastest_none", failure_limit=FAILURE_RATE_LIMIT)
    pick = min(timed, key=lambda c: (c.speed, -c.score, c.cost, c.order))
    params = {**_score_params(pick, units), "p50_ms": pick.speed, "p95_ms": pick.p95 or pick.speed}
    if best is not None and pick is best:
        return _entry(pick, "fastest_best_quality", **params)
    rival = best if best is not None and best.p50 is not None else _runner_up(timed, pick)
    if rival is None:
        return _entry(pick, "fastest_alone", **params)
    code = "fastest_vs_best" if rival is best else "fastest_vs_next"
    return _entry(pick, code, **params, rival=rival.id, rival_p50_ms=rival.speed)


def _runner_up(timed: list[_Candidate], pick: _Candidate) -> _Candidate | None:
    rest = [c for c in timed if c is not pick]
    return min(rest, key=lambda c: (c.speed, c.order), default=None)


def _by_quality(candidate: _Candidate) -> tuple[float, float, int]:
    return (-candidate.score, candidate.cost, candidate.order)


# --- per example ----------------------------------------------------------------------


def _examples(results: EvalResults, names: list[str], primary: str | None) -> list[dict[str, Any]]:
    outputs = {(o.item, o.model): o for o in results.outputs}
    rows = []
    for item in sorted(results.items, key=lambda i: i.index):
        cells = {m.id: _example_cell(outputs.get((item.index, m.id)), names, primary) for m in results.models}
        rows.append(
            {
                "index": item.index,
                "prompt": item.prompt,
                "reference": item.reference,
                "failed": any(cell["failed"] for cell in cells.values()),
                "models": cells,
            }
        )
    return rows


def _example_cell(output: EvalOutput | None, names: list[str], primary: str | None) -> dict[str, Any]:
    if output is None:
        return {"output": None, "error": "no output recorded", "scores": {}, "failed": True}
    scores = {
        name: {"value": output.scores[name].value, "detail": output.scores[name].detail}
        for name in names
        if name in output.scores
    }
    return {
        "output": output.output,
        "error": output.error,
        "scores": scores,
        "latency_ms": output.latency_ms,
        "cost": output.cost,
        "failed": output_failed(output, primary),
    }
