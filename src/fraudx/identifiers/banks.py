"""The bank directory that ships with FraudX (``data/banks.csv``).

National codes: TH uses the Bank of Thailand 3-digit codes, CN the CNAPS bank-category codes,
VN the NAPAS bank BINs. KH, LA and MM have no public national numeric code, so their banks get
stable FraudX short codes (letters); see the header of ``data/banks.csv``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = ["Bank", "BankDirectory", "bank_directory", "is_bic"]


@dataclass(frozen=True, slots=True)
class Bank:
    country: str
    code: str
    bic: str
    name: str
    short_names: tuple[str, ...]
    account_lengths: tuple[int, ...]
    card_bins: tuple[str, ...]


def is_bic(token: str) -> bool:
    """ISO 9362 shape: 4 letters bank, 2 letters country, 2 alnum location, optional 3 alnum."""
    return len(token) in (8, 11) and token[:6].isalpha() and token.isalnum() and token.isascii()


def _key(token: str) -> str:
    # Short names are matched ignoring case and the spaces/dashes people put in them.
    return "".join(token.split()).replace("-", "").casefold()


class BankDirectory:
    """Banks by country, found by national code, BIC or short name (case-insensitive)."""

    def __init__(self, banks: list[Bank]) -> None:
        self._banks = list(banks)
        self._by_country: dict[str, list[Bank]] = {}
        # (country, key) -> bank, with codes and short names in one table; BICs by their
        # first 8 characters (the head office), because branch BICs add 3 characters.
        self._by_token: dict[tuple[str, str], Bank] = {}
        self._by_bic: dict[str, Bank] = {}
        for bank in self._banks:
            self._by_country.setdefault(bank.country, []).append(bank)
            self._by_bic[bank.bic[:8]] = bank
            for token in (bank.code, *bank.short_names):
                self._by_token.setdefault((bank.country, _key(token)), bank)

    def banks(self, country: str | None = None) -> list[Bank]:
        if country is None:
            return list(self._banks)
        return list(self._by_country.get(country.upper(), []))

    def countries(self) -> list[str]:
        return sorted(self._by_country)

    def find(self, country: str | None, token: str) -> Bank | None:
        """The bank named by ``token`` (code, BIC or short name); a BIC implies its country."""
        text = token.strip()
        if not text:
            return None
        upper = text.upper()
        if country is not None:
            bank = self._by_token.get((country.upper(), _key(text)))
            if bank is not None:
                return bank
        if is_bic(upper):
            bank = self._by_bic.get(upper[:8])
            if bank is not None and (country is None or bank.country == country.upper()):
                return bank
        return None


def _split(cell: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in cell.split("|") if item.strip())


def load_banks(text: str) -> list[Bank]:
    rows = csv.DictReader(line for line in io.StringIO(text) if not line.startswith("#"))
    return [
        Bank(
            country=row["country"].strip().upper(),
            code=row["code"].strip().upper(),
            bic=row["bic"].strip().upper(),
            name=row["name"].strip(),
            short_names=_split(row["short_names"]),
            account_lengths=tuple(int(n) for n in _split(row["account_lengths"])),
            card_bins=_split(row["card_bins"]),
        )
        for row in rows
    ]


@cache
def bank_directory() -> BankDirectory:
    """The shipped directory, read once per process."""
    text = resources.files("fraudx.identifiers").joinpath("data/banks.csv").read_text("utf-8")
    return BankDirectory(load_banks(text))
