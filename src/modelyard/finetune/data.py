"""Conversations -> token ids and loss masks -> deterministic, padded batches.

The prompt part of every example is tokenized exactly as serving tokenizes a prompt:
``tokenizer(render_prompt(messages[:-1]))`` with the tokenizer's default special tokens
(its BOS), one call for the prompt alone. The completion is tokenized on its own
(no special tokens) and the EOS id is appended. Tokenizing prompt and completion
separately, rather than their joined text, is deliberate: a BPE merge across the
``"### Assistant\\n"`` boundary would give training a prompt serving never sends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelyard.errors import InvalidRequest
from modelyard.prompting import Message, render_training_pair

if TYPE_CHECKING:
    import torch

__all__ = [
    "IGNORE_INDEX",
    "Batch",
    "EncodedSet",
    "Example",
    "collate",
    "encode_example",
    "encode_examples",
    "eos_token_id",
    "epoch_batches",
    "micro_batches",
    "pad_token_id",
]

IGNORE_INDEX = -100  # label value cross-entropy skips: prompt tokens and padding


@dataclass(frozen=True, slots=True)
class Example:
    input_ids: tuple[int, ...]
    prompt_length: int  # the first prompt_length ids are the prompt and carry no loss

    @property
    def labels(self) -> list[int]:
        return [IGNORE_INDEX] * self.prompt_length + list(self.input_ids[self.prompt_length :])

    @property
    def completion_length(self) -> int:
        """Completion tokens plus EOS: the tokens the loss is taken over."""
        return len(self.input_ids) - self.prompt_length


@dataclass(frozen=True, slots=True)
class EncodedSet:
    examples: list[Example]
    dropped: int  # completion + EOS alone did not fit max_seq_length
    truncated: int  # prompt shortened from the left to fit

    @property
    def n_tokens(self) -> int:
        return sum(len(e.input_ids) for e in self.examples)


def eos_token_id(tokenizer: Any) -> int:
    eos = tokenizer.eos_token_id
    if not isinstance(eos, int):
        raise InvalidRequest("the base model's tokenizer has no end-of-sequence token", param="model")
    return eos


def pad_token_id(tokenizer: Any) -> int:
    # Padding is masked out of attention and loss, so EOS serves when there is no pad.
    pad = tokenizer.pad_token_id
    return pad if isinstance(pad, int) else eos_token_id(tokenizer)


def encode_example(tokenizer: Any, messages: Sequence[Message], max_seq_length: int) -> Example | None:
    """One conversation as ids; None when its completion and EOS cannot fit.

    A too-long prompt loses tokens from its left, after its leading special tokens:
    the answer depends most on the last turn and the ``### Assistant`` header, which
    stay; the BOS stays too because the model never saw text without it. Serving sees
    the whole prompt; a shortened one still teaches the answer.
    """
    prompt, completion = render_training_pair(messages)
    prompt_ids = list(tokenizer(prompt)["input_ids"])
    completion_ids = [*tokenizer(completion, add_special_tokens=False)["input_ids"], eos_token_id(tokenizer)]
    room = max_seq_length - len(completion_ids)
    if len(prompt_ids) > room:
        head = _leading_special(prompt_ids, tokenizer)
        if room < head + 1:
            return None
        prompt_ids = prompt_ids[:head] + prompt_ids[len(prompt_ids) - (room - head) :]
    return Example(tuple(prompt_ids + completion_ids), len(prompt_ids))


def encode_examples(
    tokenizer: Any, conversations: Sequence[Sequence[Message]], max_seq_length: int
) -> EncodedSet:
    examples: list[Example] = []
    dropped = truncated = 0
    for messages in conversations:
        example = encode_example(tokenizer, messages, max_seq_length)
        if example is None:
            dropped += 1
            continue
        full_prompt = len(tokenizer(render_training_pair(messages)[0])["input_ids"])
        truncated += example.prompt_length < full_prompt
        examples.append(example)
    return EncodedSet(examples, dropped, truncated)


def _leading_special(ids: Sequence[int], tokenizer: Any) -> int:
    special = set(tokenizer.all_special_ids)
    count = 0
    while count < len(ids) and ids[count] in special:
        count += 1
    return count


def epoch_batches(n_examples: int, batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """Example indices of each batch of ``epoch`` (0-based); the last batch may be short.

    The order depends on ``seed + epoch`` only, so a run resumed mid-epoch sees
    exactly the batches the uninterrupted run saw.
    """
    import torch

    generator = torch.Generator().manual_seed(seed + epoch)
    order = torch.randperm(n_examples, generator=generator).tolist()
    return [order[i : i + batch_size] for i in range(0, n_examples, batch_size)]


def micro_batches(examples: Sequence[Example], max_tokens: int) -> list[list[Example]]:
    """Split one batch into groups of similar length, each at most ``max_tokens`` padded.

    The optimizer step still sees the whole batch (gradients add up over the groups);
    grouping by length only saves the compute that padding would waste.
    """
    ordered = sorted(examples, key=lambda e: len(e.input_ids))
    groups: list[list[Example]] = []
    for example in ordered:
        # Sorted ascending, so this example is the longest of the group it would join.
        if groups and (len(groups[-1]) + 1) * len(example.input_ids) <= max_tokens:
            groups[-1].append(example)
        else:
            groups.append([example])
    return groups


@dataclass(frozen=True, slots=True)
class Batch:
    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    position_ids: torch.Tensor
    labels: torch.Tensor
    n_tokens: int  # real (unpadded) tokens
    n_label_tokens: int
    # Only the last ``logits_to_keep`` positions ever predict a label (see collate).
    logits_to_keep: int


def collate(examples: Sequence[Example], pad_id: int) -> Batch:
    """Pad on the left, so every completion ends at the right edge.

    Then the positions whose logits the loss needs are the last few of every row,
    and the model computes logits for those only: with Gemma's 262k-token vocabulary
    the output layer costs more than the rest of the model. Position ids count real
    tokens only, so each row sees the positions serving gives the same prompt.
    """
    import torch

    width = max(len(e.input_ids) for e in examples)
    ids, mask, labels = [], [], []
    for example in examples:
        pad = width - len(example.input_ids)
        ids.append([pad_id] * pad + list(example.input_ids))
        mask.append([0] * pad + [1] * len(example.input_ids))
        labels.append([IGNORE_INDEX] * pad + example.labels)
    attention_mask = torch.tensor(mask)
    position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
    return Batch(
        input_ids=torch.tensor(ids),
        attention_mask=attention_mask,
        position_ids=position_ids,
        labels=torch.tensor(labels),
        n_tokens=int(attention_mask.sum()),
        n_label_tokens=sum(e.completion_length for e in examples),
        # Logits at position t predict token t + 1: one position more than the labels.
        logits_to_keep=min(width, max(e.completion_length for e in examples) + 1),
    )
