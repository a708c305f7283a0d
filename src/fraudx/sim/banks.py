"""The banks the simulator opens accounts at: FraudX's bank directory.

Temporary stand-in until ``fraudx.identifiers`` (bank directory) is merged: a handful
of each country's largest banks with their account number lengths.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BankInfo:
    country: str
    code: str
    name: str
    account_lengths: tuple[int, ...]


_FALLBACK: dict[str, list[BankInfo]] = {
    "TH": [
        BankInfo("TH", "002", "Bangkok Bank", (10,)),
        BankInfo("TH", "004", "Kasikornbank", (10,)),
        BankInfo("TH", "006", "Krungthai Bank", (10,)),
        BankInfo("TH", "014", "Siam Commercial Bank", (10,)),
    ],
    "CN": [
        BankInfo("CN", "102", "ICBC", (19,)),
        BankInfo("CN", "103", "Agricultural Bank of China", (19,)),
        BankInfo("CN", "104", "Bank of China", (19,)),
        BankInfo("CN", "105", "China Construction Bank", (19,)),
    ],
    "VN": [
        BankInfo("VN", "VCB", "Vietcombank", (13,)),
        BankInfo("VN", "BIDV", "BIDV", (14,)),
        BankInfo("VN", "TCB", "Techcombank", (14,)),
    ],
    "KH": [
        BankInfo("KH", "ABA", "ABA Bank", (9,)),
        BankInfo("KH", "ACLEDA", "ACLEDA Bank", (13,)),
    ],
    "LA": [
        BankInfo("LA", "BCEL", "BCEL", (16,)),
        BankInfo("LA", "LDB", "Lao Development Bank", (13,)),
    ],
    "MM": [
        BankInfo("MM", "KBZ", "KBZ Bank", (17,)),
        BankInfo("MM", "CB", "CB Bank", (16,)),
    ],
}


def banks_of(country: str) -> list[BankInfo]:
    """The country's banks, largest first (empty for a country the directory lacks)."""
    return list(_FALLBACK.get(country, []))
