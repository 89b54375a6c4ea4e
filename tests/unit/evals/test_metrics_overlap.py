"""ROUGE-L and BLEU agree with the reference implementations they wrap."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sacrebleu
from rouge_score import rouge_scorer

from modelyard.evals.metrics import MetricContext, build_metrics, corpus_bleu
from modelyard.evals.results import EvalItem, Score

# (output, reference): exact, paraphrase, reordering, partial, empty-ish, unrelated, long...
PAIRS = [
    ("The cat sat on the mat.", "The cat sat on the mat."),
    ("the cat is on the mat", "the cat sat on the mat"),
    ("A quick brown fox jumps over the lazy dog", "The quick brown fox jumped over the lazy dogs"),
    ("Paris is the capital of France.", "The capital of France is Paris."),
    ("It was raining heavily in the city all day long.", "Heavy rain fell on the city throughout the day."),
    ("The model answers questions.", "The models were answering many difficult questions quickly."),
    (
        "Revenue grew 12% in 2024, driven by cloud services.",
        "In 2024 revenue rose by 12 percent thanks to cloud.",
    ),
    ("yes", "No, the request was denied because the quota was exceeded."),
    ("Completely unrelated text here", "Photosynthesis converts light into chemical energy"),
    (
        "Running the evaluation twice produced identical scores for every model tested",
        "Evaluations that run twice produce the same scores for each model",
    ),
]


def _scores(spec: dict[str, Any], pairs: list[tuple[str, str]]) -> list[Score]:
    (metric,) = build_metrics([spec])
    cases = [
        (EvalItem(index=i, prompt="q", messages=[{"role": "user", "content": "q"}], reference=ref), out)
        for i, (out, ref) in enumerate(pairs)
    ]
    return asyncio.run(metric.score(cases, MetricContext()))


@pytest.mark.parametrize("use_stemmer", [False, True])
def test_rouge_l_equals_rouge_score(use_stemmer: bool) -> None:
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=use_stemmer)
    expected = [scorer.score(ref, out)["rougeL"].fmeasure for out, ref in PAIRS]
    ours = [s.value for s in _scores({"name": "rouge_l", "use_stemmer": use_stemmer}, PAIRS)]
    assert ours == pytest.approx(expected, abs=1e-12)
    assert len({round(v, 6) for v in expected}) >= 6  # the pairs really discriminate
    assert 0.0 < min(expected[1:7]) and max(expected[1:]) < 1.0


def test_rouge_l_hand_computed() -> None:
    (score,) = _scores({"name": "rouge_l"}, [("the cat is on the mat", "the cat sat on the mat")])
    assert score.value == pytest.approx(5 / 6)  # LCS "the cat on the mat": P = R = 5/6


def test_rouge_l_default_tokenizer_cannot_grade_chinese_char_tokenizer_can() -> None:
    pairs = [("我爱北京", "我爱北京天安门"), ("GPT-4 很好", "GPT-4 很好")]
    default = _scores({"name": "rouge_l"}, pairs)
    assert default[0].value is None and "tokenizer 'char'" in (default[0].detail or "")
    char = _scores({"name": "rouge_l", "tokenizer": "char"}, pairs)
    # LCS 4 characters: P = 4/4, R = 4/7, F = 8/11
    assert [s.value for s in char] == [pytest.approx(8 / 11), pytest.approx(1.0)]


def test_rouge_l_char_tokenizer_keeps_english_words_whole() -> None:
    pairs = [(out, ref) for out, ref in PAIRS]
    char = [s.value for s in _scores({"name": "rouge_l", "tokenizer": "char"}, pairs)]
    default = [s.value for s in _scores({"name": "rouge_l"}, pairs)]
    assert char == pytest.approx(default, abs=1e-12)  # ASCII text tokenises the same way


@pytest.mark.parametrize("tokenize", ["13a", "intl"])
def test_bleu_equals_sacrebleu_sentence_bleu(tokenize: str) -> None:
    expected = [sacrebleu.sentence_bleu(out, [ref], tokenize=tokenize).score / 100 for out, ref in PAIRS]
    ours = [s.value for s in _scores({"name": "bleu", "tokenize": tokenize}, PAIRS)]
    assert ours == pytest.approx(expected, abs=1e-12)
    assert expected[0] == pytest.approx(1.0) and len({round(v, 6) for v in expected}) >= 6


def test_bleu_chinese_with_the_zh_tokenizer() -> None:
    pairs = [("我爱北京天安门", "我爱北京"), ("今天天气很好", "今天天气不错"), ("模型评测", "模型评测")]
    expected = [sacrebleu.sentence_bleu(out, [ref], tokenize="zh").score / 100 for out, ref in pairs]
    ours = [s.value for s in _scores({"name": "bleu", "tokenize": "zh"}, pairs)]
    assert ours == pytest.approx(expected, abs=1e-12)
    assert 0.0 < ours[0] < 1.0 and ours[2] == pytest.approx(1.0)


def test_bleu_lowercase_option() -> None:
    (cased,) = _scores({"name": "bleu"}, [("THE CAT SAT ON THE MAT", "the cat sat on the mat")])
    (lowered,) = _scores(
        {"name": "bleu", "lowercase": True}, [("THE CAT SAT ON THE MAT", "the cat sat on the mat")]
    )
    assert cased.value == pytest.approx(0.0) and lowered.value == pytest.approx(1.0)


def test_corpus_bleu_equals_sacrebleu() -> None:
    outputs, references = [out for out, _ in PAIRS], [ref for _, ref in PAIRS]
    expected = sacrebleu.corpus_bleu(outputs, [references]).score / 100
    assert corpus_bleu(outputs, references) == pytest.approx(expected, abs=1e-12)
    assert 0.0 < expected < 1.0
    zh = sacrebleu.corpus_bleu(["我爱北京天安门"], [["我爱北京"]], tokenize="zh").score / 100
    assert corpus_bleu(["我爱北京天安门"], ["我爱北京"], tokenize="zh") == pytest.approx(zh, abs=1e-12)
    with pytest.raises(ValueError, match="2 outputs but 1 references"):
        corpus_bleu(["a", "b"], ["a"])
