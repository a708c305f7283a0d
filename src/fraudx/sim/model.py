"""The simulator's parameters, in one place, with the real figures they were set from.

Pure Python and numpy: no I/O. ``docs/simulator.md`` explains each parameter at length;
keep the two together when a figure changes.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import numpy as np

#: The Lancang-Mekong countries that signed the Kunming agreement (November 2025).
DEFAULT_COUNTRIES: tuple[str, ...] = ("CN", "KH", "LA", "MM", "TH", "VN")


class Scale(StrEnum):
    SMALL = "small"
    #: What ``fraudx demo`` loads: fraud enriched further, so that a demo node holds a
    #: few thousand known indicators after seconds of generation.
    DEMO = "demo"
    MEDIUM = "medium"
    LARGE = "large"


@dataclass(frozen=True, slots=True)
class Size:
    """How many rows of each kind a scale produces (across all countries)."""

    people: int
    transfers: int
    calls: int
    compounds_per_hotspot: int


SIZES: dict[Scale, Size] = {
    Scale.SMALL: Size(people=3_000, transfers=20_000, calls=20_000, compounds_per_hotspot=1),
    Scale.DEMO: Size(people=40_000, transfers=700_000, calls=150_000, compounds_per_hotspot=2),
    Scale.MEDIUM: Size(
        people=200_000, transfers=1_000_000, calls=1_000_000, compounds_per_hotspot=2
    ),
    Scale.LARGE: Size(
        people=2_000_000, transfers=20_000_000, calls=20_000_000, compounds_per_hotspot=4
    ),
}

#: Rows per streamed chunk. Fixed for every scale so that the chunking never changes what
#: a seed produces; it bounds memory (a chunk of transfers is ~60 MB in Arrow).
CHUNK_ROWS = 250_000

#: ISO 4217 currency, its minor-unit exponent and minor units per US cent (fixed rates of
#: November 2025, rounded; the simulator uses them both ways so money is conserved).
CURRENCIES: dict[str, tuple[str, int, float]] = {
    "CN": ("CNY", 2, 7.10),
    "KH": ("USD", 2, 1.0),  # Cambodia's banking is largely dollarised (NBC: ~80 % of deposits)
    "LA": ("LAK", 2, 21_800.0),
    "MM": ("MMK", 2, 2_100.0),
    "TH": ("THB", 2, 32.5),
    "VN": ("VND", 0, 263.0),
    "SG": ("SGD", 2, 1.30),
    "MY": ("MYR", 2, 4.20),
    "ID": ("IDR", 2, 16_600.0),
    "PH": ("PHP", 2, 58.5),
    "IN": ("INR", 2, 88.5),
    "JP": ("JPY", 0, 1.55),
    "KR": ("KRW", 0, 14.6),
    "GB": ("GBP", 2, 0.76),
}
USDT_MINOR_PER_CENT = 10_000  # USDT has 6 decimals on TRON and Ethereum


def currency_of(country: str) -> tuple[str, int, float]:
    """(currency, exponent, minor units per US cent) of a country's bank accounts."""
    return CURRENCIES.get(country, ("USD", 2, 1.0))


#: Relative weight of each country among victims (China's MPS and Thailand's police report
#: the largest victim numbers; UNODC 2024 names victims across the region and beyond).
VICTIM_WEIGHT: dict[str, float] = {
    "CN": 0.35,
    "TH": 0.25,
    "VN": 0.18,
    "KH": 0.08,
    "MM": 0.06,
    "LA": 0.04,
}
DEFAULT_VICTIM_WEIGHT = 0.05

#: Median monthly pay in US cents (ILO / national statistics, rounded), for salaries.
MONTHLY_PAY_CENTS: dict[str, int] = {
    "CN": 110_000,
    "TH": 50_000,
    "VN": 32_000,
    "KH": 28_000,
    "LA": 15_000,
    "MM": 14_000,
}
DEFAULT_MONTHLY_PAY_CENTS = 60_000


@dataclass(frozen=True, slots=True)
class Parameters:
    """Every knob of the simulated region. Defaults and their sources: docs/simulator.md."""

    # Time window (UTC, fixed so that a seed always gives the same data).
    start: datetime = datetime(2026, 5, 1, tzinfo=UTC)
    days: int = 90

    # Ordinary banking.
    accounts_per_person: tuple[float, float, float] = (0.15, 0.60, 0.25)  # P(0), P(1), P(2)
    kind_mix: tuple[tuple[str, float], ...] = (
        ("shopping", 0.52),
        ("bill", 0.20),
        ("salary", 0.13),
        ("remittance", 0.15),
    )
    #: Share of remittances that cross a border (migrant workers sending money home; the
    #: World Bank counts ~5 M Myanmar, Cambodian and Lao workers in Thailand).
    remittance_cross_border: float = 0.40

    # Fraud volume and shape.
    #: Share of all transfers that belong to a fraud trail. Real rates are far lower
    #: (well under 0.1 %); the simulator enriches fraud so that detection can be measured.
    fraud_transfer_share: float = 0.02
    fraud_share_bounds: tuple[float, float] = (0.012, 0.03)
    #: Loss per payment, US cents, log-normal (median ~ USD 900; UNODC 2024 and Thai
    #: police figures put the average loss per case between USD 1,000 and 10,000).
    payment_median_cents: int = 90_000
    payment_sigma: float = 1.1
    layers: tuple[int, int] = (2, 5)
    fan_out: tuple[int, int] = (2, 4)
    #: Share of layering hops that cross a border (fraud trails), and its test bounds.
    cross_border_share: float = 0.30
    cross_border_bounds: tuple[float, float] = (0.18, 0.45)
    #: A first-layer mule keeps this share of what passes through (declared "commission").
    mule_commission: float = 0.03
    #: Delay between hops, minutes, log-normal: minutes to days (median ~ 40 min).
    hop_delay_median_min: float = 40.0
    hop_delay_sigma: float = 1.6
    cashout_to_wallet: float = 0.70  # the rest leaves to cash-out bank accounts abroad

    # Victims' reports to police.
    report_rate: float = 0.30  # most victims never report (UNODC 2024: "vastly under-reported")
    report_delay_median_h: float = 36.0
    report_delay_sigma: float = 1.5

    # Telecom.
    sims_per_person: tuple[float, ...] = (0.05, 0.55, 0.28, 0.09, 0.03)  # P(0..3), P(4-9)
    sms_share: float = 0.15
    international_call_share: float = 0.04
    #: Share of call records made by scam operations (call centres and SIM boxes).
    scam_call_share: float = 0.05
    #: SIMs per SIM box (at the small scale fewer, so that boxes do not swamp the region).
    #: Nominees holding those SIMs get dozens to hundreds each, as Thailand found 7,664
    #: people registered with more than 100 SIMs.
    sim_box_slots: tuple[int, int] = (32, 256)

    # What police know besides victims' reports (intelligence, seizures).
    known_compound_ip_share: float = 0.5
    known_wallet_share: float = 0.4
    known_sim_box_share: float = 0.5

    countries: tuple[str, ...] = field(default=DEFAULT_COUNTRIES)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["start"] = self.start.isoformat()
        return data


def parameters_for(scale: Scale, countries: tuple[str, ...]) -> Parameters:
    """The parameters of a scale: the defaults, except the demo's enriched fraud."""
    if scale is Scale.DEMO:
        return Parameters(
            countries=countries,
            fraud_transfer_share=0.10,
            fraud_share_bounds=(0.06, 0.14),
            report_rate=0.7,
        )
    return Parameters(countries=countries)


def rng(seed: int, *stream: str | int) -> np.random.Generator:
    """A generator for one named stream (and chunk) derived from the master seed.

    Every table, country and chunk has its own stream, so that chunking or the order of
    generation never changes what another stream draws.
    """
    digest = hashlib.sha256(repr((seed, *stream)).encode()).digest()
    return np.random.default_rng(np.frombuffer(digest, dtype=np.uint32))


def utc_offset_seconds(country: str) -> int:
    """The country's standard offset from UTC (the region keeps no daylight saving time)."""
    from zoneinfo import ZoneInfo

    from fraudx.platform.geo import default_timezone

    zone = default_timezone(country)
    if zone is None:
        return 0
    offset = datetime(2026, 5, 1, tzinfo=ZoneInfo(zone)).utcoffset()
    return int(offset.total_seconds()) if offset else 0


#: Relative activity per local hour of day, for people's transfers and calls.
DIURNAL: tuple[float, ...] = (
    0.2, 0.1, 0.05, 0.05, 0.1, 0.3, 0.8, 1.5, 2.2, 2.6, 2.8, 2.9,
    3.0, 2.9, 2.7, 2.6, 2.6, 2.8, 3.1, 3.3, 3.0, 2.4, 1.4, 0.6,
)  # fmt: skip
