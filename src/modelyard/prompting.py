"""The one default prompt format, used byte for byte by serving and by fine-tuning.

Models without a chat template of their own (base models such as gemma-3-270m) see a
conversation rendered like this::

    ### System
    You are terse.

    ### User
    Hi

    ### Assistant
    Hello!

    ### User
    How are you?

    ### Assistant
    <generation starts here>

Every turn is ``### <Role>\\n<content>\\n\\n``; the prompt ends with ``### Assistant\\n``
and the model's answer follows directly (no leading space). Generation stops at the
model's end-of-sequence token or at ``\\n### `` (the start of a next turn; the blank
line before it is dropped too). Fine-tuning
trains on exactly ``render_prompt(messages[:-1])`` followed by the last assistant turn
and the end-of-sequence token, so what a tuned model learns is what serving asks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from modelyard.errors import InvalidRequest

__all__ = [
    "DEFAULT_STOP",
    "ROLES",
    "Message",
    "render_prompt",
    "render_training_pair",
]

ROLES = ("system", "user", "assistant")
# "\n\n### " first: a turn ends with a blank line, which then stays out of the answer.
DEFAULT_STOP = ("\n\n### ", "\n### ")
_HEADERS = {"system": "### System\n", "user": "### User\n", "assistant": "### Assistant\n"}
_TURN_END = "\n\n"


@dataclass(frozen=True, slots=True)
class Message:
    role: str
    content: str


def _render_turn(message: Message) -> str:
    if message.role not in _HEADERS:
        raise InvalidRequest(
            f"unsupported role '{message.role}'; use one of {', '.join(ROLES)}", param="messages"
        )
    return _HEADERS[message.role] + message.content + _TURN_END


def render_prompt(messages: Sequence[Message]) -> str:
    """Render a conversation and open the assistant's turn."""
    if not messages:
        raise InvalidRequest("messages must not be empty", param="messages")
    return "".join(_render_turn(m) for m in messages) + _HEADERS["assistant"]


def render_training_pair(messages: Sequence[Message]) -> tuple[str, str]:
    """Split a conversation ending in an assistant turn into (prompt, completion).

    The completion carries no end-of-sequence marker: the tokenizer's EOS token is
    appended as a token id, since its text form differs between tokenizers.
    """
    if not messages or messages[-1].role != "assistant":
        raise InvalidRequest("a training example must end with an assistant turn")
    return render_prompt(messages[:-1]), messages[-1].content
