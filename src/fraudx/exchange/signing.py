"""The node's Ed25519 key pair and detached signatures over exact body bytes.

What a node serves or pushes carries ``X-FraudX-Signature: ed25519=<base64>`` over the
exact bytes of the body, and ``X-FraudX-Node: <node id>``. The receiver checks it against
the public key it was configured with for that peer and refuses what fails. The private
key lives in ``FRAUDX_HOME/node_ed25519.key`` (mode 0600) and is never logged.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from fraudx.platform.errors import ConfigurationError, InvalidInput, NotAuthenticated
from fraudx.platform.keyfiles import create_secret_file

SIGNATURE_HEADER = "X-FraudX-Signature"
NODE_HEADER = "X-FraudX-Node"
#: Signature schemes, the prefix of the signature header's value. ``ed25519`` covers the
#: node id and the whole body; ``ed25519-sha256`` the node id and the body's SHA-256.
#: Ed25519 reads its whole message twice to sign it: a page of 5,000 objects (6 MB)
#: cost some 30 ms of SHA-512 to sign and 15 to check, its SHA-256 5. A server signs a
#: response the second way for a client that asks for it (``ACCEPT_SIGNATURE_HEADER``),
#: so that a node of an earlier FraudX, which does not, is still answered the first way.
FULL_BODY = "ed25519"
BODY_DIGEST = "ed25519-sha256"
ACCEPT_SIGNATURE_HEADER = "X-FraudX-Accept-Signature"
# Keeps a digest's signature from ever standing for a whole-body one, and back.
_DIGEST_DOMAIN = b"fraudx-sha256\n"
KEY_FILE = "node_ed25519.key"


class BadSignature(NotAuthenticated):
    """A body whose signature is missing, malformed or made with another key."""

    title = "Bad signature"
    slug = "bad-signature"


def key_path(home: Path) -> Path:
    return home / KEY_FILE


class NodeKey:
    """The node's signing key."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private

    @classmethod
    def generate(cls) -> NodeKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load(cls, home: Path) -> NodeKey:
        path = key_path(home)
        if not path.exists():
            raise ConfigurationError(f"no node key in {path}: run `fraudx node keygen` first")
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigurationError(f"{path} is not an Ed25519 private key")
        return cls(key)

    @classmethod
    def ensure(cls, home: Path) -> tuple[NodeKey, bool]:
        """The node's key, created (0600) if absent; and whether it was created now."""
        path = key_path(home)
        if path.exists():
            return cls.load(home), False
        key = cls.generate()
        pem = key._private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        if not create_secret_file(path, pem):  # another process made it meanwhile
            return cls.load(home), False
        return key, True

    @property
    def public_key(self) -> str:
        """The public key as base64 of its 32 raw bytes: what peers configure."""
        raw = self._private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return base64.b64encode(raw).decode("ascii")

    def sign(self, body: bytes) -> str:
        """The value of the signature header for ``body``."""
        return "ed25519=" + base64.b64encode(self._private.sign(body)).decode("ascii")

    def sign_body(self, node: str, body: bytes, scheme: str = FULL_BODY) -> str:
        """The signature header's value for ``body`` sent by ``node``, in ``scheme``."""
        if scheme == BODY_DIGEST:
            signature = self._private.sign(digest_message(node, body))
            return f"{BODY_DIGEST}=" + base64.b64encode(signature).decode("ascii")
        return self.sign(signed_message(node, body))

    def secret_for(self, purpose: bytes) -> bytes:
        """32 bytes derived from the private key, for encrypting the node's own secrets."""
        raw = self._private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return hashlib.sha256(raw + b"/" + purpose).digest()


def signed_message(node: str, body: bytes) -> bytes:
    """What a signature covers: the signer's node id and the exact body bytes, so that
    the unsigned ``X-FraudX-Node`` header cannot be changed without breaking it."""
    return node.encode("utf-8") + b"\n" + body


def digest_message(node: str, body: bytes) -> bytes:
    """What a ``BODY_DIGEST`` signature covers: the node id and the body's SHA-256."""
    return _DIGEST_DOMAIN + node.encode("utf-8") + b"\n" + hashlib.sha256(body).digest()


def parse_public_key(text: str) -> Ed25519PublicKey:
    """A peer's public key as ``fraudx node show-key`` prints it (base64 or hex)."""
    text = text.strip()
    try:
        raw = bytes.fromhex(text) if len(text) == 64 else base64.b64decode(text, validate=True)
        if len(raw) != 32:
            raise ValueError
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise InvalidInput("public_key", "not an Ed25519 public key (base64 of 32 bytes)") from None


def verify(public_key: str, body: bytes, header: str | None) -> None:
    """Raise BadSignature unless ``header`` is a valid ``ed25519`` signature of ``body``."""
    if not header or not header.startswith("ed25519="):
        raise BadSignature(f"no {SIGNATURE_HEADER} header: unsigned material is refused")
    _check(public_key, body, header.removeprefix("ed25519="))


def verify_body(public_key: str, node: str, body: bytes, header: str | None) -> None:
    """Raise BadSignature unless ``header`` is a valid signature, in either scheme, of
    ``body`` sent by ``node``."""
    if header and header.startswith(f"{BODY_DIGEST}="):
        _check(public_key, digest_message(node, body), header.removeprefix(f"{BODY_DIGEST}="))
    else:
        verify(public_key, signed_message(node, body), header)


def _check(public_key: str, message: bytes, signature_text: str) -> None:
    try:
        signature = base64.b64decode(signature_text, validate=True)
        parse_public_key(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        raise BadSignature("the signature does not match the peer's configured key") from None
