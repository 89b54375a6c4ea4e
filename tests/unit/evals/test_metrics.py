"""String, JSON and token metrics on hand-made cases, and the metric registry."""

from __future__ import annotations

import asyncio
import json
import re
import string
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest

from modelyard.errors import InvalidRequest
from modelyard.evals.metrics import (
    Case,
    CaseMetric,
    MetricConfig,
    MetricContext,
    available_metrics,
    build_metrics,
    matching,
    register_metric,
    registry,
)
from modelyard.evals.results import EvalItem, Score
from tests.helpers.deadlines import scaled


def item(reference: str | None, question: str = "q", index: int = 0) -> EvalItem:
    return EvalItem(
        index=index, prompt=question, messages=[{"role": "user", "content": question}], reference=reference
    )


def grade(spec: dict[str, Any], cases: Sequence[tuple[str | None, str]]) -> list[Score]:
    (metric,) = build_metrics([spec])
    pairs: list[Case] = [(item(reference, index=i), output) for i, (reference, output) in enumerate(cases)]
    return asyncio.run(metric.score(pairs, MetricContext()))


def values(spec: dict[str, Any], cases: Sequence[tuple[str | None, str]]) -> list[float | None]:
    return [score.value for score in grade(spec, cases)]


# -- exact_match, contains, regex ------------------------------------------------------------


def test_exact_match_strips_by_default_and_nothing_else() -> None:
    cases = [("Paris", " Paris\n"), ("Paris", "paris"), ("Paris", "Paris."), ("Paris", "Lyon")]
    assert values({"name": "exact_match"}, cases) == [1.0, 0.0, 0.0, 0.0]


def test_exact_match_normalisations_apply_in_a_fixed_order() -> None:
    spec = {
        "name": "exact_match",
        "normalize": ["strip", "remove_punctuation", "lower", "collapse_whitespace"],
    }
    cases = [("New York", " new   york . "), ("北京", "北京。"), ("a-b", "ab"), ("New York", "Newyork")]
    assert values(spec, cases) == [1.0, 1.0, 1.0, 0.0]
    # strip listed first still runs after punctuation removal leaves a trailing space
    assert values(
        {"name": "exact_match", "normalize": ["strip", "remove_punctuation"]}, [("Paris", "Paris .")]
    ) == [1.0]


def test_a_missing_reference_is_ungraded_with_a_reason() -> None:
    (score,) = grade({"name": "exact_match"}, [(None, "anything")])
    assert score.value is None and "no reference" in (score.detail or "")


def test_contains_reference_or_substring() -> None:
    cases = [("Paris", "The capital is Paris."), ("Paris", "the capital is paris"), ("Paris", "Lyon")]
    assert values({"name": "contains"}, cases) == [1.0, 0.0, 0.0]
    assert values({"name": "contains", "normalize": ["lower"]}, cases) == [1.0, 1.0, 0.0]
    # with its own substring the metric needs no reference
    (metric,) = build_metrics([{"name": "contains", "substring": "OK"}])
    assert metric.requires_reference is False
    assert values({"name": "contains", "substring": "OK"}, [(None, "status: OK"), ("OK", "fail")]) == [
        1.0,
        0.0,
    ]


def test_contains_with_nothing_left_to_look_for_is_ungraded() -> None:
    (score,) = grade({"name": "contains", "normalize": ["remove_punctuation", "strip"]}, [("...", "text")])
    assert score.value is None and "nothing to look for" in (score.detail or "")


def test_regex_search_fullmatch_and_case() -> None:
    cases = [(None, "order #1234 shipped"), (None, "1234"), (None, "no number")]
    assert values({"name": "regex", "pattern": r"\d{4}"}, cases) == [1.0, 1.0, 0.0]
    assert values({"name": "regex", "pattern": r"\d{4}", "mode": "fullmatch"}, cases) == [0.0, 1.0, 0.0]
    assert values({"name": "regex", "pattern": "^NO", "ignore_case": True}, cases) == [0.0, 0.0, 1.0]


def test_regex_that_backtracks_forever_is_ungraded_not_stuck(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matching, "REGEX_TIMEOUT_S", 0.05)
    (score,) = grade({"name": "regex", "pattern": "(x+x+)+y"}, [(None, "x" * 5000)])
    assert score.value is None and "took over" in (score.detail or "")


# -- json_valid, json_match --------------------------------------------------------------------


def test_json_valid_with_and_without_fences() -> None:
    cases = [(None, '{"a": 1}'), (None, '```json\n{"a": 1}\n```'), (None, "{'a': 1}"), (None, "[1, 2]")]
    assert values({"name": "json_valid"}, cases) == [1.0, 1.0, 0.0, 1.0]
    assert values({"name": "json_valid", "strip_code_fences": False}, cases) == [1.0, 0.0, 0.0, 1.0]
    assert "not valid JSON" in (grade({"name": "json_valid"}, [(None, "{oops")])[0].detail or "")


def test_json_match_top_level_fields() -> None:
    reference = json.dumps({"a": 1, "b": "x", "c": [1, 2], "e": True})
    output = json.dumps({"a": 1.0, "b": "y", "c": [1, 2], "d": 0, "e": 1})
    (score,) = grade({"name": "json_match"}, [(reference, output)])
    assert score.value == pytest.approx(2 / 4)  # a (1 == 1.0) and c match; b differs; true is not 1
    assert score.detail == "differ: b, e"
    (score,) = grade({"name": "json_match"}, [(reference, '```json\n{"a": 1}\n```')])
    assert score.value == pytest.approx(1 / 4) and score.detail == "missing: b, c, e"


def test_json_match_deep_compares_leaves() -> None:
    reference = json.dumps({"a": {"b": 1, "c": 2}, "d": [True, 3]})
    output = json.dumps({"a": {"b": 1, "c": 3}, "d": [1, 3]})
    assert values({"name": "json_match", "deep": True}, [(reference, output)]) == [0.5]
    assert values({"name": "json_match"}, [(reference, output)]) == [0.0]
    (score,) = grade({"name": "json_match", "deep": True}, [(reference, output)])
    assert score.detail == "differ: a.c, d.0"


def test_json_match_invalid_output_scores_zero_invalid_reference_is_ungraded() -> None:
    bad_output, bad_reference = grade({"name": "json_match"}, [('{"a": 1}', "not json"), ("not json", "{}")])
    assert bad_output.value == 0.0 and "output is not valid JSON" in (bad_output.detail or "")
    assert bad_reference.value is None and "reference is not valid JSON" in (bad_reference.detail or "")


def test_json_match_non_object_and_empty_references() -> None:
    cases = [("[1, 2]", "[1, 2]"), ("[1, 2]", "[2, 1]"), ("{}", "{}"), ("{}", '{"a": 1}'), ("3", "3.0")]
    assert values({"name": "json_match"}, cases) == [1.0, 0.0, 1.0, 0.0, 1.0]


# -- token_f1 ---------------------------------------------------------------------------------


def _official_squad_f1(prediction: str, truth: str) -> float:
    """SQuAD v1.1's evaluate-v1.1.py, verbatim in substance (ASCII punctuation only)."""

    def normalize(s: str) -> str:
        s = "".join(ch for ch in s.lower() if ch not in set(string.punctuation))
        return " ".join(re.sub(r"\b(a|an|the)\b", " ", s).split())

    p, t = normalize(prediction).split(), normalize(truth).split()
    same = sum((Counter(p) & Counter(t)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(p), same / len(t)
    return 2 * precision * recall / (precision + recall)


ENGLISH_F1 = [
    ("the cat sat on the mat", "a cat on a mat"),
    ("Denver Broncos", "The Denver Broncos!"),
    ("Saint Bernadette Soubirous", "Bernadette"),
    ("in 1998, it was", "1998"),
    ("completely different", "Paris"),
    ("Beyoncé's first album", "her first solo album"),
]


@pytest.mark.parametrize(("output", "reference"), ENGLISH_F1)
def test_token_f1_equals_the_squad_script_on_english(output: str, reference: str) -> None:
    assert values({"name": "token_f1"}, [(reference, output)]) == [
        pytest.approx(_official_squad_f1(output, reference))
    ]


def test_token_f1_hand_computed_and_cjk_per_character() -> None:
    cases = [
        ("a cat on a mat", "the cat sat on the mat"),  # 3 common; P 3/4, R 1
        ("我爱北京", "我爱上海"),  # characters: 2 of 4 common
        ("GPT-4 模型", "GPT-4是模型"),  # gpt4 模 型 vs gpt4 是 模 型
        ("a", "the"),  # both empty after removing articles: agree
        ("Paris", ""),
    ]
    assert values({"name": "token_f1"}, cases) == [
        pytest.approx(6 / 7),
        pytest.approx(0.5),
        pytest.approx(6 / 7),
        1.0,
        0.0,
    ]


# -- registry ---------------------------------------------------------------------------------


class _EchoConfig(MetricConfig):
    factor: float = 1.0


class _Echo(CaseMetric[_EchoConfig]):
    """Test metric: the output's length times a factor."""

    config_class = _EchoConfig
    requires_reference = False

    def score_one(self, item: EvalItem, output: str) -> Score:
        return Score(len(output) * self.config.factor)


def test_a_plug_in_registers_builds_and_is_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_METRICS", dict(registry._METRICS))
    register_metric("echo_length")(_Echo)
    assert _Echo.name == "echo_length"
    assert values({"name": "echo_length", "factor": 0.5}, [(None, "abcd")]) == [2.0]
    listed = {entry["name"]: entry for entry in available_metrics()}
    assert listed["echo_length"]["options"]["properties"]["factor"]["default"] == 1.0
    assert listed["echo_length"]["description"] == "Test metric: the output's length times a factor."


def test_registry_refuses_a_duplicate_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_METRICS", dict(registry._METRICS))
    with pytest.raises(ValueError, match="already registered"):
        register_metric("exact_match")(_Echo)
    register_metric("echo_once")(_Echo)
    with pytest.raises(ValueError, match="already registered"):
        register_metric("echo_once")(_Echo)


@pytest.mark.parametrize(
    ("specs", "param", "words"),
    [
        ([{"name": "no_such_metric"}], "metrics.0.name", "unknown metric"),
        ([{"name": "exact_match"}, {"normalize": ["lower"]}], "metrics.1.name", "unknown metric"),
        ([{"name": "exact_match"}, "rouge_l"], "metrics.1", "must be an object"),
        ([{"name": "exact_match", "typo": 1}], "metrics.0.typo", "not permitted"),
        ([{"name": "exact_match", "normalize": ["upper"]}], "metrics.0.normalize.0", "normalize.0"),
        ([{"name": "regex", "pattern": "("}], "metrics.0.pattern", "invalid regular expression"),
        ([{"name": "regex"}], "metrics.0.pattern", "required"),
        ([{"name": "judge"}], "metrics.0.model", "required"),
        ([{"name": "judge", "model": "m", "scale": "1-10"}], "metrics.0.scale", "scale"),
        ([{"name": "bleu", "tokenize": "ja-mecab"}], "metrics.0.tokenize", "tokenize"),
        ([{"name": "rouge_l", "tokenizer": "whitespace"}], "metrics.0.tokenizer", "tokenizer"),
        ([{"name": "contains", "substring": ""}], "metrics.0.substring", "substring"),
    ],
)
def test_bad_specs_are_refused_with_the_field_named(specs: list[Any], param: str, words: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        build_metrics(specs)
    assert caught.value.param == param
    assert words in caught.value.message
    assert caught.value.status_code == 400


def test_build_metrics_keeps_order_names_and_options() -> None:
    built = build_metrics(
        [
            {"name": "exact_match", "normalize": ["lower"]},
            {"name": "judge", "model": "gemma-3-270m", "rubric": "Be kind.", "scale": "1-5"},
            {"name": "rouge_l"},
        ]
    )
    assert [metric.name for metric in built] == ["exact_match", "judge", "rouge_l"]
    assert built[0].config.normalize == ["lower"]
    assert built[1].config.scale == "1-5" and built[1].requires_reference is False
    assert built[2].requires_reference is True


def test_available_metrics_lists_every_builtin_with_a_json_schema() -> None:
    listed = {entry["name"]: entry for entry in available_metrics()}
    builtins = {"exact_match", "contains", "regex", "json_valid", "json_match", "token_f1"}
    builtins |= {"rouge_l", "bleu", "embedding_similarity", "judge"}
    assert builtins <= set(listed)
    assert listed["exact_match"]["options"]["properties"]["normalize"]["default"] == ["strip"]
    assert listed["judge"]["options"]["required"] == ["model"]
    assert listed["judge"]["requires_reference"] is False and listed["bleu"]["requires_reference"] is True
    assert all(entry["description"] for entry in listed.values())
    json.dumps(available_metrics())  # served as-is by the API


def test_importing_the_metrics_does_not_import_heavy_libraries() -> None:
    code = (
        "import sys, modelyard.evals.metrics as m; m.build_metrics([{'name': 'rouge_l'}, {'name': 'bleu'}]);"
        "print(sorted(x for x in ('numpy', 'torch', 'rouge_score', 'sacrebleu', 'nltk') if x in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=scaled(60)
    )
    assert result.stdout.strip() == "[]"
