"""Renders a report from :func:`modelyard.evals.report.build_report` as one standalone HTML page.

The page must open from a file, an email attachment or an air-gapped share, so it carries
everything inline (CSS and JS from ``templates/``, charts as SVG drawn here) and asks for
nothing: its Content-Security-Policy forbids every fetch and allows only the page's own
style and script by hash. Model outputs are untrusted, so every string from the report is
HTML-escaped; the hash-pinned CSP is a second wall should an escape ever be missed.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from difflib import SequenceMatcher
from functools import cache
from html import escape
from importlib import resources
from string import Template
from typing import Any

__all__ = ["diff_html", "render_html"]

# Okabe-Ito: distinguishable with the common colour-vision deficiencies (yellow dropped: too
# pale on white). More models than colours cycle; names in labels and tooltips still tell.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#7A7A7A", "#000000")
_WIDTH, _HEIGHT = 440, 320  # SVG user units; the page scales the charts to their column
_LEFT, _RIGHT, _TOP, _BOTTOM = 58, 16, 16, 48
_MAX_DIFF_TOKENS = 4000  # SequenceMatcher is quadratic; longer answers are shown without a diff
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\uff00-\uffef"
# One CJK character is one token (those scripts do not separate words with spaces); otherwise
# words, runs of whitespace, and single punctuation marks.
_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+|\s+|[^\w\s]")


def render_html(report: dict[str, Any]) -> str:
    """The report as a complete HTML document (a ``str``; write it with encoding="utf-8")."""
    css, js = _asset("report.css"), _asset("report.js")
    colors = {model["id"]: PALETTE[i % len(PALETTE)] for i, model in enumerate(report["models"])}
    return Template(_asset("report.html")).substitute(
        csp=escape(_csp(css, js)),
        title=escape(f"Evaluation report: {report['eval']['name']}"),
        css=css,
        js=js,
        header=_header(report),
        recommendation=_recommendation(report),
        summary=_summary(report, colors),
        charts=_charts(report, colors),
        examples=_examples(report, colors),
        n_examples=len(report["examples"]),
        n_failed=sum(1 for row in report["examples"] if row["failed"]),
        notes=_list(report["notes"].values(), "notes"),
    )


def diff_html(reference: str, output: str) -> str:
    """``output`` with its differences from ``reference`` marked, both sides escaped.

    ``<ins>`` is text the model wrote that the reference lacks; ``<del>`` is reference text the
    model left out. Words are compared whole, CJK text character by character.
    """
    ref, out = _TOKEN.findall(reference), _TOKEN.findall(output)
    if len(ref) + len(out) > _MAX_DIFF_TOKENS:
        return escape(output)
    parts = []
    for op, r1, r2, o1, o2 in SequenceMatcher(None, ref, out, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(escape("".join(out[o1:o2])))
            continue
        if r2 > r1:
            parts.append(f"<del>{escape(''.join(ref[r1:r2]))}</del>")
        if o2 > o1:
            parts.append(f"<ins>{escape(''.join(out[o1:o2]))}</ins>")
    return "".join(parts)


# --- page parts -------------------------------------------------------------------------


@cache
def _asset(name: str) -> str:
    return (resources.files("modelyard.evals") / "templates" / name).read_text(encoding="utf-8")


def _csp(css: str, js: str) -> str:
    def digest(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    return (
        f"default-src 'none'; style-src {digest(css)}; script-src {digest(js)}; "
        "base-uri 'none'; form-action 'none'"
    )


def _header(report: dict[str, Any]) -> str:
    meta = report["eval"]
    created = meta["created_at"]
    if created > 10**11:  # milliseconds rather than seconds: no evaluation ran in the year 5000
        created /= 1000
    when = datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%d %H:%M UTC")
    facts = (
        f"{meta['n_items']} items · {len(report['models'])} models · primary metric "
        f"<code>{escape(str(report['primary_metric']))}</code> · tolerance "
        f"{report['tolerance_points']:g} points · {when} · <code>{escape(str(meta['id']))}</code>"
    )
    return f"<h1>{escape(str(meta['name']))}</h1>\n<p>{facts}</p>"


def _recommendation(report: dict[str, Any]) -> str:
    titles = {
        "best_quality": "Best quality",
        "cheapest_within_tolerance": f"Cheapest within {report['tolerance_points']:g} points",
        "fastest": "Fastest",
    }
    cards = []
    for key, title in titles.items():
        entry = report["recommendation"][key]
        model = escape(entry["model"]) if entry["model"] else "No recommendation"
        css = "card" if entry["model"] else "card none"
        cards.append(
            f'<article class="{css}"><h3>{title}</h3><span class="model">{model}</span>'
            f"<p>{escape(entry['reason'])}</p></article>"
        )
    return f'<div class="cards">{"".join(cards)}</div>'


def _summary(report: dict[str, Any], colors: dict[str, str]) -> str:
    metrics = report["metrics"]
    heads = [f"{escape(m['name'])}{' ★' if m['name'] == report['primary_metric'] else ''}" for m in metrics]
    heads += ["Failed", "Latency p50/p95", "TTFT p50", "Cost per item", "Cost per 1K items"]
    heads += ["Tokens in/out per item", "Human win rate", "Human score"]
    rows = [_summary_row(model, metrics, colors, _badges(report, model["id"])) for model in report["models"]]
    header = "".join(f'<th scope="col" class="num">{h}</th>' for h in heads)
    return _table(f'<th scope="col">Model</th>{header}', rows, "Summary by model")


def _summary_row(
    model: dict[str, Any], metrics: list[dict[str, Any]], colors: dict[str, str], badges: str
) -> str:
    lat, cost, tokens, human = model["latency"], model["cost"], model["tokens"], model["human"]
    cells = [_metric_cell(model["metrics"][m["name"]], m["fraction"]) for m in metrics]
    failures = model["failures"]
    cells.append(f"{failures['count']} ({_pct(failures['rate'], 0)})")
    cells.append(f"{_ms(lat['p50_ms'])} / {_ms(lat['p95_ms'])}")
    cells += [_ms(lat["ttft_p50_ms"]), _num(cost["per_item"]), _num(cost["per_1k_items"])]
    cells.append(f"{_num(tokens['prompt_per_item'])} / {_num(tokens['completion_per_item'])}")
    win = f"{_pct(human['win_rate'], 0)} <span class='ci'>of {human['comparisons']}</span>"
    score = f"{_num(human['score_mean'])} <span class='ci'>n={human['n_scores']}</span>"
    cells += [win if human["comparisons"] else "–", score if human["n_scores"] else "–"]
    name = f'{_swatch(colors[model["id"]])}<span class="model">{escape(model["id"])}</span>{badges}'
    tds = "".join(f'<td class="num">{cell}</td>' for cell in cells)
    return f'<tr><th scope="row">{name}<span class="ci">{escape(model["provider"])}</span></th>{tds}</tr>'


def _metric_cell(summary: dict[str, Any], fraction: bool) -> str:
    fmt = _pct if fraction else _num
    if summary["mean"] is None:
        return f"–<span class='ci'>{summary['n_ungraded']} ungraded</span>"
    low, high = summary["ci_low"], summary["ci_high"]
    ci = "no CI" if low is None else f"{fmt(low).rstrip('%')}–{fmt(high)}"
    ungraded = f", {summary['n_ungraded']} ungraded" if summary["n_ungraded"] else ""
    return f"{fmt(summary['mean'])}<span class='ci'>{ci} · n={summary['n_graded']}{ungraded}</span>"


def _badges(report: dict[str, Any], model_id: str) -> str:
    names = {"best_quality": "best", "cheapest_within_tolerance": "cheapest", "fastest": "fastest"}
    picks = report["recommendation"]
    return "".join(
        f' <span class="badge">{label}</span>'
        for key, label in names.items()
        if picks[key]["model"] == model_id
    )


def _examples(report: dict[str, Any], colors: dict[str, str]) -> str:
    models = report["models"]
    fractions = {m["name"]: m["fraction"] for m in report["metrics"]}
    heads = "".join(f'<th scope="col">{_swatch(colors[m["id"]])}{escape(m["id"])}</th>' for m in models)
    rows = [_example_row(row, models, fractions) for row in report["examples"]]
    head = f'<th scope="col">#</th><th scope="col">Prompt and reference</th>{heads}'
    return _table(head, rows, "Examples", "examples")


def _example_row(row: dict[str, Any], models: list[dict[str, Any]], fractions: dict[str, bool]) -> str:
    reference = row["reference"]
    ref_html = (
        f'<pre class="text">{escape(reference)}</pre>' if reference is not None else "<em>none (judged)</em>"
    )
    first = (
        f'<span class="label">Prompt</span><pre class="text">{escape(row["prompt"])}</pre>'
        f'<span class="label">Reference</span>{ref_html}'
    )
    cells = [_example_cell(row["models"][m["id"]], reference, fractions) for m in models]
    tds = "".join(f"<td>{cell}</td>" for cell in cells)
    failed = "true" if row["failed"] else "false"
    return f'<tr data-failed="{failed}"><td class="idx">{row["index"]}</td><td>{first}</td>{tds}</tr>'


def _example_cell(cell: dict[str, Any], reference: str | None, fractions: dict[str, bool]) -> str:
    state = "fail" if cell["failed"] else "pass"
    parts = [f'<span class="badge {state}">{state}</span>']
    if cell["output"] is not None:
        body = diff_html(reference, cell["output"]) if reference is not None else escape(cell["output"])
        parts.append(f'<pre class="text">{body}</pre>')
    if cell["error"]:
        parts.append(f'<span class="error">Error: {escape(cell["error"])}</span>')
    scores = [_score(name, score, fractions.get(name, True)) for name, score in cell["scores"].items()]
    if scores:
        parts.append(f'<span class="scores">{" · ".join(scores)}</span>')
    return "".join(parts)


def _score(name: str, score: dict[str, Any], fraction: bool) -> str:
    value = score["value"]
    shown = "ungraded" if value is None else f"{value:.2f}" if fraction else _num(value)
    title = f' title="{escape(score["detail"])}"' if score.get("detail") else ""  # why, on hover
    return f"<span{title}>{escape(name)} {shown}</span>"


def _table(head: str, rows: list[str], label: str, table_id: str = "") -> str:
    ident = f' id="{table_id}"' if table_id else ""
    return (
        f'<div class="scroll" role="region" aria-label="{label}" tabindex="0"><table{ident}>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _list(items: Any, css: str) -> str:
    return f'<ul class="{css}">' + "".join(f"<li>{escape(str(item))}</li>" for item in items) + "</ul>"


def _swatch(color: str) -> str:
    circle = f'<circle cx="5" cy="5" r="5" fill="{color}"/>'
    return f'<svg class="swatch" viewBox="0 0 10 10" aria-hidden="true">{circle}</svg>'


# --- charts -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Point:
    model: str
    color: str
    x: float
    y: float
    y_low: float | None = None
    y_high: float | None = None
    x_high: float | None = None  # p95 beside a p50, drawn as a dashed whisker


_Box = tuple[float, float, float, float]  # left, top, right, bottom


@dataclass(frozen=True, slots=True)
class _Axis:
    """Ticks spanning the data, mapped onto the pixels from ``start`` to ``end``."""

    ticks: list[float]
    start: float
    end: float
    fmt: Callable[[float], str]
    label: str

    def at(self, value: float) -> float:
        low, high = self.ticks[0], self.ticks[-1]
        return self.start + (value - low) / ((high - low) or 1.0) * (self.end - self.start)


def _x_axis(high: float, fmt: Callable[[float], str], label: str) -> _Axis:
    return _Axis(_nice_ticks(0.0, high), _LEFT, _WIDTH - _RIGHT, fmt, label)


def _y_axis(low: float, high: float, fmt: Callable[[float], str], label: str) -> _Axis:
    return _Axis(_nice_ticks(low, high), _HEIGHT - _BOTTOM, _TOP, fmt, label)


def _charts(report: dict[str, Any], colors: dict[str, str]) -> str:
    primary = report["primary_metric"]
    fraction = next((m["fraction"] for m in report["metrics"] if m["name"] == primary), True)
    cost, latency, skipped = [], [], []
    for model in report["models"]:
        metric = model["metrics"].get(primary) if primary else None
        if metric is None or metric["mean"] is None or model["latency"]["p50_ms"] is None:
            skipped.append(model["id"])
            continue
        base = (model["id"], colors[model["id"]])
        quality = (metric["mean"], metric["ci_low"], metric["ci_high"])
        cost.append(_Point(*base, model["cost"]["per_item"] or 0.0, *quality))
        latency.append(_Point(*base, model["latency"]["p50_ms"], *quality, model["latency"]["p95_ms"]))
    note = f"<p>Not plotted (no successful graded call): {escape(', '.join(skipped))}</p>" if skipped else ""
    y_label = f"{primary} (mean, 95% CI)"
    figures = (
        _figure(
            "chart-cost", "Quality vs cost per item", _scatter(cost, "cost per item", y_label, fraction), note
        ),
        _figure(
            "chart-latency",
            "Quality vs latency (p50, dashed to p95)",
            _scatter(latency, "latency p50 (ms)", y_label, fraction),
            note,
        ),
        _figure("chart-metrics", "Mean score per metric (95% CI)", _bars(report, colors), ""),
    )
    return f'<div class="charts">{"".join(figures)}</div>'


def _figure(ident: str, caption: str, svg: str, note: str) -> str:
    return f'<figure id="{ident}"><figcaption>{escape(caption)}</figcaption>{svg}{note}</figure>'


def _scatter(points: Sequence[_Point], x_label: str, y_label: str, fraction: bool) -> str:
    xs = [0.0] + [p.x_high if p.x_high is not None else p.x for p in points]
    ys = [v for p in points for v in (p.y, p.y_low, p.y_high) if v is not None] or [0.0, 1.0]
    x = _x_axis(max(xs), _num, x_label)
    y = _y_axis(*_padded(min(ys), max(ys), fraction), _pct_tick if fraction else _num, y_label)
    parts = [_axes(x, y)]
    # Labels must not cover any point or an earlier label: every point is an obstacle upfront.
    taken = [(x.at(p.x) - 7, y.at(p.y) - 7, x.at(p.x) + 7, y.at(p.y) + 7) for p in points]
    for p in sorted(points, key=lambda p: -p.y):
        parts.append(_marker(p, x, y, taken))
    legend, legend_height = _legend([(p.model, p.color) for p in points])
    return _svg("".join(parts) + legend, _HEIGHT + legend_height, f"{y_label} against {x_label}")


def _marker(p: _Point, x: _Axis, y: _Axis, taken: list[_Box]) -> str:
    cx, cy = x.at(p.x), y.at(p.y)
    marks = [f"<title>{escape(p.model)}: {y.fmt(p.y)} at {x.fmt(p.x)} {escape(x.label)}</title>"]
    if p.y_low is not None and p.y_high is not None:
        marks.append(_line(cx, y.at(p.y_low), cx, y.at(p.y_high), p.color, 1.5))
    if p.x_high is not None:
        marks.append(_line(cx, cy, x.at(p.x_high), cy, p.color, 1.5, dash=True))
    marks.append(
        f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="6" fill="{p.color}" stroke="#fff" stroke-width="1.5"/>'
    )
    marks.append(_label(cx, cy, _short(p.model), taken))
    return f"<g>{''.join(marks)}</g>"


def _label(cx: float, cy: float, text: str, taken: list[_Box]) -> str:
    """A point's name at the first free spot beside it; none in a crowd (the legend names it)."""
    width = len(text) * 7.0  # 11px semi-bold, estimated generously: Python cannot measure text
    for dx, dy in ((9, -8), (-9, -8), (9, 17), (-9, 17), (9, 30), (-9, 30)):
        left = cx + dx if dx > 0 else cx + dx - width
        box = (left, cy + dy - 10, left + width, cy + dy + 2)
        inside = box[0] >= _LEFT and box[2] <= _WIDTH and box[1] >= 0
        if inside and not any(_overlap(box, other) for other in taken):
            taken.append(box)
            return _text(cx + dx, cy + dy, text, "name", "start" if dx > 0 else "end")
    return ""


def _overlap(a: _Box, b: _Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _bars(report: dict[str, Any], colors: dict[str, str]) -> str:
    metrics = [m for m in report["metrics"] if m["fraction"]] or report["metrics"]
    fraction = all(m["fraction"] for m in metrics)
    models = report["models"]
    highs = [model["metrics"][m["name"]] for m in metrics for model in models]
    top = max([s["ci_high"] or s["mean"] or 0.0 for s in highs] + [1.0 if fraction else 0.0])
    y = _y_axis(0.0, top, _pct_tick if fraction else _num, "mean score")
    group = (_WIDTH - _LEFT - _RIGHT) / max(len(metrics), 1)
    width = group * 0.8 / max(len(models), 1)
    parts = [_axes(None, y)]
    for gi, metric in enumerate(metrics):
        x0 = _LEFT + gi * group + group * 0.1
        parts.append(
            _text(x0 + group * 0.4, _HEIGHT - _BOTTOM + 18, _short(metric["name"]), "axis", "middle")
        )
        for mi, model in enumerate(models):
            summary = model["metrics"][metric["name"]]
            tip = f"{model['id']}: {metric['name']} " + (
                "ungraded" if summary["mean"] is None else y.fmt(summary["mean"])
            )
            parts.append(_bar(x0 + mi * width, width, summary, y, colors[model["id"]], tip))
    legend, legend_height = _legend([(m["id"], colors[m["id"]]) for m in models])
    return _svg("".join(parts) + legend, _HEIGHT + legend_height, "mean score per metric and model")


def _bar(x: float, width: float, summary: dict[str, Any], y: _Axis, color: str, tip: str) -> str:
    marks = [f"<title>{escape(tip)}</title>"]
    if summary["mean"] is None:
        marks.append(_text(x + width / 2, y.at(0) - 4, "–", "tick", "middle"))
        return f"<g>{''.join(marks)}</g>"
    top, base = y.at(summary["mean"]), y.at(0)
    marks.append(
        f'<rect x="{x + 1:.1f}" y="{top:.1f}" width="{max(width - 2, 1):.1f}" '
        f'height="{max(base - top, 0):.1f}" fill="{color}"/>'
    )
    if summary["ci_low"] is not None and summary["ci_high"] is not None:
        mid = x + width / 2
        marks.append(_line(mid, y.at(summary["ci_low"]), mid, y.at(summary["ci_high"]), "#1b1f24", 1.2))
    return f"<g>{''.join(marks)}</g>"


def _legend(models: list[tuple[str, str]]) -> tuple[str, float]:
    """An in-chart legend below the plot, wrapped into rows by an estimate of each name's width."""
    items, x, y = [], 16.0, _HEIGHT + 8.0
    for model, color in models:
        name = _short(model, 36)
        width = 26 + len(name) * 6.8
        if x + width > _WIDTH - _RIGHT and x > 16:
            x, y = 16.0, y + 18
        items.append(f'<circle cx="{x + 5:.1f}" cy="{y - 4:.1f}" r="5" fill="{color}"/>')
        items.append(_text(x + 14, y, name, "axis"))
        x += width
    return "<g>" + "".join(items) + "</g>", y - _HEIGHT + 8


def _axes(x: _Axis | None, y: _Axis) -> str:
    bottom, left, right = _HEIGHT - _BOTTOM, _LEFT, _WIDTH - _RIGHT
    parts = []
    for t in y.ticks:
        parts.append(_line(left, y.at(t), right, y.at(t), "#d0d7de", 1))
        parts.append(_text(left - 6, y.at(t) + 4, y.fmt(t), "tick", "end"))
    for t in x.ticks if x is not None else []:
        parts.append(_line(x.at(t), _TOP, x.at(t), bottom, "#eaeef2", 1))
        parts.append(_text(x.at(t), bottom + 16, x.fmt(t), "tick", "middle"))
    parts.append(_line(left, bottom, right, bottom, "#57606a", 1))
    if x is not None:
        parts.append(_text((left + right) / 2, bottom + 36, x.label, "axis", "middle"))
    middle = (_TOP + bottom) / 2
    parts.append(
        f'<text transform="translate(14 {middle:.1f}) rotate(-90)" class="axis" text-anchor="middle">'
        f"{escape(y.label)}</text>"
    )
    return "".join(parts)


def _svg(body: str, height: float, label: str) -> str:
    return f'<svg viewBox="0 0 {_WIDTH} {height:.0f}" role="img" aria-label="{escape(label)}">{body}</svg>'


def _line(x1: float, y1: float, x2: float, y2: float, color: str, width: float, dash: bool = False) -> str:
    pattern = ' stroke-dasharray="4 3"' if dash else ""
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{color}" '
        f'stroke-width="{width}"{pattern}/>'
    )


def _text(x: float, y: float, text: str, css: str, anchor: str = "start") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" class="{css}" text-anchor="{anchor}">{escape(text)}</text>'


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 times a power of ten) spanning [low, high]."""
    if high <= low:
        high = low + (abs(low) or 1.0)
    raw = (high - low) / count
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * (1 - 1e-9))
    ticks = [round(math.floor(low / step + 1e-9) * step, 12)]
    while ticks[-1] < high - 1e-12:
        ticks.append(round(ticks[-1] + step, 12))
    return ticks


def _padded(low: float, high: float, fraction: bool) -> tuple[float, float]:
    pad = max((high - low) * 0.1, 0.02 if fraction else abs(high) * 0.05 or 0.1)
    low, high = low - pad, high + pad
    return (max(low, 0.0), min(high, 1.0)) if fraction else (low, high)


# --- number formats ----------------------------------------------------------------------


def _pct(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value * 100:.{digits}f}%"


def _pct_tick(value: float) -> str:
    return f"{value * 100:g}%"


def _num(value: float | None) -> str:
    if value is None:
        return "–"
    if value == 0 or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _ms(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"


def _short(text: str, limit: int = 24) -> str:
    """Elides the middle: model ids differ at the end (ft:base:org:run-id) as often as the start."""
    keep = (limit - 1) // 2
    return text if len(text) <= limit else f"{text[:keep]}…{text[-(limit - 1 - keep) :]}"
