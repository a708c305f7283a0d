"""Parse and canonicalise every identifier kind that fraud uses (pure: no I/O but own data).

``parse(kind, raw, region=...)`` returns an :class:`Identifier` whose ``value`` is canonical,
so that two spellings of the same phone, account or wallet compare equal; anything that is
not a valid identifier of that kind raises :class:`InvalidIdentifier` with the reason, and
nothing else is ever raised.
"""

from __future__ import annotations

from collections.abc import Callable

import phonenumbers

from fraudx.identifiers.bank import parse_bank_account
from fraudx.identifiers.banks import Bank, BankDirectory, bank_directory
from fraudx.identifiers.crypto import parse_wallet
from fraudx.identifiers.device import imsi_country, parse_imei, parse_imsi
from fraudx.identifiers.kinds import MAX_RAW_LENGTH, Identifier, IdentifierKind, reject
from fraudx.identifiers.network import parse_domain, parse_email, parse_ip, parse_url
from fraudx.identifiers.phone import parse_phone, phone_region
from fraudx.platform.errors import InvalidIdentifier

__all__ = [
    "Bank",
    "BankDirectory",
    "Identifier",
    "IdentifierKind",
    "InvalidIdentifier",
    "bank_directory",
    "country_of",
    "parse",
]

_Parser = Callable[[str, str | None], str]
_PARSERS: dict[IdentifierKind, _Parser] = {
    IdentifierKind.PHONE: parse_phone,
    IdentifierKind.BANK_ACCOUNT: parse_bank_account,
    IdentifierKind.IP: lambda raw, _region: parse_ip(raw),
    IdentifierKind.URL: lambda raw, _region: parse_url(raw),
    IdentifierKind.DOMAIN: lambda raw, _region: parse_domain(raw),
    IdentifierKind.EMAIL: lambda raw, _region: parse_email(raw),
    IdentifierKind.CRYPTO_WALLET: lambda raw, _region: parse_wallet(raw),
    IdentifierKind.IMEI: lambda raw, _region: parse_imei(raw),
    IdentifierKind.IMSI: lambda raw, _region: parse_imsi(raw),
}
_KINDS = {kind.value: kind for kind in IdentifierKind}


def parse(kind: IdentifierKind | str, raw: str, *, region: str | None = None) -> Identifier:
    """The canonical identifier of ``raw``; ``region`` (ISO alpha-2) reads national forms."""
    kind_name = kind if isinstance(kind, str) else repr(kind)
    the_kind = _KINDS.get(kind_name.strip().lower()) if isinstance(kind, str) else None
    shown = raw if isinstance(raw, str) else repr(raw)
    if the_kind is None:
        reject(str(kind_name), shown, f"unknown identifier kind (one of {', '.join(_KINDS)})")
    if not isinstance(raw, str):
        reject(the_kind, shown, f"expected text, got {type(raw).__name__}")
    if len(raw) > MAX_RAW_LENGTH:
        reject(the_kind, raw[:64] + "…", f"longer than {MAX_RAW_LENGTH} characters")
    if not raw.strip():
        reject(the_kind, raw, "empty")
    the_region = _region(the_kind, raw, region)
    try:
        value = _PARSERS[the_kind](raw, the_region)
    except (ValueError, UnicodeError) as error:
        # A library refusing the input in its own words is still just invalid input.
        reject(the_kind, raw, f"unreadable ({error})")
    return Identifier(the_kind, value)


def country_of(identifier: Identifier) -> str | None:
    """ISO alpha-2 country: a phone's region, a bank account's country, an IMSI's MCC country."""
    if identifier.kind is IdentifierKind.PHONE:
        return phone_region(identifier.value)
    if identifier.kind is IdentifierKind.BANK_ACCOUNT:
        return identifier.value[:2]
    if identifier.kind is IdentifierKind.IMSI:
        return imsi_country(identifier.value)
    return None


def _region(kind: IdentifierKind, raw: str, region: str | None) -> str | None:
    if region is None:
        return None
    if not isinstance(region, str):
        reject(kind, raw, f"region must be an ISO 3166 alpha-2 code, got {type(region).__name__}")
    code = region.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        reject(kind, raw, f"unknown region {region!r} (expected an ISO 3166 alpha-2 code)")
    return code
