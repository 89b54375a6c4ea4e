"""`modelyard chat MODEL`: an interactive prompt that streams the answer."""

from __future__ import annotations

import sys

import typer

from modelyard.cli.client import ApiClient
from modelyard.config import Settings

__all__ = ["chat"]


def chat(
    model: str,
    system: str | None = typer.Option(None, "--system", help="A system message."),
    temperature: float = typer.Option(0.7, "--temperature"),
    max_tokens: int = typer.Option(256, "--max-tokens"),
    api_key: str | None = typer.Option(None, "--api-key"),
) -> None:
    """Chat with a model; an empty line or Ctrl-D ends the session."""
    client = ApiClient(Settings(), api_key=api_key)
    history: list[dict[str, str]] = [{"role": "system", "content": system}] if system else []
    interactive = sys.stdin.isatty()
    while True:
        try:
            line = input("you> " if interactive else "")
        except (EOFError, KeyboardInterrupt):
            break
        if not line.strip():
            break
        history.append({"role": "user", "content": line})
        body = {
            "model": model,
            "messages": history,
            "stream": True,
            "temperature": temperature,
            "max_tokens": max_tokens,
        }
        typer.echo(f"{model}> ", nl=False)
        answer = []
        for event in client.stream_sse("/v1/chat/completions", body):
            for choice in event.get("choices", []):
                piece = choice.get("delta", {}).get("content") or ""
                answer.append(piece)
                typer.echo(piece, nl=False)
        typer.echo("")
        history.append({"role": "assistant", "content": "".join(answer)})
