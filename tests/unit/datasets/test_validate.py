"""Which examples are usable, why the others are not, and how many tokens they hold."""

from __future__ import annotations

import json

import pytest

from modelyard.datasets import estimate_tokens, training_text, validate
from modelyard.errors import InvalidRequest
from modelyard.prompting import Message, render_prompt


def chat(*turns: tuple[str, str]) -> str:
    return json.dumps({"messages": [{"role": r, "content": c} for r, c in turns]})


def qa(question: str, answer: str | None = "ok") -> str:
    return chat(("user", question), *([("assistant", answer)] if answer is not None else []))


def words(text: str) -> int:
    return len(text.split())


# One line of every kind of problem, at a known line number.
LINES = [
    qa("first question", "first answer"),  # 1 good
    "{oops",  # 2 invalid_json
    "[1, 2]",  # 3 invalid_shape
    qa("no answer", None),  # 4 missing_assistant
    qa("empty answer", ""),  # 5 empty_content
    chat(("user", "hi"), ("wizard", "x"), ("assistant", "y")),  # 6 unknown_role
    qa("first question", "first answer"),  # 7 duplicate of 1
    qa("very " * 100 + "long", "ok"),  # 8 too_long (with a tokenizer and a context)
    chat(("system", "only a system turn"), ("assistant", "hm")),  # 9 invalid_shape: no user turn
    qa("second question", "second answer"),  # 10 good
]
EXPECTED = {
    2: "invalid_json",
    3: "invalid_shape",
    4: "missing_assistant",
    5: "empty_content",
    6: "unknown_role",
    7: "duplicate",
    8: "too_long",
    9: "invalid_shape",
}


def test_every_kind_of_bad_line_is_reported_with_its_line_number() -> None:
    report = validate("\n".join(LINES), purpose="fine-tune", count_tokens=words, context_length=50)
    assert {p.line: p.code for p in report.problems} == EXPECTED
    by_line = {p.line: p for p in report.problems}
    assert by_line[7].message == "duplicate of line 1"
    assert "wizard" in by_line[6].message and "message 2" in by_line[6].message
    assert "50" in by_line[8].message and "about" not in by_line[8].message
    assert [e[0].content for e in report.examples] == ["first question", "second question"]
    assert not report.rejected and report.format == "chat"
    assert report.stats["dropped"] == 8 and report.stats["problems_by_code"]["invalid_shape"] == 2


def test_too_long_needs_both_a_counter_and_a_context_length() -> None:
    text = "\n".join(LINES)
    for kwargs in ({}, {"count_tokens": words}, {"context_length": 50}):
        report = validate(text, purpose="fine-tune", **kwargs)
        assert "too_long" not in {p.code for p in report.problems}
    estimated = validate(text, purpose="fine-tune", count_tokens=estimate_tokens, context_length=50)
    [too_long] = [p for p in estimated.problems if p.code == "too_long"]
    assert too_long.line == 8 and "about" in too_long.message
    assert estimated.stats["token_counts_estimated"] is True


def test_evals_may_leave_out_the_answer_but_fine_tuning_may_not() -> None:
    text = "\n".join([qa("judge me", None), qa("with a reference", "ref")])
    evals = validate(text, purpose="evals")
    assert evals.problems == [] and len(evals.examples) == 2 and evals.stats["with_answer"] == 1
    tune = validate(text, purpose="fine-tune")
    assert [(p.line, p.code) for p in tune.problems] == [(1, "missing_assistant")]


def test_a_file_with_nothing_usable_is_rejected_listing_its_problems() -> None:
    lines = ["{bad"] * 12 + [qa("q", None)]
    report = validate("\n".join(lines), purpose="fine-tune")
    assert report.rejected and report.examples == []
    with pytest.raises(InvalidRequest) as caught:
        report.raise_if_rejected()
    message = caught.value.message
    assert message.startswith("the file has no usable examples: line 1: not valid JSON")
    assert "line 10:" in message and "line 11:" not in message and "and 3 more" in message
    assert caught.value.param == "file" and caught.value.status_code == 400


def test_an_empty_file_is_rejected() -> None:
    report = validate(b"\n\n", purpose="fine-tune")
    assert report.rejected
    with pytest.raises(InvalidRequest, match="no examples"):
        report.raise_if_rejected()


def test_more_lines_than_the_limit_rejects_the_file() -> None:
    text = "\n".join(qa(f"q{i}") for i in range(6))
    assert len(validate(text, purpose="fine-tune", max_lines=6).examples) == 6
    with pytest.raises(InvalidRequest) as caught:
        validate(text, purpose="fine-tune", max_lines=5)
    assert caught.value.code == "too_many_lines" and "more than 5 lines" in caught.value.message


def test_unknown_purpose_is_refused() -> None:
    with pytest.raises(InvalidRequest) as caught:
        validate("", purpose="assistants")
    assert caught.value.param == "purpose"


def test_token_stats_count_what_training_sees() -> None:
    examples = [[Message("user", "one two"), Message("assistant", "three")], [Message("user", "four")]]
    text = "\n".join(chat(*[(m.role, m.content) for m in e]) for e in examples)
    report = validate(text, purpose="evals", count_tokens=words)
    first = words(render_prompt(examples[0][:-1]) + "three")
    second = words(render_prompt(examples[1]))
    stats = report.stats
    assert (stats["min_tokens"], stats["max_tokens"]) == (min(first, second), max(first, second))
    assert stats["mean_tokens"] == round((first + second) / 2, 1)
    assert stats["estimated_training_tokens"] == first + second
    assert stats["token_counts_estimated"] is False and stats["examples"] == 2


def test_training_text_is_the_prompt_then_the_answer() -> None:
    messages = [Message("user", "Hi"), Message("assistant", "Hello!")]
    assert training_text(messages) == "### User\nHi\n\n### Assistant\nHello!"


def test_estimate_is_a_quarter_token_per_byte_and_one_per_cjk_character() -> None:
    assert estimate_tokens("") == 1
    assert estimate_tokens("abcd" * 10) == 10
    assert estimate_tokens("你好世界") == 4  # 12 UTF-8 bytes would say 3
    assert estimate_tokens("こんにちは 안녕 abcd") == 5 + 2 + 2  # kana, Hangul, then " " + " abcd"
    assert estimate_tokens("é" * 4) == 2  # 8 bytes


def test_estimated_stats_are_labelled() -> None:
    report = validate(qa("你好", "世界"), purpose="fine-tune")
    assert report.stats["token_counts_estimated"] is True
    assert report.stats["min_tokens"] == estimate_tokens(training_text(report.examples[0]))


def test_accepts_bytes_text_or_lines_and_reports_the_format() -> None:
    lines = [json.dumps({"prompt": "a", "completion": "b"}), json.dumps({"prompt": "c", "completion": "d"})]
    for source in (("\n".join(lines)).encode(), "\n".join(lines), [line + "\n" for line in lines]):
        report = validate(source, purpose="fine-tune")
        assert report.format == "prompt_completion" and len(report.examples) == 2
    mixed = validate("\n".join([lines[0], qa("x")]), purpose="fine-tune")
    assert mixed.format == "jsonl"
    assert validate("prompt,completion\na,b\n", purpose="fine-tune").format == "csv"


def test_as_dict_is_json_ready() -> None:
    report = validate("\n".join(LINES), purpose="fine-tune")
    body = json.loads(json.dumps(report.as_dict()))
    assert body["examples"] == 3 and body["rejected"] is False  # no tokenizer: line 8 stays
    assert body["problems"][0] == {
        "line": 2,
        "code": "invalid_json",
        "message": body["problems"][0]["message"],
    }
