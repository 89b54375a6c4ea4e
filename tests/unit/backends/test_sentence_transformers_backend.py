"""The sentence-transformers backend on the real all-MiniLM-L6-v2 (shipped in a package)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelyard.backends import BackendContext, EmbeddingBackend, ModelSpec, create_backend
from modelyard.backends.sentence_transformers import SentenceTransformersBackend, builtin_embedding_folder
from modelyard.errors import InvalidRequest
from tests.unit.backends.conftest import run

SPEC = ModelSpec(
    id="all-minilm-l6-v2",
    backend="sentence-transformers",
    task="embedding",
    source={"builtin": "all-minilm-l6-v2"},
)


@pytest.fixture(scope="module")
def minilm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SentenceTransformersBackend]:
    context = BackendContext(models_dir=tmp_path_factory.mktemp("models"))
    backend = create_backend(SPEC, context)
    assert isinstance(backend, SentenceTransformersBackend)
    yield backend
    run(backend.close())


def _cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_the_registry_builds_an_embedding_backend(minilm: SentenceTransformersBackend) -> None:
    assert isinstance(minilm, EmbeddingBackend)


def test_vectors_are_384_dimensional_unit_floats(minilm: SentenceTransformersBackend) -> None:
    result = run(minilm.embed(["hello world", "你好，世界"]))
    assert len(result.vectors) == 2
    for vector in result.vectors:
        assert len(vector) == 384
        assert all(isinstance(x, float) for x in vector)
        assert math.isclose(math.sqrt(sum(x * x for x in vector)), 1.0, rel_tol=1e-4)


def test_similar_sentences_are_closer_than_unrelated_ones(minilm: SentenceTransformersBackend) -> None:
    cat, kitten, tax = run(
        minilm.embed(
            [
                "A cat is sleeping on the sofa.",
                "A kitten naps on the couch.",
                "Quarterly tax filings are due next month.",
            ]
        )
    ).vectors
    assert _cosine(cat, kitten) > _cosine(cat, tax) + 0.3


def test_usage_counts_the_tokens_embedded(minilm: SentenceTransformersBackend) -> None:
    tokenizer = run(minilm.load()).model.tokenizer
    texts = ["hello world", "a somewhat longer sentence to embed"]
    expected = sum(len(tokenizer(t)["input_ids"]) for t in texts)  # [CLS] ... [SEP] each
    usage = run(minilm.embed(texts)).usage
    assert (usage.prompt_tokens, usage.completion_tokens) == (expected, 0)
    long_usage = run(minilm.embed(["word " * 1000])).usage
    assert long_usage.prompt_tokens == 256  # truncated to the model's window, as embedded


def test_same_text_same_vector_across_batches(minilm: SentenceTransformersBackend) -> None:
    alone = run(minilm.embed(["consistency"])).vectors[0]
    batched = run(minilm.embed(["other text", "consistency"])).vectors[1]
    assert _cosine(alone, batched) > 0.9999


def test_a_local_folder_works_and_pickle_only_is_refused(tmp_path: Path) -> None:
    context = BackendContext(models_dir=tmp_path)
    folder = builtin_embedding_folder("all-minilm-l6-v2")
    local = SentenceTransformersBackend(
        ModelSpec(id="mine", backend="sentence-transformers", task="embedding", source={"path": str(folder)}),
        context,
    )
    assert len(run(local.embed(["hi"])).vectors[0]) == 384

    pickled = tmp_path / "pickled"
    pickled.mkdir()
    (pickled / "pytorch_model.bin").write_bytes(b"\x80\x04not really")
    refused = SentenceTransformersBackend(
        ModelSpec(id="bad", backend="sentence-transformers", task="embedding", source={"path": str(pickled)}),
        context,
    )
    with pytest.raises(InvalidRequest) as error:
        run(refused.embed(["hi"]))
    assert str(tmp_path) not in error.value.message


def test_unknown_builtin_and_empty_input_are_refused(tmp_path: Path) -> None:
    context = BackendContext(models_dir=tmp_path)
    with pytest.raises(InvalidRequest):
        SentenceTransformersBackend(
            ModelSpec(id="x", backend="sentence-transformers", task="embedding", source={"builtin": "nope"}),
            context,
        )
    with pytest.raises(InvalidRequest):
        run(SentenceTransformersBackend(SPEC, context).embed([]))
