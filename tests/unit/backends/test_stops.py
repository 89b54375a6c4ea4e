"""StopMatcher: stop sequences cut text exactly once, whatever the piece boundaries."""

from __future__ import annotations

import pytest

from modelyard.backends.stops import StopMatcher


def _feed_all(stops: tuple[str, ...], pieces: list[str]) -> tuple[list[str], bool]:
    matcher = StopMatcher(stops)
    out = [matcher.feed(p) for p in pieces]
    out.append(matcher.flush())
    return out, matcher.stopped


@pytest.mark.parametrize("split", range(1, 12))
def test_a_stop_split_anywhere_is_cut_and_never_leaks(split: int) -> None:
    text = "Paris.\n### User\nmore"
    out, stopped = _feed_all(("\n### ",), [text[:split], text[split:]])
    assert "".join(out) == "Paris."
    assert stopped
    assert all("#" not in piece for piece in out)


def test_one_character_at_a_time() -> None:
    out, stopped = _feed_all(("STOP",), list("abcSTOPdef"))
    assert "".join(out) == "abc"
    assert stopped


def test_a_false_start_is_released_once_it_cannot_match() -> None:
    matcher = StopMatcher(["\n### "])
    assert matcher.feed("a\n#") == "a"  # "\n#" might begin the stop: held
    assert matcher.feed("#x") == "\n##x"  # it did not
    assert not matcher.stopped


def test_held_text_is_flushed_at_the_end() -> None:
    out, stopped = _feed_all(("\n### ",), ["done\n#"])
    assert out == ["done", "\n#"]
    assert not stopped


def test_the_earliest_of_several_stops_wins() -> None:
    out, _ = _feed_all(("world", "lo"), ["hello world"])
    assert "".join(out) == "hel"


def test_nothing_is_emitted_after_a_stop() -> None:
    matcher = StopMatcher(["."])
    assert matcher.feed("one. two") == "one"
    assert matcher.feed(" three") == ""
    assert matcher.flush() == ""


def test_empty_stops_are_ignored() -> None:
    out, stopped = _feed_all(("",), ["abc"])
    assert "".join(out) == "abc"
    assert not stopped


def test_multibyte_stops() -> None:
    out, stopped = _feed_all(("。",), ["你好", "。再见"])
    assert "".join(out) == "你好"
    assert stopped
