"""Bank accounts in each bank's real format, and the ordinary transfers between them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from fraudx.sim.banks import CARD_LENGTH, AccountFormat, banks_of
from fraudx.sim.model import (
    DEFAULT_MONTHLY_PAY_CENTS,
    MONTHLY_PAY_CENTS,
    Parameters,
    currency_of,
    rng,
    utc_offset_seconds,
)
from fraudx.sim.timing import diurnal_times

ACCOUNT_SCHEMA = pa.schema(
    [
        ("account", pa.string()),
        ("country", pa.string()),
        ("bank_code", pa.string()),
        ("currency", pa.string()),
        ("holder_kind", pa.string()),  # person, merchant, employer, biller, company
        ("holder_id", pa.int64()),  # person_id for people, a business number otherwise
    ]
)

TRANSFER_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("trail_id", pa.string()),
        ("ts", pa.timestamp("s", tz="UTC")),
        ("from_account", pa.string()),
        ("to_account", pa.string()),
        ("from_country", pa.string()),
        ("to_country", pa.string()),
        ("amount", pa.int64()),
        ("currency", pa.string()),
        ("kind", pa.string()),
        ("value_usd_cents", pa.int64()),
    ]
)

BUSINESS_KINDS = ("merchant", "employer", "biller")
#: Where migrant workers send money home (ILO, World Bank migration corridors).
CORRIDORS = {
    ("TH", "MM"): 6.0,
    ("TH", "KH"): 4.0,
    ("TH", "LA"): 3.0,
    ("MY", "MM"): 2.0,
    ("CN", "VN"): 1.5,
    ("CN", "MM"): 1.5,
    ("KH", "VN"): 1.5,
    ("VN", "KH"): 1.0,
}
#: Median value of an ordinary transfer, US cents, and the log-normal spread.
MEDIANS = {"shopping": (1_500, 1.0), "bill": (3_000, 0.6), "remittance": (15_000, 0.8)}


def _digits_text(digits: np.ndarray) -> np.ndarray:
    raw = (digits.astype(np.uint8) + ord("0")).tobytes()
    return np.frombuffer(raw, dtype=f"S{digits.shape[1]}").astype(str)


def luhn_digit(body: np.ndarray) -> np.ndarray:
    """The Luhn check digit of each row of digits (the check digit goes after the row)."""
    digits = body.astype(np.int64)
    length = digits.shape[1]
    doubled = digits.copy()
    doubled[:, (length - 1) % 2 :: 2] *= 2
    doubled = np.where(doubled > 9, doubled - 9, doubled)
    result: np.ndarray = (10 - doubled.sum(axis=1) % 10) % 10
    return result


def _candidates(gen: np.random.Generator, fmt: AccountFormat, m: int) -> list[str]:
    bank = fmt.bank
    prefix = f"{bank.country}:{bank.code}:"
    if fmt.card_bins:
        bins = np.array(fmt.card_bins)[gen.integers(0, len(fmt.card_bins), m)]
        out: list[str] = []
        for width in sorted({len(b) for b in fmt.card_bins}):
            rows = np.flatnonzero(np.char.str_len(bins) == width)
            head = np.array([[int(c) for c in b] for b in bins[rows]], dtype=np.int64)
            head = head.reshape(len(rows), width)
            body = np.column_stack(
                [head, gen.integers(0, 10, (len(rows), CARD_LENGTH - 1 - width))]
            )
            full = np.column_stack([body, luhn_digit(body)])
            out.extend(prefix + s for s in _digits_text(full))
        return out
    lengths = np.array(fmt.lengths)[gen.integers(0, len(fmt.lengths), m)]
    digits = gen.integers(0, 10, (m, max(fmt.lengths)))
    digits[:, 0] = gen.integers(1, 4, m)  # no leading zero, and never read as a card number
    return [prefix + s[:k] for s, k in zip(_digits_text(digits), lengths, strict=True)]


def account_numbers(gen: np.random.Generator, fmt: AccountFormat, n: int) -> np.ndarray:
    """``n`` distinct canonical accounts ``CC:BANK:NUMBER`` at one bank."""
    out = np.empty(0, dtype=object)
    while len(out) < n:
        cand = np.array(_candidates(gen, fmt, n - len(out) + 8), dtype=object)
        out = np.concatenate([out, cand])
        _, first = np.unique(out.astype(str), return_index=True)
        first.sort()
        out = out[first]
    return out[:n]


@dataclass
class AccountBook:
    """Every bank account of the region, with the segments ordinary transfers draw from."""

    seed: int
    accounts: list[pa.Table] = field(default_factory=list)
    values: list[np.ndarray] = field(default_factory=list)
    #: (country, holder kind) -> (first index, count) into the concatenated accounts.
    segments: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    size: int = 0
    holder_ids: list[np.ndarray] = field(default_factory=list)
    _next_business: int = 1

    def open(
        self,
        country: str,
        holder_kind: str,
        holder_ids: np.ndarray,
        stream: str,
        *,
        segment: bool = True,
    ) -> np.ndarray:
        """Open one account per holder at the country's banks (bigger banks get more)."""
        banks = banks_of(country)
        n = len(holder_ids)
        if not banks or n == 0:
            return np.empty(0, dtype=object)
        gen = rng(self.seed, "accounts", stream, country, holder_kind)
        weights = 1.0 / np.arange(1, len(banks) + 1)
        pick = gen.choice(len(banks), size=n, p=weights / weights.sum())
        values = np.empty(n, dtype=object)
        bank_codes = np.empty(n, dtype=object)
        for b, bank in enumerate(banks):
            rows = np.flatnonzero(pick == b)
            values[rows] = account_numbers(gen, bank, len(rows))
            bank_codes[rows] = bank.bank.code
        currency = currency_of(country)[0]
        self.accounts.append(
            pa.table(
                {
                    "account": pa.array(values, pa.string()),
                    "country": pa.array([country] * n, pa.string()),
                    "bank_code": pa.array(bank_codes, pa.string()),
                    "currency": pa.array([currency] * n, pa.string()),
                    "holder_kind": pa.array([holder_kind] * n, pa.string()),
                    "holder_id": pa.array(holder_ids.astype(np.int64)),
                },
                schema=ACCOUNT_SCHEMA,
            )
        )
        if segment:  # ordinary transfers draw from this segment
            self.segments[(country, holder_kind)] = (self.size, n)
        self.values.append(values)
        self.holder_ids.append(holder_ids.astype(np.int64))
        self.size += n
        return values

    def businesses(self, n: int) -> np.ndarray:
        ids = np.arange(self._next_business, self._next_business + n, dtype=np.int64)
        self._next_business += n
        return ids

    def table(self) -> pa.Table:
        return pa.concat_tables(self.accounts) if self.accounts else ACCOUNT_SCHEMA.empty_table()

    def all_values(self) -> pa.Array:
        return pa.array(np.concatenate(self.values) if self.values else [], pa.string())

    def all_holders(self) -> np.ndarray:
        return np.concatenate(self.holder_ids) if self.holder_ids else np.empty(0, np.int64)


def open_ordinary_accounts(
    book: AccountBook, params: Parameters, people: dict[str, np.ndarray]
) -> None:
    """People's accounts (0-2 each) and the merchants, employers and billers they pay."""
    for country in params.countries:
        ids = people[country]
        gen = rng(book.seed, "holders", country)
        count = gen.choice(3, size=len(ids), p=params.accounts_per_person)
        holders = np.concatenate([ids[count >= 1], ids[count >= 2]])
        book.open(country, "person", np.sort(holders), "people")
        n = len(ids)
        for kind, per in (("merchant", 40), ("employer", 150), ("biller", 2_000)):
            book.open(country, kind, book.businesses(max(3, n // per)), "business")


@dataclass(frozen=True, slots=True)
class Region:
    """What ordinary transfer chunks draw from, computed once."""

    countries: list[str]
    weights: np.ndarray  # share of person accounts per country
    offsets: np.ndarray  # UTC offset per country, seconds
    currency: list[str]
    rate: np.ndarray  # minor units per US cent
    pay: np.ndarray  # median monthly pay per country, cents
    starts: dict[str, np.ndarray]  # holder kind -> first account index per country
    counts: dict[str, np.ndarray]
    corridor: np.ndarray  # remittance destination weights, country x country


def region_of(book: AccountBook, params: Parameters) -> Region:
    countries = [c for c in params.countries if book.segments.get((c, "person"), (0, 0))[1] > 0]
    kinds = ("person", *BUSINESS_KINDS)
    starts = {k: np.array([book.segments[(c, k)][0] for c in countries]) for k in kinds}
    counts = {k: np.array([book.segments[(c, k)][1] for c in countries]) for k in kinds}
    share = counts["person"] / counts["person"].sum()
    corridor = np.zeros((len(countries), len(countries)))
    for i, a in enumerate(countries):
        for j, b in enumerate(countries):
            if i != j:
                corridor[i, j] = share[j] * CORRIDORS.get((a, b), 1.0)
        total = corridor[i].sum()
        corridor[i] = corridor[i] / total if total else corridor[i]
    return Region(
        countries=countries,
        weights=share,
        offsets=np.array([utc_offset_seconds(c) for c in countries]),
        currency=[currency_of(c)[0] for c in countries],
        rate=np.array([currency_of(c)[2] for c in countries]),
        pay=np.array([MONTHLY_PAY_CENTS.get(c, DEFAULT_MONTHLY_PAY_CENTS) for c in countries]),
        starts=starts,
        counts=counts,
        corridor=corridor,
    )


def _pick(region: Region, kind: str, country: np.ndarray, u: np.ndarray) -> np.ndarray:
    picked: np.ndarray = region.starts[kind][country] + (u * region.counts[kind][country]).astype(
        np.int64
    )
    return picked


def ordinary_transfers(
    region: Region, params: Parameters, seed: int, chunk: int, n: int, t0: int, t1: int
) -> dict[str, np.ndarray]:
    """One chunk of ordinary transfers as columns (account indices, not yet strings)."""
    gen = rng(seed, "transfers", chunk)
    kinds = [k for k, _ in params.kind_mix]
    mix = np.array([w for _, w in params.kind_mix])
    kind = gen.choice(len(kinds), size=n, p=mix / mix.sum())
    src_c = gen.choice(len(region.countries), size=n, p=region.weights)
    dst_c = src_c.copy()
    u1, u2 = gen.random(n), gen.random(n)
    src = _pick(region, "person", src_c, u1)
    dst = np.empty(n, dtype=np.int64)
    value = np.empty(n, dtype=np.float64)
    for k, name in enumerate(kinds):
        rows = np.flatnonzero(kind == k)
        c = src_c[rows]
        if name == "salary":
            src[rows] = _pick(region, "employer", c, u1[rows])
            dst[rows] = _pick(region, "person", c, u2[rows])
            value[rows] = region.pay[c] * gen.lognormal(0.0, 0.5, len(rows))
            continue
        median, sigma = MEDIANS[name]
        value[rows] = median * gen.lognormal(0.0, sigma, len(rows))
        if name == "remittance" and len(region.countries) > 1:
            cross = gen.random(len(rows)) < params.remittance_cross_border
            for ci in range(len(region.countries)):
                sel = rows[cross & (c == ci)]
                dst_c[sel] = gen.choice(len(region.countries), size=len(sel), p=region.corridor[ci])
            dst[rows] = _pick(region, "person", dst_c[rows], u2[rows])
        else:
            target = (
                "merchant" if name == "shopping" else ("biller" if name == "bill" else "person")
            )
            dst[rows] = _pick(region, target, c, u2[rows])
    value_cents = np.maximum(1, np.rint(value)).astype(np.int64)
    return {
        "ts": diurnal_times(gen, t0, t1, region.offsets[src_c]),
        "src": src,
        "dst": dst,
        "src_c": src_c,
        "dst_c": dst_c,
        "amount": np.maximum(1, np.rint(value_cents * region.rate[src_c])).astype(np.int64),
        "kind": kind,
        "value": value_cents,
    }
