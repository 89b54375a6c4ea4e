"""Tiny random models, built on the spot, so backend tests run in seconds on CPU.

Nothing here downloads anything: the tokenizer is trained on the corpus below and the
weights are drawn from a fixed seed, so every build of the same arguments is identical.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["CORPUS", "build_tiny_causal_lm"]

SPECIAL_TOKENS = ("<pad>", "<s>", "</s>")
VOCAB_SIZE = 600
SEED = 1234

# Chat turns in modelyard's prompt format, JSON and Chinese: the tokenizer learns merges
# for what the tests send, and stays byte-level so anything else still encodes.
CORPUS: tuple[str, ...] = (
    "### System\nYou are terse.\n\n### User\nHi\n\n### Assistant\nHello!\n\n",
    "### User\nWhat is the capital of France?\n\n### Assistant\nParis.\n\n",
    '{"name": "Ada", "age": 36, "tags": ["math", "code"], "ok": true, "none": null}',
    '[{"id": 1}, {"id": 2}] {"a": {"b": [1, 2, 3]}, "c": "d\\n"}',
    "你好，世界！今天天气很好。我们一起去公园散步吧。",
    "模型即服务平台：选择模型、调用接口、上传数据、微调、评估、部署。",
    "The quick brown fox jumps over the lazy dog. 0123456789",
    "Tokens, stops and streams: the same text whether streamed or not.",
)


def _train_tokenizer():  # -> transformers.PreTrainedTokenizerFast
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=list(SPECIAL_TOKENS),
        # Seeding all 256 byte symbols is what makes any text encodable.
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(list(CORPUS) * 4, trainer)
    bos = core.token_to_id("<s>")
    # A BOS on every encoded prompt, like most real causal LM tokenizers (Gemma's too).
    core.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", bos)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=core, bos_token="<s>", eos_token="</s>", pad_token="<pad>"
    )


def build_tiny_causal_lm(path: Path, *, chat_template: str | None = None) -> Path:
    """Write a random ``LlamaForCausalLM`` (a few MB) and its tokenizer to ``path``.

    ``chat_template`` (Jinja) is stored with the tokenizer when given, to test models
    that bring their own prompt format.
    """
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = _train_tokenizer()
    if chat_template is not None:
        tokenizer.chat_template = chat_template
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=512,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    torch.manual_seed(SEED)
    model = LlamaForCausalLM(config)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path, safe_serialization=True)
    tokenizer.save_pretrained(path)
    return path
