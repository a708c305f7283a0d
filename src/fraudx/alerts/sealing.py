"""Webhook secrets at rest: they sign every delivery, so they cannot be hashed like tokens;
they are sealed with AES-256-GCM under a node key kept in FRAUDX_HOME (mode 0600)."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from fraudx.platform.keyfiles import create_secret_file

_NONCE = 12


class Sealer:
    def __init__(self, key_file: Path) -> None:
        self._file = key_file
        self._cipher: AESGCM | None = None

    def _aead(self) -> AESGCM:
        if self._cipher is None:
            create_secret_file(self._file, AESGCM.generate_key(bit_length=256))
            self._cipher = AESGCM(self._file.read_bytes())
        return self._cipher

    def seal(self, secret: str) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead().encrypt(nonce, secret.encode("utf-8"), None)

    def open(self, sealed: bytes) -> str:
        return self._aead().decrypt(sealed[:_NONCE], sealed[_NONCE:], None).decode("utf-8")
