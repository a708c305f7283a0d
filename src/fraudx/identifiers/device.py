"""Mobile devices and subscriptions: IMEI (handset) and IMSI (SIM)."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from fraudx.identifiers.checksum import luhn_check_digit, luhn_valid
from fraudx.identifiers.kinds import IdentifierKind, reject

_SEPARATORS = re.compile(r"[\s\-./]+")


def _digits(kind: IdentifierKind, raw: str) -> str:
    text = _SEPARATORS.sub("", raw)
    if not (text.isascii() and text.isdigit()):
        reject(kind, raw, "only digits and separators are allowed")
    return text


def parse_imei(raw: str) -> str:
    """15 digits with a valid Luhn check digit; 14 digits get their check digit added."""
    digits = _digits(IdentifierKind.IMEI, raw)
    if len(digits) == 14:
        return digits + str(luhn_check_digit(digits))
    if len(digits) != 15:
        reject(
            IdentifierKind.IMEI,
            raw,
            f"an IMEI has 15 digits (or 14 without check digit), got {len(digits)}",
        )
    if not luhn_valid(digits):
        reject(IdentifierKind.IMEI, raw, "the IMEI check digit is wrong (Luhn)")
    return digits


def parse_imsi(raw: str) -> str:
    """14 or 15 digits starting with a known mobile country code (ITU-T E.212)."""
    digits = _digits(IdentifierKind.IMSI, raw)
    if len(digits) not in (14, 15):
        reject(IdentifierKind.IMSI, raw, f"an IMSI has 14 or 15 digits, got {len(digits)}")
    if digits[:3] not in mcc_countries():
        reject(IdentifierKind.IMSI, raw, f"{digits[:3]} is not a known mobile country code")
    return digits


def imsi_country(value: str) -> str | None:
    return mcc_countries().get(value[:3])


@cache
def mcc_countries() -> dict[str, str]:
    """MCC -> ISO 3166 alpha-2, from the shipped ``data/mcc.csv``."""
    text = resources.files("fraudx.identifiers").joinpath("data/mcc.csv").read_text("utf-8")
    table: dict[str, str] = {}
    for line in text.splitlines():
        if line and not line.startswith("#") and not line.startswith("mcc,"):
            mcc, country = line.split(",")
            table[mcc.strip()] = country.strip()
    return table
