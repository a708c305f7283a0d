"""The identifier kinds and the canonical identifier value that every parser returns."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NoReturn

from fraudx.platform.errors import InvalidIdentifier

#: Longer input is refused before any parsing, so that junk cannot cost time.
MAX_RAW_LENGTH = 2048


class IdentifierKind(StrEnum):
    PHONE = "phone"
    BANK_ACCOUNT = "bank_account"
    IP = "ip"
    URL = "url"
    DOMAIN = "domain"
    EMAIL = "email"
    CRYPTO_WALLET = "crypto_wallet"
    IMEI = "imei"
    IMSI = "imsi"


@dataclass(frozen=True, slots=True, order=True)
class Identifier:
    """A thing that fraud uses, in canonical form: equal spellings give equal identifiers."""

    kind: IdentifierKind
    value: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


def reject(kind: str, raw: str, reason: str) -> NoReturn:
    """Raise the one error that parsers may raise."""
    raise InvalidIdentifier(kind, raw, reason)
