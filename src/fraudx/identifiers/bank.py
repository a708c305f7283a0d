"""Bank accounts: ``CC:BANK:ACCOUNT`` with the bank's national code from the directory.

Accepted spellings: ``CC:BANK:ACCOUNT`` (BANK a national code, a short name or a BIC),
``BIC:ACCOUNT``, and ``BANK:ACCOUNT`` when a region is given. Payment card numbers are
accepted as accounts of their issuing bank and must pass the Luhn check.
"""

from __future__ import annotations

import re

from fraudx.identifiers.banks import Bank, bank_directory, is_bic
from fraudx.identifiers.checksum import luhn_valid
from fraudx.identifiers.kinds import IdentifierKind, reject

_KIND = IdentifierKind.BANK_ACCOUNT
_SEPARATORS = re.compile(r"[\s\-.]+")
_COUNTRY = re.compile(r"[A-Za-z]{2}")
# Prefixes of the big card schemes (UnionPay, Visa, Mastercard): a 16-19 digit number with one
# of them, at a bank whose accounts never have that length, is read as a card number.
_CARD_SCHEMES = ("62", "4", "5")
_CARD_LENGTHS = range(16, 20)
_MIN_ACCOUNT, _MAX_ACCOUNT = 6, 34


def parse_bank_account(raw: str, region: str | None) -> str:
    parts = [part.strip() for part in raw.split(":")]
    if len(parts) == 3:
        country, token, account = parts
        if not _COUNTRY.fullmatch(country):
            reject(_KIND, raw, f"{country!r} is not an ISO 3166 country code")
        bank = _find_bank(raw, country.upper(), token)
    elif len(parts) == 2:
        token, account = parts
        if is_bic(token.upper()) and bank_directory().find(None, token) is not None:
            bank = _find_bank(raw, None, token)
        elif region is not None:
            bank = _find_bank(raw, region, token)
        elif is_bic(token.upper()):
            reject(_KIND, raw, f"unknown BIC {token.upper()!r}")
        else:
            reject(_KIND, raw, "no country: write CC:BANK:ACCOUNT or BIC:ACCOUNT, or give a region")
    else:
        reject(_KIND, raw, "expected CC:BANK:ACCOUNT, BIC:ACCOUNT or BANK:ACCOUNT")
    number = _SEPARATORS.sub("", account)
    if not number:
        reject(_KIND, raw, "the account number is missing")
    if not (number.isascii() and number.isdigit()):
        reject(_KIND, raw, "the account number may only have digits and separators")
    _check_number(raw, bank, number)
    return f"{bank.country}:{bank.code}:{number}"


def _find_bank(raw: str, country: str | None, token: str) -> Bank:
    if not token:
        reject(_KIND, raw, "the bank is missing")
    bank = bank_directory().find(country, token)
    if bank is None:
        if country is None:
            reject(_KIND, raw, f"unknown bank {token!r}")
        if is_bic(token.upper()) and token[4:6].upper() != country:
            reject(_KIND, raw, f"BIC {token.upper()!r} is not a bank in {country}")
        reject(_KIND, raw, f"unknown bank {token!r} in {country}")
    return bank


def _check_number(raw: str, bank: Bank, number: str) -> None:
    length = len(number)
    if length in _CARD_LENGTHS and (
        number.startswith(bank.card_bins)
        or (length not in bank.account_lengths and number.startswith(_CARD_SCHEMES))
    ):
        if not luhn_valid(number):
            reject(_KIND, raw, "card number fails the Luhn check")
        return
    if bank.account_lengths and length not in bank.account_lengths:
        expected = " or ".join(str(n) for n in bank.account_lengths)
        reject(
            _KIND,
            raw,
            f"{bank.short_names[0] if bank.short_names else bank.code} account numbers have "
            f"{expected} digits, got {length}",
        )
    if not _MIN_ACCOUNT <= length <= _MAX_ACCOUNT:
        reject(_KIND, raw, f"an account number has {_MIN_ACCOUNT} to {_MAX_ACCOUNT} digits")
