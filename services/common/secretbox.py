"""Encrypts secrets at rest (pod credentials) with Fernet (AES-128-CBC + HMAC-SHA256).

The key comes from PODS_SECRET_KEY, or is generated once into <data_dir>/secret.key (mode
0600). Used by services/api (encrypt on create) and services/spawner (decrypt to hand the
credentials to the container).
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from services.common.outcomes import PermanentError
from services.common.settings import Settings


class SecretBox:
    """Symmetric encryption of short secrets."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretBox:
        if settings.secret_key:
            return cls(settings.secret_key.encode())
        return cls(load_or_create_key(settings.data_dir / "secret.key"))

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise PermanentError("stored secret cannot be decrypted with this key") from None


def load_or_create_key(path: Path) -> bytes:
    """Reads the key file, creating it (0600, exclusively) if it does not exist yet."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    key = Fernet.generate_key()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key
