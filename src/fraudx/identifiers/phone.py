"""Phone numbers: E.164 through the phonenumbers library."""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

from fraudx.identifiers.kinds import IdentifierKind, reject

_KIND = IdentifierKind.PHONE
# Characters people put in phone numbers; anything else (letters, vanity numbers) is refused
# because phonenumbers would silently map letters to digits.
_ALLOWED = re.compile(r"[0-9+()\-./ \t\u00a0]+")

_REASONS = {
    ValidationResult.INVALID_COUNTRY_CODE: "unknown country calling code",
    ValidationResult.TOO_SHORT: "too short",
    ValidationResult.TOO_LONG: "too long",
    ValidationResult.INVALID_LENGTH: "wrong length",
}


def parse_phone(raw: str, region: str | None) -> str:
    """E.164 of a valid number; national formats are read in ``region``."""
    text = raw.strip()
    if not _ALLOWED.fullmatch(text):
        reject(_KIND, raw, "only digits, '+', spaces, dashes, dots and brackets are allowed")
    compact = re.sub(r"[^0-9+]", "", text)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if compact.count("+") > 1 or "+" in compact[1:]:
        reject(_KIND, raw, "'+' may only start the number")
    if not compact.startswith("+") and region is None:
        reject(_KIND, raw, "a national number needs a region (or write it with + or 00)")
    try:
        number = phonenumbers.parse(compact, region)
    except NumberParseException as error:
        reject(_KIND, raw, _parse_error_reason(error))
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible in _REASONS:
        reject(_KIND, raw, _REASONS[possible])
    if not phonenumbers.is_valid_number(number):
        where = phonenumbers.region_code_for_number(number) or region or "its country"
        reject(_KIND, raw, f"not a valid number in {where}")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def phone_region(value: str) -> str | None:
    """ISO region of a canonical E.164 value (``None`` for non-geographic numbers)."""
    try:
        number = phonenumbers.parse(value, None)
    except NumberParseException:
        return None
    region = phonenumbers.region_code_for_number(number)
    return region if region and region != "001" else None


def _parse_error_reason(error: NumberParseException) -> str:
    if error.error_type == NumberParseException.INVALID_COUNTRY_CODE:
        return "unknown country calling code"
    if error.error_type in (
        NumberParseException.TOO_SHORT_NSN,
        NumberParseException.TOO_SHORT_AFTER_IDD,
    ):
        return "too short"
    if error.error_type == NumberParseException.TOO_LONG:
        return "too long"
    return "not a phone number"
