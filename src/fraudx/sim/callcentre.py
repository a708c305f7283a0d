"""Scam call centres: many short outbound calls to many distinct numbers, few incoming,
in the working hours of the victims' country; through SIM boxes, the calls look local."""

from __future__ import annotations

import numpy as np

from fraudx.sim.compounds import Compound
from fraudx.sim.model import (
    DEFAULT_VICTIM_WEIGHT,
    VICTIM_WEIGHT,
    Parameters,
    rng,
    utc_offset_seconds,
)
from fraudx.sim.telecom import Phonebook
from fraudx.sim.timing import working_hours

#: Share of a compound's calls by the SIMs they use.
USE_SHARE = {"sim_box": 0.5, "cross_border": 0.3, "international": 0.2}
#: Share of a call centre's records that are victims calling back.
CALLBACK_SHARE = 0.03


def scam_calls(
    book: Phonebook,
    compounds: list[Compound],
    params: Parameters,
    total: int,
    start: int,
    end: int,
    sim_country: np.ndarray,
) -> dict[str, np.ndarray]:
    """``total`` call records made by the compounds' SIMs, as columns of sim indices."""
    targets = [c for c in book.ordinary if book.ordinary[c][1] > 0]
    weights = np.array([VICTIM_WEIGHT.get(c, DEFAULT_VICTIM_WEIGHT) for c in targets])
    parts: list[dict[str, np.ndarray]] = []
    groups = [(comp, use) for comp in compounds for use in USE_SHARE if comp.sims.get(use)]
    if not groups or not targets:
        return _empty()
    share = np.array([USE_SHARE[use] for _, use in groups])
    counts = np.floor(share / share.sum() * total).astype(np.int64)
    counts[: total - int(counts.sum())] += 1
    for (comp, use), n in zip(groups, counts, strict=True):
        if n == 0:
            continue
        gen = rng(book.seed, "scam-calls", comp.compound_id, use)
        sims = np.array(comp.sims[use], dtype=np.int64)
        caller = sims[gen.integers(0, len(sims), n)]
        if use == "international":
            country = gen.choice(len(targets), size=n, p=weights / weights.sum())
        else:
            home = {c: i for i, c in enumerate(targets)}
            country = np.array([home.get(str(sim_country[s]), 0) for s in caller])
        first = np.array([book.ordinary[c][0] for c in targets])[country]
        count = np.array([book.ordinary[c][1] for c in targets])[country]
        callee = first + (gen.random(n) * count).astype(np.int64)
        ts = np.empty(n, dtype=np.int64)
        for i, c in enumerate(targets):
            rows = np.flatnonzero(country == i)
            ts[rows] = working_hours(gen, start, end, utc_offset_seconds(c), len(rows))
        answered = gen.random(n) < 0.35
        duration = np.where(answered, gen.integers(30, 400, n), gen.integers(0, 20, n))
        service = (gen.random(n) < 0.10).astype(np.int8)
        duration = np.where(service == 1, 0, duration)
        back = gen.random(n) < CALLBACK_SHARE  # a victim calling the number back
        caller, callee = np.where(back, callee, caller), np.where(back, caller, callee)
        service = np.where(back, 0, service).astype(np.int8)
        parts.append(
            {
                "ts": ts,
                "caller": caller,
                "callee": callee,
                "service": service,
                "duration": duration.astype(np.int32),
            }
        )
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]} if parts else _empty()


def _empty() -> dict[str, np.ndarray]:
    return {
        "ts": np.empty(0, np.int64),
        "caller": np.empty(0, np.int64),
        "callee": np.empty(0, np.int64),
        "service": np.empty(0, np.int8),
        "duration": np.empty(0, np.int32),
    }
