"""Realistic indicator files for the registry benchmarks, made once and cached.

The mix follows what the six countries' police would list: mostly phone numbers and
mule accounts, then compound IP addresses and networks, phishing URLs and domains, and
cash-out wallets. Every value is valid (checked with ``fraudx.identifiers.parse``).
"""

from __future__ import annotations

import csv
import hashlib
import os
import random
from collections.abc import Iterator
from pathlib import Path

import base58

from fraudx.identifiers import bank_directory, parse

CACHE = Path(os.environ.get("FRAUDX_BENCH_DATA", Path(__file__).parent / ".data"))
COUNTRIES = ["CN", "KH", "LA", "MM", "TH", "VN"]

# Mobile ranges: country code, leading digits, how many digits follow.
_MOBILE = {
    "TH": [("66", p, 7) for p in ("81", "82", "86", "89", "91", "95", "98")],
    "VN": [("84", p, 7) for p in ("90", "91", "93", "96", "97", "98", "86")],
    "KH": [("855", p, 6) for p in ("12", "17", "77", "78", "92", "95")],
    "LA": [("856", p, 6) for p in ("2055", "2056", "2077", "2099", "2022")],
    "MM": [("95", p, 7) for p in ("925", "926", "942", "943", "944", "979", "978")],
    "CN": [("86", p, 8) for p in ("135", "136", "138", "139", "150", "186", "188")],
}
_WORDS = [
    *("secure", "login", "verify", "bank", "refund", "parcel", "lucky"),
    *("invest", "profit", "crypto", "shop", "job", "loan"),
]
_TLDS = ["com", "net", "top", "xyz", "shop", "vip", "cc", "info"]
_CATEGORY_OF = {
    "phone": ["scam_call", "scam_sms", "scam_compound_network", "sim_box"],
    "bank_account": ["mule_account"],
    "ip": ["scam_compound_network"],
    "url": ["phishing_url"],
    "domain": ["scam_website"],
    "crypto_wallet": ["cashout_wallet"],
}
_KIND_WEIGHTS = [
    ("phone", 40),
    ("bank_account", 35),
    ("ip", 10),
    ("url", 6),
    ("domain", 5),
    ("crypto_wallet", 4),
]


def _phone(rng: random.Random, country: str) -> str:
    cc, lead, digits = rng.choice(_MOBILE[country])
    return f"+{cc}{lead}{rng.randrange(10**digits):0{digits}d}"


def _account(rng: random.Random, country: str) -> str:
    bank = rng.choice(bank_directory().banks(country))
    length = rng.choice(bank.account_lengths or (10, 12))
    return f"{country}:{bank.code}:{rng.randrange(10 ** (length - 1), 10**length)}"


def _tron(rng: random.Random) -> str:
    payload = b"\x41" + rng.randbytes(20)
    check = hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    return "tron:" + base58.b58encode(payload + check).decode()


def value_of(rng: random.Random, kind: str, country: str) -> str:
    if kind == "phone":
        return _phone(rng, country)
    if kind == "bank_account":
        return _account(rng, country)
    if kind == "ip":
        if rng.random() < 0.2:
            return f"{rng.randrange(1, 223)}.{rng.randrange(256)}.{rng.randrange(256)}.0/24"
        host = rng.randrange(1, 255)
        return f"{rng.randrange(1, 223)}.{rng.randrange(256)}.{rng.randrange(256)}.{host}"
    if kind == "url":
        host = (
            f"{rng.choice(_WORDS)}-{rng.choice(_WORDS)}{rng.randrange(10**6)}.{rng.choice(_TLDS)}"
        )
        return f"https://{host}/{rng.choice(_WORDS)}?id={rng.randrange(10**6)}"
    if kind == "domain":
        return (
            f"{rng.choice(_WORDS)}{rng.randrange(10**7)}-{rng.choice(_WORDS)}.{rng.choice(_TLDS)}"
        )
    if rng.random() < 0.7:
        return _tron(rng)
    return f"eth:0x{rng.randbytes(20).hex()}"


def rows(n: int, seed: int = 7) -> Iterator[dict[str, str]]:
    rng = random.Random(seed)
    kinds = [k for k, _ in _KIND_WEIGHTS]
    weights = [w for _, w in _KIND_WEIGHTS]
    produced = 0
    while produced < n:
        kind = rng.choices(kinds, weights)[0]
        country = rng.choice(COUNTRIES)
        value = value_of(rng, kind, country)
        try:
            value = parse(kind, value).value
        except Exception:  # a generated value the parser refuses is skipped, not listed
            continue
        produced += 1
        yield {
            "kind": kind,
            "value": value,
            "category": rng.choice(_CATEGORY_OF[kind]),
            "confidence": str(rng.randrange(40, 100)),
            "tlp": rng.choices(["GREEN", "AMBER", "AMBER+STRICT", "RED"], [20, 65, 10, 5])[0],
            "valid_until": "",
            "region": "",
            "case_ref": f"{country}-{2026}-{rng.randrange(10**5):05d}",
            "description": f"reported by victim, {rng.choice(_WORDS)} scam",
            "tags": rng.choice(["", "myawaddy", "sihanoukville", "golden-triangle", "shwe-kokko"]),
        }


def indicator_csv(n: int, seed: int = 7) -> Path:
    """A CSV file of ``n`` indicators (made once, then reused)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"indicators-{n}-{seed}.csv"
    if not path.exists():
        partial = path.with_suffix(".partial")
        with partial.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(next(rows(1, seed))))
            writer.writeheader()
            writer.writerows(rows(n, seed))
        partial.rename(path)
    return path
