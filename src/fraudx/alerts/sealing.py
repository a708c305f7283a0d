"""Webhook secrets at rest: they sign every delivery, so they cannot be hashed like tokens;
they are sealed with AES-256-GCM under a node key kept in FRAUDX_HOME (mode 0600)."""

from __future__ import annotations

import os
from pathlib import Path

from Crypto.Cipher import AES

_NONCE = 12
_TAG = 16


class Sealer:
    def __init__(self, key_file: Path) -> None:
        self._file = key_file
        self._key: bytes | None = None

    def _node_key(self) -> bytes:
        if self._key is None:
            if not self._file.exists():
                self._file.parent.mkdir(parents=True, exist_ok=True)
                # O_EXCL: two processes starting at once must not write two keys.
                try:
                    fd = os.open(self._file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                except FileExistsError:
                    pass
                else:
                    with os.fdopen(fd, "wb") as handle:
                        handle.write(os.urandom(32))
            self._key = self._file.read_bytes()
        return self._key

    def seal(self, secret: str) -> bytes:
        nonce = os.urandom(_NONCE)
        cipher = AES.new(self._node_key(), AES.MODE_GCM, nonce=nonce)
        sealed, tag = cipher.encrypt_and_digest(secret.encode("utf-8"))
        return nonce + tag + sealed

    def open(self, sealed: bytes) -> str:
        nonce, tag, body = sealed[:_NONCE], sealed[_NONCE : _NONCE + _TAG], sealed[_NONCE + _TAG :]
        cipher = AES.new(self._node_key(), AES.MODE_GCM, nonce=nonce)
        return bytes(cipher.decrypt_and_verify(body, tag)).decode("utf-8")
