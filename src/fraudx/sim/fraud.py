"""Fraud trails: a victim contacted, paying mules, money layered across borders, cashed out.

Each trail follows one victim's money. It is conserved exactly in US cents
(``value_usd_cents`` on every transfer): what a mule receives it sends on, except that a
first-layer mule keeps a declared commission (``truth/commissions``). Money never leaves
an account before it arrived there.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from fraudx.sim.banking import AccountBook
from fraudx.sim.compounds import Compound
from fraudx.sim.model import (
    DEFAULT_VICTIM_WEIGHT,
    USDT_MINOR_PER_CENT,
    VICTIM_WEIGHT,
    Parameters,
    currency_of,
    utc_offset_seconds,
)

SCAM_TYPES = (
    ("investment", 0.35, (2, 6)),  # "pig butchering": several growing payments
    ("romance", 0.15, (2, 5)),
    ("impersonation", 0.25, (1, 2)),  # police, courier or bank impersonation
    ("parcel", 0.10, (1, 1)),
    ("job", 0.15, (1, 4)),  # task scams: small payments first
)
CHANNELS = (("call", 0.55), ("sms", 0.25), ("social", 0.20))
HUB_WEIGHT = {"KH": 2.0, "MM": 2.0, "LA": 1.5, "TH": 1.0}


class CountryOfSim(Protocol):
    """sim_id -> the country of the SIM."""

    def __getitem__(self, sim: int) -> str: ...


class SimIndex:
    """person id -> the first of their own SIMs."""

    def __init__(self, holders: np.ndarray, sims: np.ndarray) -> None:
        self._holders = holders
        self._sims = sims

    def get(self, person: int) -> int | None:
        i = int(np.searchsorted(self._holders, person))
        if i < len(self._holders) and self._holders[i] == person:
            return int(self._sims[i])
        return None


@dataclass
class Victims:
    """Who can be a victim: people's accounts in each country, and their first SIM."""

    accounts: dict[str, np.ndarray]  # country -> account values
    holders: dict[str, np.ndarray]  # country -> person ids, aligned with accounts
    sim_of: SimIndex


@dataclass
class FraudWorld:
    """Everything trails produce: transfers, contacts and the truth about them."""

    transfers: list[tuple[int, str, str, str, int, str, str, int]] = field(default_factory=list)
    contacts: list[tuple[int, int, int, int, int]] = field(default_factory=list)
    trails: list[dict[str, object]] = field(default_factory=list)
    commissions: list[tuple[str, str, int]] = field(default_factory=list)
    #: (kind, value) -> role, compound, trail ids
    roles: dict[tuple[str, str], tuple[str, str, set[str]]] = field(default_factory=dict)

    def mark(self, kind: str, value: str, role: str, compound: str, trail: str) -> None:
        entry = self.roles.setdefault((kind, value), (role, compound, set()))
        entry[2].add(trail)


@dataclass
class MulePools:
    """Each compound's mule accounts per country, and its cash-out accounts."""

    mules: dict[tuple[str, str], list[str]]
    cashout: dict[str, list[str]]


def open_mule_accounts(
    book: AccountBook,
    compounds: list[Compound],
    countries: list[str],
    holders: dict[str, np.ndarray],
    per_pool: int,
) -> MulePools:
    """Mule accounts rented from (or opened in the name of) each country's mule holders."""
    mules: dict[tuple[str, str], list[str]] = {}
    cashout: dict[str, list[str]] = {}
    for country in countries:
        pool = holders.get(country)
        if pool is None or len(pool) == 0:
            continue
        for i, comp in enumerate(compounds):
            pick = pool[(np.arange(per_pool) * 7 + i * 13) % len(pool)]
            values = book.open(country, "person", pick, f"mule-{comp.compound_id}", segment=False)
            if len(values):
                mules[(comp.compound_id, country)] = [str(v) for v in values]
    for comp in compounds:
        home = [comp.country] if (comp.compound_id, comp.country) in mules else []
        for country in [*home, "KH", *countries]:
            if any(k[1] == country for k in mules):
                values = book.open(
                    country,
                    "company",
                    book.businesses(3),
                    f"cashout-{comp.compound_id}",
                    segment=False,
                )
                cashout[comp.compound_id] = [str(v) for v in values]
                break
    return MulePools(mules, cashout)


def _split(r: random.Random, value: int, k: int) -> list[int]:
    weights = [r.random() + 0.3 for _ in range(k)]
    total = sum(weights)
    parts = [max(1, int(value * w / total)) for w in weights]
    parts[0] += value - sum(parts)
    return parts if parts[0] > 0 else [value]


class TrailMaker:
    """Makes trails one victim at a time, from one seeded random stream."""

    def __init__(
        self,
        seed: int,
        params: Parameters,
        compounds: list[Compound],
        pools: MulePools,
        victims: Victims,
        start: int,
        sim_country: CountryOfSim,
    ) -> None:
        self.r = random.Random(f"{seed}:trails")
        self.p = params
        self.compounds = compounds
        self.pools = pools
        self.victims = victims
        self.start = start
        self.end = start + params.days * 86_400
        self.sim_country = sim_country
        self.world = FraudWorld()
        self.bank_countries = sorted({c for _, c in pools.mules})
        vc = [c for c in self.bank_countries if len(victims.accounts.get(c, ())) > 0]
        self.victim_countries = vc
        self.victim_weights = [VICTIM_WEIGHT.get(c, DEFAULT_VICTIM_WEIGHT) for c in vc]

    def _delay(self) -> int:
        minutes = self.p.hop_delay_median_min * math.exp(self.r.gauss(0, self.p.hop_delay_sigma))
        return int(max(60, min(minutes * 60, 3 * 86_400)))

    def _emit(self, trail: str, ts: int, src: str, dst: str, value: int, kind: str) -> None:
        if dst.startswith(("tron:", "eth:")):
            amount, currency = value * USDT_MINOR_PER_CENT, "USDT"
        else:
            _, _, rate = currency_of(src[:2])
            amount, currency = max(1, round(value * rate)), currency_of(src[:2])[0]
        self.world.transfers.append((ts, trail, src, dst, amount, currency, kind, value))

    def _mule(self, comp: Compound, country: str, used: set[str]) -> str:
        pool = self.pools.mules.get((comp.compound_id, country)) or next(
            v for (_, c), v in sorted(self.pools.mules.items()) if c == country
        )
        free = [a for a in pool if a not in used]
        choice = self.r.choice(free or pool)
        used.add(choice)
        return choice

    def _abroad(self, comp: Compound, here: str) -> str:
        options = [c for c in self.bank_countries if c != here]
        if not options:
            return here
        weights = [3.0 if c == comp.country else HUB_WEIGHT.get(c, 0.5) for c in options]
        return self.r.choices(options, weights)[0]

    def _working_time(self, t: int, country: str) -> int:
        """The next moment at or after ``t`` in the country's working hours (Mon-Sat 9-18)."""
        offset = utc_offset_seconds(country)
        local = t + offset
        day, second = divmod(local, 86_400)
        if second >= 17 * 3_600:
            day, second = day + 1, 0
        if (day + 3) % 7 == 6:  # Sunday (1970-01-01 was a Thursday)
            day, second = day + 1, 0
        second = max(second, 9 * 3_600 + self.r.randrange(3_600))
        return day * 86_400 + second - offset

    def _contact_sim(self, comp: Compound, country: str) -> int | None:
        for use in ("sim_box", "cross_border") if self.r.random() < 0.8 else ():
            sims = [s for s in comp.sims.get(use, []) if self.sim_country[s] == country]
            if sims:
                return self.r.choice(sims)
        sims = comp.sims.get("international", [])
        return self.r.choice(sims) if sims else None

    def make(self, number: int) -> int:
        """Make trail ``number``; returns how many transfers it added."""
        r, p, w = self.r, self.p, self.world
        trail = f"TR{number:07d}"
        before = len(w.transfers)
        comp = r.choice(self.compounds)
        country = r.choices(self.victim_countries, self.victim_weights)[0]
        pick = r.randrange(len(self.victims.accounts[country]))
        victim_acct = str(self.victims.accounts[country][pick])
        victim = int(self.victims.holders[country][pick])
        scam, _, (lo, hi) = r.choices(SCAM_TYPES, [s[1] for s in SCAM_TYPES])[0]
        channel = r.choices([c for c, _ in CHANNELS], [q for _, q in CHANNELS])[0]
        t = self._working_time(self.start + r.randrange(0, max(1, p.days - 20) * 86_400), country)
        contact_sim = -1
        victim_sim = self.victims.sim_of.get(victim)
        caller = self._contact_sim(comp, country)
        if channel != "social" and victim_sim is not None and caller is not None:
            service = 0 if channel == "call" else 1
            duration = r.randint(120, 1_800) if service == 0 else 0
            w.contacts.append((t, caller, victim_sim, service, duration))
            contact_sim = caller
        else:
            channel = "social"
        used: set[str] = set()
        paid = commission = cashed = 0
        payments = r.randint(lo, hi)
        t += int(3_600 * math.exp(r.gauss(1.0, 1.2)))
        last_payment = t
        for _ in range(payments):
            value = max(1_000, int(p.payment_median_cents * math.exp(r.gauss(0, p.payment_sigma))))
            mule = self._mule(comp, country, used)
            self._emit(trail, t, victim_acct, mule, value, "scam_payment")
            w.mark("bank_account", mule, "mule_account_first_layer", comp.compound_id, trail)
            paid += value
            last_payment = t
            keep = int(value * p.mule_commission)
            commission += keep
            w.commissions.append((trail, mule, keep))
            cashed += self._layer(trail, comp, {mule: [value - keep, t]}, used)
            t += r.randint(6 * 3_600, 6 * 86_400)
        reported = r.random() < p.report_rate
        delay = 3_600 * p.report_delay_median_h * math.exp(r.gauss(0, p.report_delay_sigma))
        report_ts = last_payment + int(delay)
        w.trails.append(
            {
                "trail_id": trail,
                "compound_id": comp.compound_id,
                "scam_type": scam,
                "channel": channel,
                "contact_sim_id": contact_sim,
                "victim_person_id": victim,
                "victim_country": country,
                "victim_account": victim_acct,
                "paid_usd_cents": paid,
                "commission_usd_cents": commission,
                "cashed_out_usd_cents": cashed,
                "payments": payments,
                "reported": reported and report_ts < self.end,
                "report_ts": report_ts if reported and report_ts < self.end else -1,
            }
        )
        return len(w.transfers) - before

    def _layer(
        self, trail: str, comp: Compound, holdings: dict[str, list[int]], used: set[str]
    ) -> int:
        """Move holdings through the layers and cash them out; returns what was cashed out."""
        r, p, w = self.r, self.p, self.world
        for _layer in range(r.randint(*p.layers) - 1):
            nxt: dict[str, list[int]] = {}
            collectors: dict[str, str] = {}
            for acct, (value, t) in holdings.items():
                here = acct[:2]
                pattern = r.choices(("chain", "fan_out", "fan_in"), (0.45, 0.35, 0.20))[0]
                k = r.randint(*p.fan_out) if pattern == "fan_out" and len(holdings) < 8 else 1
                for part in _split(r, value, k) if value >= k else [value]:
                    there = self._abroad(comp, here) if r.random() < p.cross_border_share else here
                    if pattern == "fan_in":
                        dst = collectors.get(there) or self._mule(comp, there, used)
                        collectors[there] = dst
                    else:
                        dst = self._mule(comp, there, used)
                    ts = t + self._delay()
                    self._emit(trail, ts, acct, dst, part, "layering")
                    w.mark("bank_account", dst, "mule_account", comp.compound_id, trail)
                    slot = nxt.setdefault(dst, [0, 0])
                    slot[0] += part
                    slot[1] = max(slot[1], ts)
            holdings = nxt
        total = 0
        for acct, (value, t) in holdings.items():
            if r.random() < p.cashout_to_wallet or not self.pools.cashout.get(comp.compound_id):
                dst = r.choice(comp.wallets)
                w.mark("crypto_wallet", dst, "cashout_wallet", comp.compound_id, trail)
            else:
                dst = r.choice(self.pools.cashout[comp.compound_id])
                w.mark("bank_account", dst, "cashout_account", comp.compound_id, trail)
            self._emit(trail, t + self._delay(), acct, dst, value, "cashout")
            total += value
        return total


def make_trails(maker: TrailMaker, target_transfers: int) -> FraudWorld:
    """Trails until they hold at least ``target_transfers`` transfers."""
    count = number = 0
    while count < target_transfers:
        number += 1
        count += maker.make(number)
    return maker.world
