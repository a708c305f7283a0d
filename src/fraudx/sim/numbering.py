"""Numbering plans: mobile numbers, IMSIs and IMEIs that are valid by the real rules.

Mobile number blocks and their operators come from libphonenumber's own carrier table
(the ``phonenumbers`` package), kept only where the block lies wholly inside the
country's mobile numbering pattern; every generated number is then checked against that
pattern again, so every number is valid by ``phonenumbers.is_valid_number``.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import cache

import numpy as np
import phonenumbers
from phonenumbers import carrierdata

# Mobile country codes (ITU-T E.212) and mobile network codes of the region's operators,
# keyed by the operator names libphonenumber uses.
MCC: dict[str, str] = {"CN": "460", "KH": "456", "LA": "457", "MM": "414", "TH": "520", "VN": "452"}
MNC: dict[str, str] = {
    "China Mobile": "00",
    "China Unicom": "01",
    "China Telecom": "11",
    "China Broadnet": "15",
    "AIS": "03",
    "True Move": "04",
    "DTAC": "05",
    "TOT Mobile": "15",
    "Penguin SIM": "47",
    "MobiFone": "01",
    "Vinaphone": "02",
    "Viettel": "04",
    "Vietnamobile": "05",
    "G-Mobile": "07",
    "Indochina Telecom": "08",
    "Reddi": "09",
    "Cellcard": "01",
    "Telecom Cambodia": "02",
    "qbmore/Cadcomms": "04",
    "Smart": "06",
    "Metfone": "08",
    "Seatel": "11",
    "Lao Telecom": "01",
    "ETL": "02",
    "Unitel": "03",
    "Best Telecom": "08",
    "MPT": "01",
    "Telenor": "05",
    "Ooredoo": "06",
    "Mytel": "09",
}

#: Handset models by type allocation code prefix (reporting body 35 = BABT, 86 = TAF).
HANDSET_MODELS: tuple[tuple[str, str], ...] = (
    ("Samsung Galaxy A15", "35"),
    ("Samsung Galaxy A05s", "35"),
    ("Apple iPhone 13", "35"),
    ("Apple iPhone 15", "35"),
    ("Xiaomi Redmi 13C", "86"),
    ("OPPO A58", "86"),
    ("vivo Y17s", "86"),
    ("realme C53", "86"),
    ("Huawei nova 11i", "86"),
    ("TECNO Spark 20", "35"),
)
#: SIM boxes seized in the region's raids are typically multi-slot GSM gateways.
SIM_BOX_MODELS: tuple[tuple[str, str], ...] = (
    ("GSM gateway 16-port", "86"),
    ("GSM gateway 32-port", "86"),
    ("SIM bank 128-slot", "86"),
)


@dataclass(frozen=True, slots=True)
class Block:
    """A range of mobile numbers: national prefix, national length, operator."""

    prefix: str
    length: int
    operator: str


@dataclass(frozen=True, slots=True)
class MobilePlan:
    country: str
    calling_code: int
    blocks: tuple[Block, ...]
    weights: np.ndarray
    pattern: re.Pattern[str]

    @property
    def operators(self) -> list[str]:
        return sorted({b.operator for b in self.blocks})


def _patterns(country: str) -> tuple[re.Pattern[str], re.Pattern[str], tuple[int, ...]]:
    md = phonenumbers.PhoneMetadata.metadata_for_region(country)
    if md is None or md.mobile is None or not md.mobile.national_number_pattern:
        raise ValueError(f"no mobile numbering plan for {country}")
    mobile = re.compile(str(md.mobile.national_number_pattern))
    general_desc = md.general_desc
    general = re.compile(str(general_desc.national_number_pattern if general_desc else ".*"))
    return mobile, general, tuple(md.mobile.possible_length or ())


@cache
def mobile_plan(country: str) -> MobilePlan:
    """The country's mobile number blocks; raises ValueError for a country without one."""
    mobile, general, lengths = _patterns(country)
    code = phonenumbers.country_code_for_region(country)
    cc = str(code)

    def valid(national: str) -> bool:
        return bool(mobile.fullmatch(national) and general.fullmatch(national))

    entries = {
        key[len(cc) :]: names.get("en", "")
        for key, names in carrierdata.CARRIER_DATA.items()
        if key.startswith(cc) and len(key) > len(cc)
    }
    probe = random.Random(0)  # fixed: the plan depends only on the phonenumbers release
    blocks: list[Block] = []
    for prefix, operator in sorted(entries.items()):
        inner = [q for q in entries if q != prefix and q.startswith(prefix)]
        if not operator or any(entries[q] != operator for q in inner):
            continue  # a nested block of another operator: skip for an unambiguous operator
        for length in lengths:
            rest = length - len(prefix)
            if rest < 3:
                continue
            samples = [prefix + f"{probe.randrange(10**rest):0{rest}d}" for _ in range(24)]
            if all(valid(s) for s in samples):
                blocks.append(Block(prefix, length, operator))
                break
    if not blocks:  # no carrier table: one block around the example number
        md = phonenumbers.PhoneMetadata.metadata_for_region(country)
        example = md.mobile.example_number if md and md.mobile else None
        if not example:
            raise ValueError(f"no mobile numbering plan for {country}")
        blocks.append(Block(example[:3], len(example), f"{country} mobile"))
    capacity = np.array([10.0 ** (b.length - len(b.prefix)) for b in blocks])
    weights = np.sqrt(capacity)  # damp the largest blocks: operators are more even
    return MobilePlan(country, code, tuple(blocks), weights / weights.sum(), mobile)


def mobile_numbers(
    plan: MobilePlan, gen: np.random.Generator, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` distinct valid mobile numbers (E.164) and the index of each one's block."""
    numbers = np.empty(0, dtype=object)
    blocks = np.empty(0, dtype=np.int64)
    _, general_re, _ = _patterns(plan.country)
    while len(numbers) < n:
        want = int((n - len(numbers)) * 1.1) + 8
        pick = gen.choice(len(plan.blocks), size=want, p=plan.weights)
        draws = gen.integers(0, 10**9, size=(want, 2))
        cand = np.empty(want, dtype=object)
        for i in range(want):
            b = plan.blocks[pick[i]]
            rest = b.length - len(b.prefix)
            tail = f"{int(draws[i, 0]) * 10**9 + int(draws[i, 1]):018d}"[-rest:]
            cand[i] = b.prefix + tail
        ok = np.fromiter(
            (bool(plan.pattern.fullmatch(s) and general_re.fullmatch(s)) for s in cand),
            dtype=bool,
            count=want,
        )
        numbers = np.concatenate([numbers, cand[ok]])
        blocks = np.concatenate([blocks, pick[ok]])
        _, first = np.unique(numbers.astype(str), return_index=True)
        first.sort()
        numbers, blocks = numbers[first], blocks[first]
    prefix = f"+{plan.calling_code}"
    e164 = np.array([prefix + s for s in numbers[:n]], dtype=object)
    return e164, blocks[:n]


def luhn_complete(body: np.ndarray) -> np.ndarray:
    """Append the Luhn check digit to each row of 14 digits; returns N x 15 digits."""
    digits = body.astype(np.int64)
    doubled = digits.copy()
    doubled[:, 1::2] *= 2
    doubled = np.where(doubled > 9, doubled - 9, doubled)
    check = (10 - doubled.sum(axis=1) % 10) % 10
    return np.column_stack([digits, check])


def imeis(gen: np.random.Generator, rbi: np.ndarray) -> np.ndarray:
    """IMEIs (15 digits, Luhn) whose TAC starts with the given reporting body ids."""
    n = len(rbi)
    rb = np.array([[int(s[0]), int(s[1])] for s in rbi], dtype=np.int64).reshape(n, 2)
    body = np.column_stack([rb, gen.integers(0, 10, (n, 12))])
    full = luhn_complete(body)
    raw = (full.astype(np.uint8) + ord("0")).tobytes()
    return np.frombuffer(raw, dtype="S15").astype("U15")


def imsis(gen: np.random.Generator, country: str, operators: np.ndarray) -> np.ndarray:
    """IMSIs (MCC, MNC, 10-digit MSIN); empty where the country's MCC is not tabled."""
    mcc = MCC.get(country)
    n = len(operators)
    if mcc is None:
        return np.full(n, "", dtype=object)
    msin = gen.integers(0, 10**10, n)
    return np.array(
        [f"{mcc}{MNC.get(op, '99')}{m:010d}" for op, m in zip(operators, msin, strict=True)],
        dtype=object,
    )
