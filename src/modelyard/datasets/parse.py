"""Read an uploaded dataset into chat examples, whatever shape it came in.

Three shapes are accepted and all become a list of ``Message`` per example:

* JSONL chat: ``{"messages": [{"role": "user", "content": "..."}, ...]}`` per line;
* JSONL prompt/completion: ``{"prompt": "...", "completion": "..."}`` per line, read
  as a user turn followed by an assistant turn (no ``completion`` means no answer);
* CSV with a header row naming ``prompt`` and ``completion`` columns (an empty
  completion cell means no answer: CSV cannot tell empty from missing).

This module only reads shapes; whether an example is usable for a purpose (roles,
empty turns, a final answer, length, duplicates) is ``validate``'s business. Line
numbers are 1-based physical lines, as an editor shows them, so a user can find them.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from modelyard.errors import InvalidRequest
from modelyard.prompting import Message
from modelyard.unicode_text import lone_surrogate_path, surrogate_message

__all__ = [
    "Problem",
    "Record",
    "SourceFormat",
    "decode",
    "detect_format",
    "dump_jsonl",
    "iter_records",
    "load_jsonl",
]

SourceFormat = Literal["jsonl", "csv"]
# What a single record looked like; a file's format is derived from these.
RecordKind = Literal["chat", "prompt_completion", "csv"]


@dataclass(frozen=True, slots=True)
class Problem:
    """Why line ``line`` was dropped; ``code`` is stable, ``message`` is for people."""

    line: int
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "code": self.code, "message": self.message}

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True, slots=True)
class Record:
    """One example read from ``line``: its messages, or the problem that stopped the read."""

    line: int
    kind: RecordKind | None
    messages: tuple[Message, ...] = ()
    problem: Problem | None = None


def _shape_problem(line: int, message: str) -> Record:
    return Record(line, None, problem=Problem(line, "invalid_shape", message))


# -- bytes to text -------------------------------------------------------------
def decode(data: bytes) -> str:
    """UTF-8 text, without a byte-order mark (spreadsheet exports often add one)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InvalidRequest(
            f"the file is not UTF-8 text (line {line}); save it as UTF-8 and upload again",
            param="file",
            code="invalid_encoding",
        ) from exc


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.split("\n") if line.strip()), "")


def detect_format(text: str) -> SourceFormat:
    """CSV when the first line is a header naming ``prompt``; JSONL otherwise.

    Anything that is neither reads as JSONL, so the user is told which lines are not JSON.
    """
    first = _first_line(text)
    if not first or first[0] in "{[":
        return "jsonl"
    header = next(csv.reader([first]), [])
    return "csv" if "prompt" in _columns(header) else "jsonl"


def iter_records(text: str, source: SourceFormat | None = None) -> Iterator[Record]:
    """Every non-blank record of ``text``, lazily (a line limit can stop early)."""
    source = source or detect_format(text)
    return _csv_records(text) if source == "csv" else _jsonl_records(text)


# -- JSONL ---------------------------------------------------------------------
def _jsonl_records(text: str) -> Iterator[Record]:
    # Split on "\n" only: str.splitlines() would also split on U+2028, which JSON
    # allows unescaped inside strings.
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.rstrip("\r")
        if line.strip():
            yield _json_record(number, line)


def _json_record(number: int, line: str) -> Record:
    try:
        value = json.loads(line)
    except (ValueError, RecursionError) as exc:
        detail = f" ({exc.msg}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
        return Record(number, None, problem=Problem(number, "invalid_json", f"not valid JSON{detail}"))
    surrogate = lone_surrogate_path(value)
    if surrogate is not None:  # no tokenizer, file or database can take it
        field = ".".join(str(part) for part in surrogate) or "line"
        return Record(number, None, problem=Problem(number, "invalid_text", surrogate_message(field)))
    return _object_record(number, value)


def _object_record(number: int, value: Any) -> Record:
    if not isinstance(value, dict):
        return _shape_problem(number, f"expected a JSON object, found {_json_type(value)}")
    if "messages" in value:
        return _chat_record(number, value["messages"])
    if "prompt" in value:
        return _pair_record(number, value["prompt"], value.get("completion"), "prompt_completion")
    return _shape_problem(number, "expected a 'messages' list or 'prompt' and 'completion' fields")


def _chat_record(number: int, messages: Any) -> Record:
    if not isinstance(messages, list) or not messages:
        return _shape_problem(number, "'messages' must be a non-empty list")
    parsed: list[Message] = []
    for index, item in enumerate(messages, start=1):
        message = _message(item)
        if isinstance(message, str):
            return _shape_problem(number, f"message {index}: {message}")
        parsed.append(message)
    return Record(number, "chat", tuple(parsed))


def _message(item: Any) -> Message | str:
    """A ``Message``, or what is wrong with ``item`` (roles are checked later)."""
    if not isinstance(item, dict):
        return f"expected an object with 'role' and 'content', found {_json_type(item)}"
    role, content = item.get("role"), _text_content(item.get("content"))
    if not isinstance(role, str):
        return "'role' must be a string"
    if content is None:
        return "'content' must be a string (or a list of text parts)"
    return Message(role=role, content=content)


def _text_content(content: Any) -> str | None:
    # OpenAI also allows a list of parts; only text parts mean anything to us.
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(_is_text_part(p) for p in content):
        return "".join(p["text"] for p in content)
    return None


def _is_text_part(part: Any) -> bool:
    return isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str)


def _pair_record(number: int, prompt: Any, completion: Any, kind: RecordKind) -> Record:
    if not isinstance(prompt, str):
        return _shape_problem(number, "'prompt' must be a string")
    if completion is not None and not isinstance(completion, str):
        return _shape_problem(number, "'completion' must be a string")
    messages = [Message("user", prompt)]
    if completion is not None:
        messages.append(Message("assistant", completion))
    return Record(number, kind, tuple(messages))


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


# -- CSV -----------------------------------------------------------------------
def _columns(header: Sequence[str]) -> list[str]:
    return [name.strip().lower() for name in header]


def _csv_records(text: str) -> Iterator[Record]:
    reader = csv.reader(io.StringIO(text, newline=""))
    columns = _csv_header(reader)
    prompt_at = columns.index("prompt")
    completion_at = columns.index("completion") if "completion" in columns else None
    last_line = reader.line_num
    while True:
        start = last_line + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # The csv module cannot resynchronise after a broken quote: stop here.
            yield _shape_problem(start, f"malformed CSV ({exc}); later lines were not read")
            return
        last_line = reader.line_num
        if any(cell.strip() for cell in row):
            yield _csv_record(start, row, len(columns), prompt_at, completion_at)


def _csv_header(reader: Iterator[list[str]]) -> list[str]:
    for row in reader:
        if any(cell.strip() for cell in row):
            return _columns(row)
    raise InvalidRequest("the CSV file has no header row", param="file", code="invalid_file")


def _csv_record(number: int, row: list[str], width: int, prompt_at: int, completion_at: int | None) -> Record:
    if len(row) != width:
        return _shape_problem(number, f"expected {width} CSV columns, found {len(row)}")
    completion = row[completion_at] if completion_at is not None else ""
    return _pair_record(number, row[prompt_at], completion or None, "csv")


# -- our own normalised form ---------------------------------------------------
def dump_jsonl(examples: Iterable[Sequence[Message]]) -> bytes:
    """Examples as chat JSONL, the one form every stored dataset is kept in."""
    lines = (
        json.dumps(
            {"messages": [{"role": m.role, "content": m.content} for m in example]}, ensure_ascii=False
        )
        for example in examples
    )
    return "".join(f"{line}\n" for line in lines).encode("utf-8")


def load_jsonl(data: bytes) -> list[list[Message]]:
    """Read back what ``dump_jsonl`` wrote (trusted: we wrote it after validation)."""
    return [
        [Message(m["role"], m["content"]) for m in json.loads(line)["messages"]]
        # "\n" only: U+2028 may sit unescaped inside a string (ensure_ascii=False).
        for line in data.decode("utf-8").split("\n")
        if line.strip()
    ]
