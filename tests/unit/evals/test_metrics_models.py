"""Metrics that call a model through the context: the judge and embedding similarity."""

from __future__ import annotations

import asyncio
import math
import re
from typing import Any

import pytest

from modelyard.errors import UpstreamError
from modelyard.evals.metrics import Case, MetricContext, build_metrics
from modelyard.evals.metrics.judge import DEFAULT_RUBRIC, JUDGE_CONCURRENCY
from modelyard.evals.results import EvalItem, Score


def _item(index: int, reference: str | None = "ref", question: str = "What is 2+2?") -> EvalItem:
    return EvalItem(
        index=index, prompt=question, messages=[{"role": "user", "content": question}], reference=reference
    )


def _answer_in(messages: list[dict[str, str]]) -> str:
    found = re.search(r"<answer>\n(.*)\n</answer>", messages[-1]["content"], re.DOTALL)
    assert found, messages
    return found.group(1)


class FakeJudge:
    """Replies chosen by the answer being judged; records every call and the peak concurrency."""

    def __init__(self, replies: dict[str, str | Exception]) -> None:
        self.replies = replies
        self.calls: list[tuple[str, list[dict[str, str]]]] = []
        self.in_flight = self.peak = 0

    async def __call__(self, model: str, messages: list[dict[str, str]]) -> str:
        self.calls.append((model, messages))
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(0.005)
            reply = self.replies[_answer_in(messages)]
            if isinstance(reply, Exception):
                raise reply
            return reply
        finally:
            self.in_flight -= 1


def _judge(spec: dict[str, Any], judge: FakeJudge, cases: list[Case]) -> list[Score]:
    (metric,) = build_metrics([{"name": "judge", "model": "judge-model", **spec}])
    return asyncio.run(metric.score(cases, MetricContext(judge=judge)))


def test_judge_pass_fail_keeps_reasons_and_survives_every_kind_of_bad_reply() -> None:
    judge = FakeJudge(
        {
            "a1": '{"score": "pass", "reason": "correct"}',
            "a2": '{"score": "fail", "reason": "wrong total"}',
            "a3": 'The answer is right.\n```json\n{"score": "PASS", "reason": "fine"}\n```\nDone.',
            "a4": "I cannot decide {not json",
            "a5": '{"score": 7, "reason": "??"}',
            "a6": UpstreamError("judge model overloaded"),
            "a7": "PASS",
            "a8": '{"verdict": true}',
        }
    )
    cases = [(_item(i), f"a{i}") for i in range(1, 9)]
    scores = _judge({"scale": "pass_fail"}, judge, cases)
    assert [s.value for s in scores] == [1.0, 0.0, 1.0, None, None, None, 1.0, 1.0]
    assert [s.detail for s in scores[:3]] == ["correct", "wrong total", "fine"]
    ungraded = [s.detail or "" for s in scores if s.value is None]
    assert len(ungraded) == 3 and all(d.startswith("ungraded: ") for d in ungraded)
    assert "no score found" in ungraded[0] and "I cannot decide" in ungraded[0]
    assert "expected pass or fail, got 7" in ungraded[1]
    assert "judge model overloaded" in ungraded[2]
    assert {model for model, _ in judge.calls} == {"judge-model"} and len(judge.calls) == 8


def test_judge_numeric_scales_normalise_and_refuse_out_of_range() -> None:
    replies: dict[str, str | Exception] = {
        "one": '{"score": 1, "reason": "bad"}',
        "four": 'Sure! {"score": 4, "reason": "mostly right"} Hope this helps.',
        "five": '{"score": "5"}',
        "prose": "**Score:** 3/5 - partially correct",
        "high": '{"score": 6, "reason": "great"}',
        "zero": '{"score": 0}',
        "bool": '{"score": true}',
        "nan": '{"score": NaN}',
        "garbage": "¯\\_(ツ)_/¯",
        "raises": RuntimeError("connection reset"),
    }
    cases = [(_item(i), answer) for i, answer in enumerate(replies)]
    scores = _judge({"scale": "1-5"}, FakeJudge(replies), cases)
    assert [s.value for s in scores] == [0.0, 0.75, 1.0, 0.5, None, None, None, None, None, None]
    assert scores[1].detail == "mostly right"
    details = [s.detail or "" for s in scores[4:]]
    assert "outside 1-5" in details[0] and "outside 1-5" in details[1]
    assert "expected a number" in details[2] and "outside 1-5" in details[3]
    assert "no score found" in details[4] and "RuntimeError: connection reset" in details[5]

    ten = _judge(
        {"scale": "0-10"},
        FakeJudge({"x": "Score: 7", "y": '{"score": 10.5}'}),
        [(_item(0), "x"), (_item(1), "y")],
    )
    assert ten[0].value == pytest.approx(0.7) and ten[1].value is None


def test_judge_never_raises_on_a_non_text_reply() -> None:
    async def odd(model: str, messages: list[dict[str, str]]) -> Any:
        return None

    (metric,) = build_metrics([{"name": "judge", "model": "m"}])
    (score,) = asyncio.run(metric.score([(_item(0), "x")], MetricContext(judge=odd)))
    assert score.value is None and "NoneType" in (score.detail or "")


def test_judge_prompt_carries_rubric_question_reference_and_answer() -> None:
    judge = FakeJudge({"4": '{"score": "pass"}'})
    _judge({"rubric": "Arithmetic must be exact."}, judge, [(_item(0, reference="four"), "4")])
    _judge({"include_reference": False}, judge, [(_item(1, reference="four"), "4")])
    _judge({}, judge, [(_item(2, reference=None), "4")])
    with_reference, without, no_reference = (messages for _, messages in judge.calls)
    assert with_reference[0]["role"] == "system" and "judge" in with_reference[0]["content"]
    prompt = with_reference[-1]["content"]
    assert "Arithmetic must be exact." in prompt and "What is 2+2?" in prompt
    assert "<reference>\nfour\n</reference>" in prompt and '"pass" or "fail"' in prompt
    assert "<reference>" not in without[-1]["content"] and DEFAULT_RUBRIC in without[-1]["content"]
    assert "<reference>" not in no_reference[-1]["content"]


def test_judge_calls_run_concurrently_but_bounded() -> None:
    replies: dict[str, str | Exception] = {f"a{i}": '{"score": "pass"}' for i in range(30)}
    judge = FakeJudge(replies)
    scores = _judge({}, judge, [(_item(i), f"a{i}") for i in range(30)])
    assert [s.value for s in scores] == [1.0] * 30
    assert judge.peak == JUDGE_CONCURRENCY


# -- embedding_similarity ---------------------------------------------------------------------


class FakeEmbed:
    def __init__(self, vectors: dict[str, list[float]], fail: Exception | None = None) -> None:
        self.vectors, self.fail = vectors, fail
        self.calls: list[tuple[str, list[str]]] = []

    async def __call__(self, model: str, texts: list[str]) -> list[list[float]]:
        self.calls.append((model, list(texts)))
        if self.fail is not None:
            raise self.fail
        return [self.vectors[text] for text in texts]


VECTORS = {
    "same": [1.0, 2.0, 3.0],
    "same-ref": [2.0, 4.0, 6.0],
    "diag": [1.0, 1.0, 0.0],
    "x-axis": [1.0, 0.0, 0.0],
    "opposite": [-1.0, -2.0, -3.0],
    "zero": [0.0, 0.0, 0.0],
}


def _similarity(embed: FakeEmbed, cases: list[Case], **options: Any) -> list[Score]:
    (metric,) = build_metrics([{"name": "embedding_similarity", **options}])
    return asyncio.run(metric.score(cases, MetricContext(embed=embed)))


def test_embedding_similarity_embeds_everything_in_one_call() -> None:
    embed = FakeEmbed(VECTORS)
    cases: list[Case] = [
        (_item(0, "same-ref"), "same"),
        (_item(1, "x-axis"), "diag"),
        (_item(2, None), "same"),
        (_item(3, "same"), "opposite"),
        (_item(4, "same"), "zero"),
    ]
    scores = _similarity(embed, cases, model="my-embedder")
    assert embed.calls == [
        ("my-embedder", ["same", "diag", "opposite", "zero", "same-ref", "x-axis", "same", "same"])
    ]
    assert [s.value for s in scores] == [pytest.approx(1.0), pytest.approx(1 / math.sqrt(2)), None, 0.0, None]
    assert "no reference" in (scores[2].detail or "") and "all zeros" in (scores[4].detail or "")


def test_embedding_similarity_default_model_and_failures_are_ungraded() -> None:
    embed = FakeEmbed(VECTORS)
    _similarity(embed, [(_item(0, "same"), "same")])
    assert embed.calls[0][0] == "all-minilm-l6-v2"

    down = FakeEmbed(VECTORS, fail=UpstreamError("embedding model unavailable"))
    scores = _similarity(down, [(_item(0, "same"), "same"), (_item(1, "diag"), "diag")])
    assert [s.value for s in scores] == [None, None]
    assert all("embedding model unavailable" in (s.detail or "") for s in scores)

    class Short(FakeEmbed):
        async def __call__(self, model: str, texts: list[str]) -> list[list[float]]:
            return (await super().__call__(model, texts))[:-1]

    (score,) = _similarity(Short(VECTORS), [(_item(0, "same"), "same")])
    assert score.value is None and "1 vectors for 2 texts" in (score.detail or "")


def test_embedding_similarity_without_references_makes_no_call() -> None:
    embed = FakeEmbed(VECTORS)
    assert [s.value for s in _similarity(embed, [(_item(0, None), "same")])] == [None]
    assert _similarity(embed, []) == []
    assert embed.calls == []
