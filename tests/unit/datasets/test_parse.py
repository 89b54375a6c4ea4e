"""Reading JSONL chat, JSONL prompt/completion and CSV into chat examples."""

from __future__ import annotations

import json

import pytest

from modelyard.datasets import Record, decode, detect_format, dump_jsonl, iter_records, load_jsonl
from modelyard.errors import InvalidRequest
from modelyard.prompting import Message


def records(text: str) -> list[Record]:
    return list(iter_records(text))


def roles(record: Record) -> list[str]:
    return [m.role for m in record.messages]


def test_chat_jsonl_becomes_messages() -> None:
    line = json.dumps(
        {
            "messages": [
                {"role": "system", "content": "Be terse."},
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello"},
            ]
        }
    )
    [record] = records(line + "\n")
    assert record.kind == "chat" and record.line == 1 and record.problem is None
    assert record.messages == (
        Message("system", "Be terse."),
        Message("user", "Hi"),
        Message("assistant", "Hello"),
    )


def test_text_parts_are_joined_and_extra_keys_ignored() -> None:
    content = [{"type": "text", "text": "Hel"}, {"type": "text", "text": "lo"}]
    line = json.dumps({"messages": [{"role": "user", "content": content, "name": "ada"}], "weight": 1})
    assert records(line)[0].messages == (Message("user", "Hello"),)


def test_prompt_completion_becomes_user_then_assistant() -> None:
    text = "\n".join(
        json.dumps(o) for o in ({"prompt": "1+1?", "completion": "2"}, {"prompt": "open question"})
    )
    pair, prompt_only = records(text)
    assert pair.kind == "prompt_completion"
    assert pair.messages == (Message("user", "1+1?"), Message("assistant", "2"))
    assert prompt_only.messages == (Message("user", "open question"),)


def test_csv_with_bom_header_and_quoted_newlines_keeps_physical_line_numbers() -> None:
    data = '\ufeff Prompt ,COMPLETION,notes\n"What is\nmulti-line?",Yes,a\n\nplain,answer,b\n'.encode()
    text = decode(data)
    assert detect_format(text) == "csv"
    first, second = records(text)
    assert (first.line, first.kind, first.messages) == (
        2,
        "csv",
        (Message("user", "What is\nmulti-line?"), Message("assistant", "Yes")),
    )
    # Line 3 is the rest of the quoted prompt, line 4 is blank.
    assert second.line == 5 and second.messages[1] == Message("assistant", "answer")


def test_csv_empty_completion_means_no_answer_and_bad_rows_name_their_line() -> None:
    text = "prompt,completion\nask me,\ntoo,many,cells\n"
    no_answer, bad = records(text)
    assert no_answer.messages == (Message("user", "ask me"),)
    assert bad.problem is not None and (bad.problem.line, bad.problem.code) == (3, "invalid_shape")
    assert "expected 2 CSV columns, found 3" in bad.problem.message


def test_csv_without_a_completion_column_is_prompt_only() -> None:
    [record] = records("prompt\nwhat?\n")
    assert record.messages == (Message("user", "what?"),)


@pytest.mark.parametrize(
    ("line", "code", "fragment"),
    [
        ("{not json", "invalid_json", "not valid JSON"),
        ('"a string"', "invalid_shape", "expected a JSON object, found a string"),
        ("[1, 2]", "invalid_shape", "found a list"),
        ('{"text": "hi"}', "invalid_shape", "'messages' list or 'prompt'"),
        ('{"messages": []}', "invalid_shape", "non-empty list"),
        ('{"messages": "hi"}', "invalid_shape", "non-empty list"),
        ('{"messages": [{"role": "user"}]}', "invalid_shape", "'content' must be a string"),
        ('{"messages": [{"role": 3, "content": "x"}]}', "invalid_shape", "'role' must be a string"),
        (
            '{"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}',
            "invalid_shape",
            "text parts",
        ),
        ('{"messages": ["hi"]}', "invalid_shape", "message 1"),
        ('{"prompt": 3, "completion": "x"}', "invalid_shape", "'prompt' must be a string"),
        ('{"prompt": "x", "completion": 3}', "invalid_shape", "'completion' must be a string"),
        ("[" * 100_000, "invalid_json", "not valid JSON"),
    ],
)
def test_shape_problems_are_reported_on_their_line(line: str, code: str, fragment: str) -> None:
    text = '{"prompt": "ok", "completion": "fine"}\n\n' + line + "\n"
    good, bad = records(text)
    assert good.problem is None
    assert bad.problem is not None and bad.messages == ()
    assert (bad.line, bad.problem.line, bad.problem.code) == (3, 3, code)
    assert fragment in bad.problem.message and str(bad.problem).startswith("line 3: ")


def test_crlf_and_blank_lines_are_fine() -> None:
    text = '\r\n{"prompt": "a", "completion": "b"}\r\n   \r\n{"prompt": "c", "completion": "d"}\r\n'
    assert [r.line for r in records(text)] == [2, 4]
    assert records(text)[0].messages[1].content == "b"


def test_unicode_line_separator_inside_a_string_does_not_split_the_line() -> None:
    line = json.dumps({"prompt": "a\u2028b", "completion": "c"}, ensure_ascii=False)
    [record] = records(line)
    assert record.messages[0].content == "a\u2028b"


def test_detect_format() -> None:
    assert detect_format('{"messages": []}') == "jsonl"
    assert detect_format("\n\nprompt,completion\n") == "csv"
    assert detect_format("hello world\n") == "jsonl"  # neither: reads as JSONL, so lines say "not JSON"
    assert detect_format("") == "jsonl"


def test_decode_rejects_non_utf8_naming_the_line() -> None:
    assert decode("\ufeff你好".encode()) == "你好"
    with pytest.raises(InvalidRequest) as caught:
        decode(b'{"a": 1}\n{"b": "\xff"}\n')
    assert "line 2" in caught.value.message and caught.value.code == "invalid_encoding"


def test_csv_without_header_row_is_rejected() -> None:
    with pytest.raises(InvalidRequest):
        list(iter_records("\n\n", "csv"))


def test_dump_and_load_round_trip() -> None:
    examples = [
        [Message("user", "你好\u2028世界"), Message("assistant", 'quote " and \\ backslash')],
        [Message("system", "s"), Message("user", "u")],
    ]
    data = dump_jsonl(examples)
    assert data.count(b"\n") == 2 and "你好".encode() in data
    assert load_jsonl(data) == examples
    assert dump_jsonl([]) == b"" and load_jsonl(b"") == []
