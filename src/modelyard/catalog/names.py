"""Which model ids a publisher may take.

Model ids are what keys are limited by (``allowed_models: ["ft:*"]``) and what people
read in lists, so two rules keep one publisher from passing for another:

- ``ft:`` belongs to fine-tunes the platform publishes; nobody registers an id there.
- An id may not equal an existing one after Unicode NFKC normalisation and case folding
  (``Mock-Fast`` beside ``mock-fast``, a full-width ``ｍｏｃｋ-fast``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from modelyard.errors import Conflict, InvalidRequest

__all__ = ["FINE_TUNE_PREFIX", "check_not_confusable", "check_registrable", "name_key"]

FINE_TUNE_PREFIX = "ft:"


def name_key(model_id: str) -> str:
    """The form two ids are compared in: NFKC, case-folded, NFKC again (folding can
    produce characters that normalise further)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", model_id).casefold())


def check_registrable(model_id: str) -> None:
    """Refuse an id in the namespace reserved for the platform's fine-tunes."""
    if name_key(model_id).startswith(FINE_TUNE_PREFIX):
        raise InvalidRequest(
            f"model ids starting with '{FINE_TUNE_PREFIX}' are reserved for fine-tuned models "
            "the platform publishes",
            param="id",
            code="model_id_reserved",
        )


def check_not_confusable(model_id: str, existing: Iterable[str]) -> None:
    """Refuse ``model_id`` when an existing id differs from it only by case or Unicode form."""
    key = name_key(model_id)
    if any(other != model_id and name_key(other) == key for other in existing):
        raise Conflict(
            f"the model id '{model_id}' differs from an existing model's id only by case or "
            "Unicode form; choose a distinct id",
            param="id",
            code="model_id_confusable",
        )
