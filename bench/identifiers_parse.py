"""Parse throughput of ``fraudx.identifiers.parse``, per identifier kind.

Prints one JSON line: ``{"benchmark": "identifiers_parse", "per_kind_per_second": {...}}``.
Inputs are valid, varied spellings (separators, national forms, upper case) built from a fixed
seed, so that runs compare.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Callable

import base58

from fraudx.identifiers import IdentifierKind, InvalidIdentifier, bank_directory, parse
from fraudx.identifiers.checksum import luhn_check_digit

COUNT = 20_000
rng = random.Random(20251114)


def digits(n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def phone() -> tuple[str, str | None]:
    form = rng.randrange(4)
    if form == 0:
        return f"+66 8{rng.randrange(1, 10)} {digits(3)} {digits(4)}", None
    if form == 1:
        return f"08{rng.randrange(1, 10)}-{digits(3)}-{digits(4)}", "TH"
    if form == 2:
        return f"0084 9{rng.randrange(0, 10)} {digits(3)} {digits(4)}", None
    return f"13{rng.randrange(0, 10)} {digits(4)} {digits(4)}", "CN"


BANKS = bank_directory().banks()


def bank_account() -> tuple[str, str | None]:
    bank = rng.choice(BANKS)
    length = rng.choice(bank.account_lengths or (10, 12, 13))
    token = rng.choice([bank.code, bank.bic, *bank.short_names])
    number = digits(length)
    return f"{bank.country}:{token}:{number[:3]}-{number[3:]}", None


def ip() -> tuple[str, str | None]:
    if rng.random() < 0.7:
        return ".".join(str(rng.randrange(1, 255)) for _ in range(4)), None
    return f"2001:db8:{rng.randrange(65536):x}::{rng.randrange(65536):x}/64", None


def url() -> tuple[str, str | None]:
    return f"HTTPS://Login-{rng.randrange(10**6)}.Example.COM:443/a/../pay?id={digits(5)}#x", None


def domain() -> tuple[str, str | None]:
    return f"Secure-{rng.randrange(10**6)}.Bank-Verify.COM.", None


def email() -> tuple[str, str | None]:
    return f"user{rng.randrange(10**6)}@Mail-{rng.randrange(1000)}.Example.ORG", None


def wallet() -> tuple[str, str | None]:
    payload = rng.randbytes(20)
    choice = rng.randrange(3)
    if choice == 0:
        return base58.b58encode_check(b"\x00" + payload).decode(), None
    if choice == 1:
        return "0x" + payload.hex(), None
    return base58.b58encode_check(b"\x41" + payload).decode(), None


def imei() -> tuple[str, str | None]:
    body = digits(14)
    return f"{body[:2]}-{body[2:8]}-{body[8:]}-{luhn_check_digit(body)}", None


def imsi() -> tuple[str, str | None]:
    return rng.choice(["520", "452", "460", "456", "457", "414"]) + digits(12), None


MAKERS: dict[IdentifierKind, Callable[[], tuple[str, str | None]]] = {
    IdentifierKind.PHONE: phone,
    IdentifierKind.BANK_ACCOUNT: bank_account,
    IdentifierKind.IP: ip,
    IdentifierKind.URL: url,
    IdentifierKind.DOMAIN: domain,
    IdentifierKind.EMAIL: email,
    IdentifierKind.CRYPTO_WALLET: wallet,
    IdentifierKind.IMEI: imei,
    IdentifierKind.IMSI: imsi,
}


def main() -> int:
    per_second: dict[str, int] = {}
    rejected: dict[str, int] = {}
    for kind, make in MAKERS.items():
        inputs = [make() for _ in range(COUNT)]
        bad = 0
        start = time.perf_counter()
        for raw, region in inputs:
            try:
                parse(kind, raw, region=region)
            except InvalidIdentifier:  # a random phone may be unassigned: count it
                bad += 1
        elapsed = time.perf_counter() - start
        per_second[kind.value] = round(COUNT / elapsed)
        rejected[kind.value] = bad
    print(
        json.dumps(
            {
                "benchmark": "identifiers_parse",
                "values_per_kind": COUNT,
                "per_kind_per_second": per_second,
                "rejected": rejected,
                "python": sys.version.split()[0],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
