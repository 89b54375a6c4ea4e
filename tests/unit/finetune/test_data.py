"""Tokenization and batching: the training prompt is the serving prompt, byte for byte."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from modelyard.finetune.data import (
    IGNORE_INDEX,
    collate,
    encode_example,
    encode_examples,
    epoch_batches,
    micro_batches,
)
from modelyard.prompting import Message, render_prompt
from tests.unit.finetune.conftest import conversations

CHATS = [
    [Message("user", "Hi"), Message("assistant", "Hello!")],
    [
        Message("system", "You are terse."),
        Message("user", "What is the capital of France?"),
        Message("assistant", "Paris."),
        Message("user", "把这个变成 JSON: name Ada, age 36"),
        Message("assistant", '{"name": "Ada", "age": 36}'),
    ],
    # Completions that start with whitespace or a newline: where a joined tokenization
    # would merge across the prompt's last "\n".
    [Message("user", "Indent"), Message("assistant", "  two spaces")],
    [Message("user", "Newline"), Message("assistant", "\n\nafter blank lines")],
]


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir: Path) -> Any:
    from transformers import AutoTokenizer

    # Exactly how the serving backend loads it.
    return AutoTokenizer.from_pretrained(tiny_model_dir, local_files_only=True, trust_remote_code=False)


@pytest.mark.parametrize("messages", CHATS, ids=["short", "multi-turn", "spaces", "newlines"])
def test_training_prompt_is_the_serving_prompt_byte_for_byte(tokenizer: Any, messages: list[Message]) -> None:
    example = encode_example(tokenizer, messages, max_seq_length=1024)
    assert example is not None
    prompt_ids = list(example.input_ids[: example.prompt_length])
    serving_text = render_prompt(messages[:-1])
    # What the transformers backend feeds the model for the same chat request.
    assert prompt_ids == tokenizer(serving_text, add_special_tokens=True)["input_ids"]
    assert prompt_ids[0] == tokenizer.bos_token_id
    assert tokenizer.decode(prompt_ids, skip_special_tokens=True) == serving_text
    assert tokenizer.decode(prompt_ids[1:]).encode() == serving_text.encode()


@pytest.mark.parametrize("messages", CHATS, ids=["short", "multi-turn", "spaces", "newlines"])
def test_loss_falls_on_the_completion_and_eos_only(tokenizer: Any, messages: list[Message]) -> None:
    example = encode_example(tokenizer, messages, max_seq_length=1024)
    assert example is not None
    labels = example.labels
    n_prompt = example.prompt_length
    assert labels[:n_prompt] == [IGNORE_INDEX] * n_prompt
    completion = labels[n_prompt:]
    assert IGNORE_INDEX not in completion
    assert completion[-1] == tokenizer.eos_token_id
    assert tokenizer.decode(completion[:-1]) == messages[-1].content
    assert completion[:-1] == tokenizer(messages[-1].content, add_special_tokens=False)["input_ids"]


def test_a_long_prompt_loses_its_oldest_tokens_but_keeps_bos(tokenizer: Any) -> None:
    long_chat = [Message("user", "word " * 300 + "the question?"), Message("assistant", "the answer")]
    full = encode_example(tokenizer, long_chat, max_seq_length=4096)
    cut = encode_example(tokenizer, long_chat, max_seq_length=64)
    assert full is not None and cut is not None
    assert len(cut.input_ids) == 64
    assert cut.input_ids[0] == tokenizer.bos_token_id
    # The end of the prompt ("### Assistant\n") and the whole completion survive.
    kept = cut.prompt_length - 1
    assert cut.input_ids[1:] == full.input_ids[len(full.input_ids) - 63 :]
    assert cut.labels[cut.prompt_length :] == full.labels[full.prompt_length :]
    assert kept < full.prompt_length - 1


def test_examples_whose_completion_cannot_fit_are_dropped_and_counted(tokenizer: Any) -> None:
    fits = conversations(3)
    limit = max(len(e.input_ids) for e in encode_examples(tokenizer, fits, 4096).examples)
    too_long = [Message("user", "Say a lot"), Message("assistant", "blah " * limit)]
    long_prompt = [Message("user", "word " * limit), Message("assistant", "ok")]
    encoded = encode_examples(tokenizer, [*fits, too_long, long_prompt], max_seq_length=limit)
    assert (len(encoded.examples), encoded.dropped, encoded.truncated) == (4, 1, 1)
    assert all(len(e.input_ids) <= limit for e in encoded.examples)


def test_epoch_order_depends_on_seed_and_epoch_only() -> None:
    first = epoch_batches(10, 3, seed=5, epoch=0)
    assert first == epoch_batches(10, 3, seed=5, epoch=0)
    assert first != epoch_batches(10, 3, seed=5, epoch=1)
    assert first != epoch_batches(10, 3, seed=6, epoch=0)
    assert [len(b) for b in first] == [3, 3, 3, 1]
    assert sorted(i for batch in first for i in batch) == list(range(10))


def test_micro_batches_keep_every_example_under_the_token_budget(tokenizer: Any) -> None:
    examples = encode_examples(tokenizer, CHATS + conversations(6), 1024).examples
    groups = micro_batches(examples, max_tokens=120)
    assert sorted(map(id, (e for g in groups for e in g))) == sorted(map(id, examples))
    for group in groups:
        assert len(group) == 1 or len(group) * max(len(e.input_ids) for e in group) <= 120


def test_collate_pads_left_and_counts_positions_from_the_first_real_token(tokenizer: Any) -> None:
    short, long = encode_examples(tokenizer, CHATS[:2], 1024).examples
    batch = collate([short, long], pad_id=tokenizer.pad_token_id)
    pad = len(long.input_ids) - len(short.input_ids)
    assert batch.input_ids[0, :pad].tolist() == [tokenizer.pad_token_id] * pad
    assert batch.input_ids[0, pad:].tolist() == list(short.input_ids)
    assert batch.attention_mask[0].tolist() == [0] * pad + [1] * len(short.input_ids)
    assert batch.position_ids[0, pad:].tolist() == list(range(len(short.input_ids)))
    assert batch.position_ids[1].tolist() == list(range(len(long.input_ids)))
    assert batch.labels[0, :pad].tolist() == [IGNORE_INDEX] * pad
    assert batch.n_tokens == len(short.input_ids) + len(long.input_ids)
    assert batch.logits_to_keep == max(short.completion_length, long.completion_length) + 1


def test_a_left_padded_batch_scores_like_its_examples_alone(tiny_model_dir: Path, tokenizer: Any) -> None:
    """Left padding, explicit position ids and narrowed logits change no loss."""
    import torch
    import torch.nn.functional as F  # noqa: N812
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, local_files_only=True, use_safetensors=True)
    examples = encode_examples(tokenizer, CHATS, 1024).examples

    def plain_loss(example: Any) -> float:
        ids = torch.tensor([list(example.input_ids)])
        with torch.no_grad():
            out = model(input_ids=ids, labels=torch.tensor([example.labels]))
        return float(out.loss) * example.completion_length

    batch = collate(examples, tokenizer.pad_token_id)
    with torch.no_grad():
        logits = model(
            input_ids=batch.input_ids,
            attention_mask=batch.attention_mask,
            position_ids=batch.position_ids,
            logits_to_keep=batch.logits_to_keep,
        ).logits[:, :-1]
    labels = batch.labels[:, batch.labels.shape[1] - batch.logits_to_keep + 1 :]
    batched = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), reduction="sum")
    assert float(batched) == pytest.approx(sum(plain_loss(e) for e in examples), rel=1e-4)
