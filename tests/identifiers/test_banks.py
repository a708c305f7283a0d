"""The bank directory shipped with FraudX."""

from __future__ import annotations

import pytest

from fraudx.identifiers import Bank, BankDirectory, bank_directory

SIX = ["CN", "KH", "LA", "MM", "TH", "VN"]


def test_directory_is_cached() -> None:
    assert bank_directory() is bank_directory()
    assert isinstance(bank_directory(), BankDirectory)


@pytest.mark.parametrize("country", SIX)
def test_at_least_ten_banks_per_country(country: str) -> None:
    banks = bank_directory().banks(country)
    assert len(banks) >= 10
    assert all(isinstance(bank, Bank) and bank.country == country for bank in banks)
    codes = [bank.code for bank in banks]
    assert len(set(codes)) == len(codes)


def test_bics_are_unique_and_well_formed() -> None:
    banks = bank_directory().banks()
    bics = [bank.bic for bank in banks]
    assert len(set(bics)) == len(bics)
    for bank in banks:
        assert len(bank.bic) in (8, 11), bank
        assert bank.bic[:4].isalpha(), bank
        assert bank.bic[4:6] == bank.country, bank
        assert bank.name, bank
        assert bank.short_names, bank


def test_short_names_do_not_collide_within_a_country() -> None:
    for country in SIX:
        seen: dict[str, str] = {}
        for bank in bank_directory().banks(country):
            for token in (bank.code, *bank.short_names):
                key = token.replace(" ", "").casefold()
                assert seen.setdefault(key, bank.code) == bank.code, (country, token)


@pytest.mark.parametrize(
    ("country", "token", "code"),
    [
        ("TH", "kbank", "004"),
        ("th", "004", "004"),
        (None, "KASITHBK", "004"),
        (None, "kasithbkxxx", "004"),
        ("TH", "KASITHBK", "004"),
        ("TH", "Krungsri", "025"),
        ("CN", "icbc", "102"),
        ("CN", "招商银行", "308"),
        ("VN", "Vietcombank", "970436"),
        ("VN", "970418", "970418"),
        ("KH", "aba", "ABA"),
        ("LA", "bcel", "BCEL"),
        ("MM", "kbz", "KBZ"),
    ],
)
def test_find(country: str | None, token: str, code: str) -> None:
    bank = bank_directory().find(country, token)
    assert bank is not None
    assert bank.code == code


@pytest.mark.parametrize(
    ("country", "token"),
    [("TH", "ICBC"), ("CN", "KASITHBK"), (None, "KBANK"), ("TH", ""), (None, "ZZZZZZZZ")],
)
def test_find_nothing(country: str | None, token: str) -> None:
    assert bank_directory().find(country, token) is None


def test_known_national_codes() -> None:
    directory = bank_directory()
    expected = {
        ("TH", "BBL"): ("002", "BKKBTHBK"),
        ("TH", "SCB"): ("014", "SICOTHBK"),
        ("TH", "BAY"): ("025", "AYUDTHBK"),
        ("CN", "BOC"): ("104", "BKCHCNBJ"),
        ("CN", "PSBC"): ("403", "PSBCCNBJ"),
        ("VN", "BIDV"): ("970418", "BIDVVNVX"),
    }
    for (country, name), (code, bic) in expected.items():
        bank = directory.find(country, name)
        assert bank is not None
        assert (bank.code, bank.bic) == (code, bic)
