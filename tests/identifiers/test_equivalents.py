"""Every spelling of one thing gives one identifier, for each of the six countries."""

from __future__ import annotations

import pytest

from fraudx.identifiers import parse

# (country, kind, canonical value, spellings as (raw, region))
TABLE: list[tuple[str, str, str, list[tuple[str, str | None]]]] = [
    ("TH", "phone", "+66812345678", [
        ("+66812345678", None), ("+66 81 234 5678", None), ("0066 81-234-5678", None),
        ("081 234 5678", "TH"), ("(081) 234.5678", "th"),
    ]),
    ("CN", "phone", "+8613123456789", [
        ("+86 131 2345 6789", None), ("0086-131-2345-6789", None),
        ("131 2345 6789", "CN"), ("13123456789", "CN"),
    ]),
    ("KH", "phone", "+85591234567", [
        ("+855 91 234 567", None), ("00855 91 234 567", None), ("091 234 567", "KH"),
        ("091-234-567", "KH"),
    ]),
    ("LA", "phone", "+8562023123456", [
        ("+856 20 23 123 456", None), ("00856 20 23 123 456", None), ("020 23 123 456", "LA"),
    ]),
    ("MM", "phone", "+9592123456", [
        ("+95 9 212 3456", None), ("0095 9 212 3456", None), ("09 212 3456", "MM"),
        ("09-212-3456", "MM"),
    ]),
    ("VN", "phone", "+84912345678", [
        ("+84 912 345 678", None), ("0084 912 345 678", None), ("0912 345 678", "VN"),
        ("0912.345.678", "VN"),
    ]),
    ("TH", "bank_account", "TH:004:1234567890", [
        ("TH:004:1234567890", None), ("th:004:123-4-56789-0", None),
        ("TH:KBANK:123-4-56789-0", None), ("TH:kbank:123 4 56789 0", None),
        ("KASITHBK:1234567890", None), ("KASITHBKXXX:1234567890", None),
        ("TH:KASITHBK:1234567890", None), ("KBANK:123-4-56789-0", "TH"),
    ]),
    ("CN", "bank_account", "CN:102:6222021234567890128", [
        ("CN:102:6222021234567890128", None), ("CN:ICBC:6222 0212 3456 7890 128", None),
        ("ICBKCNBJ:6222-0212-3456-7890-128", None), ("cn:中国工商银行:6222021234567890128", None),
        ("icbc:6222021234567890128", "CN"),
    ]),
    ("KH", "bank_account", "KH:ABA:000123456", [
        ("KH:ABA:000 123 456", None), ("ABAAKHPP:000-123-456", None),
        ("KH:aba bank:000123456", None), ("ABA:000.123.456", "KH"),
    ]),
    ("LA", "bank_account", "LA:BCEL:0100000123456789", [
        ("LA:BCEL:010-00-00-123456789", None), ("COEBLALA:0100000123456789", None),
        ("la:coeblalaxxx:0100 0001 2345 6789", None), ("BCEL:0100000123456789", "LA"),
    ]),
    ("MM", "bank_account", "MM:KBZ:02730102700123456", [
        ("MM:KBZ:0273 0102 7001 2345 6", None), ("KBZBMMMY:02730102700123456", None),
        ("MM:Kanbawza:02730102700123456", None), ("kbz:027-301-027-001-234-56", "MM"),
    ]),
    ("VN", "bank_account", "VN:970436:0071000123456", [
        ("VN:970436:0071000123456", None), ("VN:VCB:007 100 012 3456", None),
        ("VN:Vietcombank:0071000123456", None), ("BFTVVNVX:0071000123456", None),
        ("vcb:0071000123456", "VN"),
    ]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("country", "kind", "value", "spellings"), TABLE, ids=[f"{r[0]}-{r[1]}" for r in TABLE]
)
def test_spellings_give_one_identifier(
    country: str, kind: str, value: str, spellings: list[tuple[str, str | None]]
) -> None:
    got = {parse(kind, raw, region=region).value for raw, region in spellings}
    assert got == {value}


def test_the_table_covers_the_six_countries_for_phones_and_accounts() -> None:
    covered = {(country, kind) for country, kind, _, _ in TABLE}
    for country in ("CN", "KH", "LA", "MM", "TH", "VN"):
        assert (country, "phone") in covered
        assert (country, "bank_account") in covered
