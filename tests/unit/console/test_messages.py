"""The console's messages: both languages hold the same keys, and every key a page asks for exists.

The catalogs are `console/src/locales/<lang>/<area>.json`; a page asks with `t("area.key")`.
A key only in English would show English to a Chinese reader; a key in no catalog would
show the key itself.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

CONSOLE = Path(__file__).resolve().parents[3] / "console" / "src"
LOCALES = CONSOLE / "locales"
LANGUAGES = ("en", "zh-CN")
ASKED = re.compile(r"""\bt\(\s*["'`]([^"'`]+)["'`]""")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _catalog(language: str) -> dict[str, object]:
    merged: dict[str, object] = {}
    for path in sorted((LOCALES / language).glob("*.json")):
        for key, text in json.loads(path.read_text(encoding="utf-8")).items():
            merged[f"{path.stem}.{key}"] = text
    return merged


def _forms(message: object) -> list[str]:
    if isinstance(message, str):
        return [message]
    assert isinstance(message, dict) and "other" in message, f"a plural message needs 'other': {message!r}"
    return [str(v) for v in message.values()]


def _placeholders(message: object) -> set[str]:
    return {name for form in _forms(message) for name in PLACEHOLDER.findall(form)}


def test_both_languages_hold_the_same_keys() -> None:
    english, chinese = _catalog("en"), _catalog("zh-CN")
    assert english, "no English catalog"
    assert sorted(set(english) - set(chinese)) == [], "keys with no Chinese text"
    assert sorted(set(chinese) - set(english)) == [], "keys with no English text"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_text_with_the_same_placeholders(language: str) -> None:
    english, other = _catalog("en"), _catalog(language)
    for key, message in other.items():
        assert all(form.strip() for form in _forms(message)), f"{language} {key} is empty"
        assert _placeholders(message) == _placeholders(english[key]), f"{language} {key}: placeholders differ"


def test_every_key_a_page_asks_for_exists() -> None:
    english = _catalog("en")
    sources = [*CONSOLE.rglob("*.js"), *CONSOLE.rglob("*.jsx")]
    asked = {(key, path.name) for path in sources for key in ASKED.findall(path.read_text(encoding="utf-8"))}
    assert asked, "no t(...) calls found: the pattern or the sources moved"
    assert sorted((key, where) for key, where in asked if key not in english) == []
