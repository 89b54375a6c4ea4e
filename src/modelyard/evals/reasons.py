"""The report's recommendation sentences: a stable ``code`` with ``params``, and their English.

The report keeps an English ``reason`` for API readers and the HTML page, and adds the code and
params so a client can say the same thing in its reader's language. The English is made here
from the code and params alone, so a sentence cannot say what its params do not carry.

Params hold plain JSON numbers: scores as the metric's raw values with ``fraction`` telling
whether they are fractions of 1 (shown as percentages; gaps in points), costs in dollars per
item, latencies in milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["REASONS", "reason_entry", "render_reason"]

Params = dict[str, Any]


def _value(p: Params, key: str = "score") -> str:
    v = p[key]
    return f"{v * 100:.1f}%" if p["fraction"] else f"{v:.3g}"


def _gap(p: Params) -> str:
    v = p["gap"]
    return f"{v * 100:.1f} points" if p["fraction"] else f"{v:.3g}"


def _money(value: float) -> str:
    return f"{value:.3g}" if value else "0"


def _ms(value: float) -> str:
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"


def _scores(p: Params) -> str:
    return f"{p['model']} scores {_value(p)} {p['metric']}"


def _cost_ratio(cost: float, reference: float) -> str:
    if cost == reference:
        return "the same cost per item"
    if cost <= 0:
        return "no cost per item"
    ratio = reference / cost
    if ratio >= 2:
        return f"1/{ratio:.1f}".removesuffix(".0") + " the cost per item"
    if ratio > 1:
        return f"{cost / reference:.0%} of the cost per item"
    return f"{cost / reference:.1f}× the cost per item"


def _speedup(fast: float, slow: float) -> str:
    if fast <= 0 or slow / fast < 1.05:
        return "about as fast as"
    return f"{slow / fast:.1f}× faster than"


def _answers(p: Params) -> str:
    return f"{p['model']} answers in {_ms(p['p50_ms'])} at the median (p95 {_ms(p['p95_ms'])})"


def _quality(p: Params) -> str:
    return "quality ungraded" if p["score"] is None else f"scoring {_value(p)} {p['metric']}"


def _cheapest_is_best(p: Params) -> str:
    return f"{p['model']} is the best ({_value(p)} {p['metric']})"


def _cheapest_other(p: Params, position: str) -> str:
    return (
        f"{_scores(p)}, {position} the best ({p['best']}), at {_cost_ratio(p['cost'], p['best_cost'])} "
        f"({_money(p['cost'])} vs {_money(p['best_cost'])})."
    )


def _fastest_against(p: Params, role: str) -> str:
    speed = _speedup(p["p50_ms"], p["rival_p50_ms"])
    return f"{_answers(p)}, {speed} {role} {p['rival']} ({_ms(p['rival_p50_ms'])}), {_quality(p)}."


REASONS: dict[str, Callable[[Params], str]] = {
    "no_graded": lambda p: f"No model has a graded {p['metric']} score from a successful call.",
    "best_only_graded": lambda p: f"{_scores(p)}; it is the only model with graded answers.",
    "best_tied_cheaper": lambda p: f"{_scores(p)}, tied with {p['other']}, and costs less per item.",
    "best_tied_first": lambda p: f"{_scores(p)}, tied with {p['other']}, and is listed first.",
    "best_ahead": lambda p: f"{_scores(p)}, {_gap(p)} ahead of {p['other']} ({_value(p, 'other_score')}).",
    "best_ahead_overlap": lambda p: (
        f"{_scores(p)}, {_gap(p)} ahead of {p['other']} ({_value(p, 'other_score')}); "
        "the 95% intervals overlap."
    ),
    "cheapest_all_fail": lambda p: (
        f"Every model within {p['tolerance_points']:g} points of the best fails on "
        f"{p['failure_limit']:.0%} or more of its calls."
    ),
    "cheapest_free": lambda p: (
        f"{_cheapest_is_best(p)} and costs nothing per item: "
        f"no model within {p['tolerance_points']:g} points is cheaper."
    ),
    "cheapest_costs": lambda p: (
        f"{_cheapest_is_best(p)} and no model within {p['tolerance_points']:g} points "
        f"costs less than its {_money(p['cost'])} per item."
    ),
    "cheapest_level": lambda p: _cheapest_other(p, "level with"),
    "cheapest_below_best": lambda p: _cheapest_other(p, f"{_gap(p)} below"),
    "fastest_none": lambda p: f"No model answered with under {p['failure_limit']:.0%} of its calls failing.",
    "fastest_best_quality": lambda p: f"{_answers(p)}, {_quality(p)}: also the best on quality.",
    "fastest_alone": lambda p: f"{_answers(p)}, {_quality(p)}.",
    "fastest_vs_best": lambda p: _fastest_against(p, "the best-quality model"),
    "fastest_vs_next": lambda p: _fastest_against(p, "the next fastest"),
}


def render_reason(code: str, params: Params) -> str:
    """The English sentence for ``code`` filled from ``params``."""
    return REASONS[code](params)


def reason_entry(model: str | None, code: str, /, **params: Any) -> dict[str, Any]:
    """A recommendation entry: the pick, its English reason, and the code and params behind it."""
    return {"model": model, "reason": render_reason(code, params), "code": code, "params": params}
