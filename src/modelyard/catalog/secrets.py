"""Encrypts provider credentials at rest with a key kept outside the database."""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from modelyard.errors import ModelyardError

__all__ = ["SecretBox", "load_or_create_key"]


def load_or_create_key(configured: str | None, key_file: Path) -> bytes:
    if configured:
        return configured.encode()
    if key_file.exists():
        return key_file.read_bytes().strip()
    key = Fernet.generate_key()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.touch(mode=0o600)
    key_file.write_bytes(key + b"\n")
    return key


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            # The secret key changed since this credential was stored.
            raise ModelyardError("a stored provider credential cannot be decrypted") from exc
