"""Datasets: parse uploaded files into chat examples, validate them, split them. Pure logic."""

from modelyard.datasets.parse import (
    Problem,
    Record,
    decode,
    detect_format,
    dump_jsonl,
    iter_records,
    load_jsonl,
)
from modelyard.datasets.split import PART_NAMES, Split, split
from modelyard.datasets.validate import (
    PURPOSES,
    TokenCounter,
    ValidationReport,
    estimate_tokens,
    training_text,
    validate,
)

__all__ = [
    "PART_NAMES",
    "PURPOSES",
    "Problem",
    "Record",
    "Split",
    "TokenCounter",
    "ValidationReport",
    "decode",
    "detect_format",
    "dump_jsonl",
    "estimate_tokens",
    "iter_records",
    "load_jsonl",
    "split",
    "training_text",
    "validate",
]
