"""Overlap metrics against a reference: SQuAD token F1, ROUGE-L and BLEU.

ROUGE-L and BLEU delegate to the reference implementations (``rouge-score``, ``sacrebleu``)
so the numbers match what papers and other tools report; both are imported on first use.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import Field

from modelyard.evals.metrics.base import CaseMetric, MetricConfig, reference_text
from modelyard.evals.metrics.registry import register_metric
from modelyard.evals.metrics.text import squad_tokens, word_and_cjk_tokens
from modelyard.evals.results import EvalItem, Score

if TYPE_CHECKING:
    from rouge_score.rouge_scorer import RougeScorer

__all__ = [
    "Bleu",
    "BleuConfig",
    "RougeL",
    "RougeLConfig",
    "TokenF1",
    "TokenF1Config",
    "corpus_bleu",
    "token_f1",
]

# sacrebleu tokenizers that work offline without extra packages (mecab, sentencepiece models).
BleuTokenizer = Literal["13a", "intl", "zh", "char", "none"]


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD v1.1 F1 over :func:`squad_tokens`; two empty answers agree, one empty scores 0."""
    predicted, expected = squad_tokens(prediction), squad_tokens(reference)
    if not predicted or not expected:
        return float(predicted == expected)
    common = sum((Counter(predicted) & Counter(expected)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)


class TokenF1Config(MetricConfig):
    pass


@register_metric("token_f1")
class TokenF1(CaseMetric[TokenF1Config]):
    """SQuAD-style token F1 between output and reference.

    Both are lower-cased, stripped of punctuation and of the articles a/an/the, and split on
    whitespace; Chinese and Japanese characters count as one token each, so the metric works
    on text written without spaces.
    """

    config_class = TokenF1Config

    def score_one(self, item: EvalItem, output: str) -> Score:
        return Score(token_f1(output, reference_text(item)))


class RougeLConfig(MetricConfig):
    use_stemmer: bool = Field(default=False, description="Porter-stem English words longer than 3 letters.")
    tokenizer: Literal["default", "char"] = Field(
        default="default",
        description="default: rouge-score's own, which keeps only ASCII letters and digits (so "
        "Chinese text scores nothing); char: each CJK character one token, other words of any "
        "script kept whole.",
    )


class Tokenizer(Protocol):
    """What rouge-score asks of a tokenizer."""

    def tokenize(self, text: str) -> list[str]: ...


class CharTokenizer:
    """A rouge-score tokenizer for CJK text (rouge-score only calls ``tokenize``)."""

    def __init__(self, use_stemmer: bool) -> None:
        from nltk.stem import porter  # rouge-score's own dependency, loaded with it

        self._stemmer = porter.PorterStemmer() if use_stemmer else None

    def tokenize(self, text: str) -> list[str]:
        tokens = word_and_cjk_tokens(text)
        if self._stemmer is None:
            return tokens
        # rouge-score stems only words longer than 3 characters; do the same.
        return [self._stemmer.stem(token) if len(token) > 3 else token for token in tokens]


@register_metric("rouge_l")
class RougeL(CaseMetric[RougeLConfig]):
    """ROUGE-L F-measure (longest common subsequence), as computed by ``rouge-score``."""

    config_class = RougeLConfig

    def __init__(self, config: RougeLConfig) -> None:
        super().__init__(config)
        self._scorer: RougeScorer | None = None
        self._tokenizer: Tokenizer | None = None

    def score_one(self, item: EvalItem, output: str) -> Score:
        scorer, tokenizer = self._rouge()
        reference = reference_text(item)
        if not tokenizer.tokenize(reference):
            return Score(None, self._no_tokens_reason())
        return Score(scorer.score(reference, output)["rougeL"].fmeasure)

    def _rouge(self) -> tuple[RougeScorer, Tokenizer]:
        if self._scorer is None or self._tokenizer is None:
            from rouge_score.rouge_scorer import RougeScorer
            from rouge_score.tokenizers import DefaultTokenizer

            # Passing rouge-score's DefaultTokenizer ourselves is what it does when given
            # none; holding it lets us notice a reference it reduces to nothing.
            use_stemmer = self.config.use_stemmer
            char = self.config.tokenizer == "char"
            self._tokenizer = CharTokenizer(use_stemmer) if char else DefaultTokenizer(use_stemmer)
            self._scorer = RougeScorer(["rougeL"], use_stemmer=use_stemmer, tokenizer=self._tokenizer)
        return self._scorer, self._tokenizer

    def _no_tokens_reason(self) -> str:
        name = self.config.tokenizer
        hint = " (it keeps only ASCII; use tokenizer 'char' for CJK)" if name == "default" else ""
        return f"ungraded: the reference has no tokens for the '{name}' tokenizer{hint}"


class BleuConfig(MetricConfig):
    tokenize: BleuTokenizer = Field(
        default="13a", description="sacrebleu tokenizer: 13a (default, WMT), intl, zh (Chinese), char, none."
    )
    lowercase: bool = False


@register_metric("bleu")
class Bleu(CaseMetric[BleuConfig]):
    """Sentence BLEU from ``sacrebleu.sentence_bleu``, divided by 100 into [0, 1].

    Sentence BLEU is noisy on short outputs; the report can also show :func:`corpus_bleu`.
    """

    config_class = BleuConfig

    def score_one(self, item: EvalItem, output: str) -> Score:
        from sacrebleu import sentence_bleu

        result = sentence_bleu(
            output, [reference_text(item)], tokenize=self.config.tokenize, lowercase=self.config.lowercase
        )
        return Score(result.score / 100)


def corpus_bleu(
    outputs: Sequence[str],
    references: Sequence[str],
    *,
    tokenize: BleuTokenizer = "13a",
    lowercase: bool = False,
) -> float:
    """Corpus BLEU in [0, 1] over aligned outputs and references (one reference each)."""
    if len(outputs) != len(references):
        raise ValueError(f"{len(outputs)} outputs but {len(references)} references")
    from sacrebleu import corpus_bleu as sacre_corpus_bleu

    result: Any = sacre_corpus_bleu(list(outputs), [list(references)], tokenize=tokenize, lowercase=lowercase)
    return float(result.score) / 100
