"""The banks the simulator opens accounts at: FraudX's bank directory.

Where the directory gives a bank's account number lengths, they are used. Where it does
not, the simulator uses the shape common in that country: Chinese banks' accounts are
UnionPay debit card numbers (19 digits, the bank's card BIN, Luhn check digit), as most
people in China know their account by its card; elsewhere a length seen on the banks'
own account numbers (Vietnam 12-14, Cambodia 9-13, Laos 13-15, Myanmar 13-15).
"""

from __future__ import annotations

from dataclasses import dataclass

from fraudx.identifiers import Bank, bank_directory

#: Account number lengths by country when the directory lists none for a bank. All stay
#: below 16 digits so that no account reads as a payment card number.
DEFAULT_LENGTHS: dict[str, tuple[int, ...]] = {
    "VN": (12, 13, 14),
    "KH": (9, 12, 13),
    "LA": (13, 15),
    "MM": (13, 14, 15),
}
CARD_LENGTH = 19


@dataclass(frozen=True, slots=True)
class AccountFormat:
    """How to write one bank's account numbers."""

    bank: Bank
    lengths: tuple[int, ...]
    #: Card BINs when the accounts are card numbers (Luhn), else empty.
    card_bins: tuple[str, ...] = ()


def banks_of(country: str) -> list[AccountFormat]:
    """The country's banks in directory order (largest first), with their number formats."""
    formats = []
    for bank in bank_directory().banks(country):
        if bank.account_lengths:
            formats.append(AccountFormat(bank, bank.account_lengths))
        elif country == "CN":
            bins = tuple(b for b in bank.card_bins if b.startswith("62")) or ("621",)
            formats.append(AccountFormat(bank, (CARD_LENGTH,), bins))
        else:
            formats.append(AccountFormat(bank, DEFAULT_LENGTHS.get(country, (10, 12))))
    return formats
