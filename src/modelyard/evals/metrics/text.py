"""Text normalisation and tokenisation shared by the string-matching metrics.

CJK scripts (Han ideographs, Japanese kana) are written without spaces, so splitting on
whitespace would make a whole Chinese sentence one token. Wherever a metric tokenises, each
CJK character is one token and every other run of letters or digits is one word; this is the
usual choice for Chinese QA scoring (e.g. the MLQA/CMRC evaluation scripts).
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Callable, Iterable
from typing import Literal

__all__ = [
    "CJK_PATTERN",
    "Normalization",
    "normalize",
    "remove_punctuation",
    "squad_normalize",
    "squad_tokens",
    "word_and_cjk_tokens",
]

Normalization = Literal["strip", "lower", "collapse_whitespace", "remove_punctuation"]

# Han ideographs (basic, extension A, compatibility), Hiragana, Katakana and half-width
# Katakana. Hangul is left out: Korean separates words with spaces.
CJK_PATTERN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u309f\u30a0-\u30ff\uff66-\uff9f"
_CJK_OR_WORD = re.compile(rf"[{CJK_PATTERN}]|[^\W_{CJK_PATTERN}]+")
_CJK_OR_NONSPACE = re.compile(rf"[{CJK_PATTERN}]|[^\s{CJK_PATTERN}]+")
_WHITESPACE = re.compile(r"\s+")
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def remove_punctuation(text: str) -> str:
    # Unicode punctuation (so "。，！" go too) plus ASCII symbols such as $ + < = > ^ ` | ~,
    # which Unicode files under symbols but SQuAD's string.punctuation removes.
    return "".join(c for c in text if not _is_punctuation(c))


def _is_punctuation(char: str) -> bool:
    return unicodedata.category(char).startswith("P") or char in string.punctuation


def _collapse_whitespace(text: str) -> str:
    return _WHITESPACE.sub(" ", text)


_STEPS: dict[Normalization, Callable[[str], str]] = {
    "lower": str.lower,
    "remove_punctuation": remove_punctuation,
    "collapse_whitespace": _collapse_whitespace,
    "strip": str.strip,
}
# Applied in this order whatever order the user listed them in: removing punctuation can
# leave doubled or trailing spaces that the later steps then clean up.
_ORDER: tuple[Normalization, ...] = ("lower", "remove_punctuation", "collapse_whitespace", "strip")


def normalize(text: str, steps: Iterable[Normalization]) -> str:
    chosen = set(steps)
    for step in _ORDER:
        if step in chosen:
            text = _STEPS[step](text)
    return text


def squad_normalize(text: str) -> str:
    """SQuAD v1.1's answer normalisation: lower, drop punctuation, drop articles, tidy spaces."""
    text = remove_punctuation(text.lower())
    return _collapse_whitespace(_ARTICLES.sub(" ", text)).strip()


def squad_tokens(text: str) -> list[str]:
    """SQuAD tokens: whitespace words of the normalised text, each CJK character on its own."""
    return _CJK_OR_NONSPACE.findall(squad_normalize(text))


def word_and_cjk_tokens(text: str) -> list[str]:
    """Lower-cased letter/digit words of any script, each CJK character on its own."""
    return _CJK_OR_WORD.findall(text.lower())
