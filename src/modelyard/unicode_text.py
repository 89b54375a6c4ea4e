"""Lone UTF-16 surrogates: what JSON's ``\\ud800`` escapes decode to, and no text at all.

Python's ``json`` accepts an unpaired ``\\ud800`` and gives a ``str`` that cannot be encoded
(UTF-8, a database driver, a tokenizer all fail on it), so input is checked where JSON
enters: the API's request bodies and uploaded JSONL lines.
"""

from __future__ import annotations

from typing import Any

__all__ = ["lone_surrogate_path", "surrogate_message"]

Path = tuple[str | int, ...]


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def lone_surrogate_path(value: Any, path: Path = ()) -> Path | None:
    """Where in a decoded JSON value the first lone surrogate is (a key counts as its field)."""
    if isinstance(value, str):
        return None if _is_text(value) else path
    if isinstance(value, dict):
        for key, item in value.items():
            if not _is_text(key):
                return (*path, key.encode("utf-8", "replace").decode())
            found = lone_surrogate_path(item, (*path, key))
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = lone_surrogate_path(item, (*path, index))
            if found is not None:
                return found
    return None


def surrogate_message(field: str) -> str:
    return f"'{field}' holds a lone UTF-16 surrogate (\\ud800-\\udfff without its pair), which is not text"
