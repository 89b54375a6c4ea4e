"""A labelled dataset for "a sales question in Chinese -> a JSON chart spec".

The seed documents show it on stage: "华北地区2019年3月的销售额,用折线图表示" must become
a chart specification. Questions are generated from templates with a seeded RNG, so the
same seed gives the same dataset on every machine; the answer is the canonical JSON
(fixed key order, no spaces), which makes exact match (after stripping whitespace) a fair score.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

__all__ = ["SYSTEM_PROMPT", "ChartExample", "generate", "to_chat"]

SYSTEM_PROMPT = "把销售问题转换成JSON图表配置。"
REGIONS = ("华北", "华东", "华南", "华中", "西南", "西北", "东北")
METRICS = {"销售额": "sales", "利润": "profit", "订单量": "orders", "客单价": "avg_order_value"}
CHARTS = {"折线图": "line", "柱状图": "bar", "饼图": "pie", "面积图": "area"}
TEMPLATES = (
    "{region}地区{period}的{metric},用{chart}表示",
    "请用{chart}展示{region}{period}的{metric}",
    "帮我画一个{chart},看看{region}地区{period}的{metric}",
    "{period}{region}的{metric}是多少?用{chart}画出来",
    "用{chart}显示{region}地区{period}{metric}",
)


@dataclass(frozen=True, slots=True)
class ChartExample:
    question: str
    answer: str


def _period(rng: random.Random) -> tuple[str, str]:
    year = rng.randint(2018, 2024)
    kind = rng.choice(("month", "quarter", "year"))
    if kind == "month":
        month = rng.randint(1, 12)
        return f"{year}年{month}月", f"{year}-{month:02d}"
    if kind == "quarter":
        quarter = rng.randint(1, 4)
        return f"{year}年第{quarter}季度", f"{year}-Q{quarter}"
    return f"{year}年", str(year)


def _example(rng: random.Random) -> ChartExample:
    region = rng.choice(REGIONS)
    metric_text, metric = rng.choice(sorted(METRICS.items()))
    chart_text, chart = rng.choice(sorted(CHARTS.items()))
    period_text, period = _period(rng)
    question = rng.choice(TEMPLATES).format(
        region=region, period=period_text, metric=metric_text, chart=chart_text
    )
    spec = {"region": region, "metric": metric, "period": period, "chart": chart}
    return ChartExample(question, json.dumps(spec, ensure_ascii=False, separators=(",", ":")))


def generate(
    n_train: int = 100, n_test: int = 40, *, seed: int = 2019
) -> tuple[list[ChartExample], list[ChartExample]]:
    """Distinct questions, split into train and held-out sets that share none."""
    rng = random.Random(seed)
    seen: set[str] = set()
    examples: list[ChartExample] = []
    while len(examples) < n_train + n_test:
        example = _example(rng)
        if example.question not in seen:
            seen.add(example.question)
            examples.append(example)
    return examples[:n_train], examples[n_train:]


def to_chat(example: ChartExample, *, with_answer: bool = True) -> dict[str, Any]:
    messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": example.question}]
    if with_answer:
        messages.append({"role": "assistant", "content": example.answer})
    return {"messages": messages}
