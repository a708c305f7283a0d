"""SIM registrations, handsets and call records: people's, call centres' and SIM boxes'."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fraudx.sim.compounds import Compound
from fraudx.sim.model import Parameters, rng
from fraudx.sim.numbering import (
    HANDSET_MODELS,
    SIM_BOX_MODELS,
    imeis,
    imsis,
    mobile_numbers,
    mobile_plan,
)

SIM_SCHEMA = pa.schema(
    [
        ("sim_id", pa.int64()),
        ("msisdn", pa.string()),
        ("imsi", pa.string()),
        ("country", pa.string()),
        ("operator", pa.string()),
        ("holder_person_id", pa.int64()),
        ("registered_at", pa.timestamp("s", tz="UTC")),
        ("imei", pa.string()),
    ]
)
HANDSET_SCHEMA = pa.schema(
    [
        ("imei", pa.string()),
        ("model", pa.string()),
        ("kind", pa.string()),  # phone or sim_box
        ("country", pa.string()),
        ("cell", pa.string()),  # where it usually connects
    ]
)
CALL_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("ts", pa.timestamp("s", tz="UTC")),
        ("caller", pa.string()),
        ("callee", pa.string()),
        ("service", pa.string()),  # voice or sms
        ("duration_s", pa.int32()),
        ("caller_imei", pa.string()),
        ("cell", pa.string()),
    ]
)
SERVICES = ("voice", "sms")


@dataclass
class Phonebook:
    """Every SIM and handset of the region; indices are sim_id."""

    seed: int
    start: int  # epoch seconds of the window's start
    sims: list[pa.Table] = field(default_factory=list)
    handsets: list[pa.Table] = field(default_factory=list)
    sim_cells: list[np.ndarray] = field(default_factory=list)
    size: int = 0
    #: country -> (first sim_id, count) of ordinary people's SIMs
    ordinary: dict[str, tuple[int, int]] = field(default_factory=dict)
    _msisdn: pa.Array | None = None
    _imei: pa.Array | None = None
    _cell: pa.Array | None = None

    def register(
        self,
        country: str,
        holders: np.ndarray,
        handset_of: np.ndarray,
        models: list[tuple[str, str]],
        kind: str,
        cells: np.ndarray,
        stream: str,
    ) -> np.ndarray:
        """Register one SIM per holder; SIM i sits in handset ``handset_of[i]``.

        ``cells`` gives each handset's usual cell. Returns the new sim_ids.
        """
        n, m = len(holders), int(handset_of.max()) + 1 if len(handset_of) else 0
        gen = rng(self.seed, "sims", stream, country)
        plan = mobile_plan(country)
        numbers, block = mobile_numbers(plan, gen, n)
        operators = np.array([b.operator for b in plan.blocks], dtype=object)[block]
        model_pick = gen.integers(0, len(models), m)
        device_imei = imeis(gen, np.array([models[i][1] for i in model_pick]))
        registered = self.start - gen.integers(3_600, 5 * 365 * 86_400, n)
        ids = np.arange(self.size, self.size + n, dtype=np.int64)
        self.sims.append(
            pa.table(
                {
                    "sim_id": pa.array(ids),
                    "msisdn": pa.array(numbers, pa.string()),
                    "imsi": pa.array(imsis(gen, country, operators), pa.string()),
                    "country": pa.array([country] * n, pa.string()),
                    "operator": pa.array(operators, pa.string()),
                    "holder_person_id": pa.array(holders.astype(np.int64)),
                    "registered_at": pa.array(registered, pa.int64()).cast(SIM_SCHEMA[6].type),
                    "imei": pa.array(device_imei[handset_of], pa.string()),
                },
                schema=SIM_SCHEMA,
            )
        )
        self.handsets.append(
            pa.table(
                {
                    "imei": pa.array(device_imei, pa.string()),
                    "model": pa.array([models[i][0] for i in model_pick], pa.string()),
                    "kind": pa.array([kind] * m, pa.string()),
                    "country": pa.array([country] * m, pa.string()),
                    "cell": pa.array(cells, pa.string()),
                },
                schema=HANDSET_SCHEMA,
            )
        )
        self.sim_cells.append(cells[handset_of])
        self.size += n
        self._msisdn = None
        return ids

    def column(self, name: str) -> pa.Array:
        return pa.concat_arrays([t.column(name).combine_chunks() for t in self.sims])

    @property
    def msisdn(self) -> pa.Array:
        if self._msisdn is None:
            self._msisdn = self.column("msisdn")
            self._imei = self.column("imei")
            self._cell = pa.array(np.concatenate(self.sim_cells), pa.string())
        return self._msisdn

    @property
    def imei(self) -> pa.Array:
        _ = self.msisdn
        assert self._imei is not None
        return self._imei

    @property
    def cell(self) -> pa.Array:
        _ = self.msisdn
        assert self._cell is not None
        return self._cell


def _cells(gen: np.random.Generator, country: str, n: int, town: str | None = None) -> np.ndarray:
    place = country if town is None else f"{country}-{town.replace(' ', '')}"
    spread = 5_000 if town is None else 40
    return np.array([f"{place}-{c:04d}" for c in gen.integers(0, spread, n)], dtype=object)


def register_people(book: Phonebook, params: Parameters, people: dict[str, np.ndarray]) -> None:
    """People's own SIMs: most hold one to three, in one handset per two SIMs."""
    probs = np.array(params.sims_per_person)
    for country in params.countries:
        try:
            mobile_plan(country)
        except ValueError:
            continue
        ids = people[country]
        gen = rng(book.seed, "sim-counts", country)
        count = gen.choice(len(probs), size=len(ids), p=probs / probs.sum())
        heavy = count == len(probs) - 1
        count[heavy] = gen.integers(4, 10, int(heavy.sum()))
        holders = np.repeat(ids, count)
        rank = np.arange(len(holders)) - np.repeat(np.cumsum(count) - count, count)
        key = np.repeat(np.arange(len(ids)), count) * 8 + rank // 2  # two SIMs per handset
        _, handset_of = np.unique(key, return_inverse=True)
        handsets = int(handset_of.max()) + 1 if len(handset_of) else 0
        first = book.size
        book.register(
            country,
            holders,
            handset_of,
            list(HANDSET_MODELS),
            "phone",
            _cells(gen, country, handsets),
            "people",
        )
        book.ordinary[country] = (first, len(holders))


def equip_compounds(
    book: Phonebook,
    compounds: list[Compound],
    nominees: dict[str, np.ndarray],
    slots: tuple[int, int],
) -> None:
    """Each compound's SIMs: its own country's (international calls), SIMs of the country
    across the border (used within reach of its towers), and SIM boxes in border towns,
    all registered to nominees who each hold dozens to hundreds of SIMs."""
    r = random.Random(f"{book.seed}:equip")
    for comp in compounds:
        uses: list[tuple[str, str, str | None, int, int]] = [
            ("international", comp.country, None, r.randint(8, 30), 4)
        ]
        for country, town in comp.sim_box_towns:
            if country != comp.country:
                uses.append(("cross_border", country, town, r.randint(8, 30), 4))
            for _ in range(r.randint(1, 2)):
                uses.append(("sim_box", country, town, r.randint(*slots), 0))
        for use, country, where, n, per_handset in uses:
            pool = nominees.get(country)
            if pool is None or len(pool) == 0:
                continue
            try:
                mobile_plan(country)
            except ValueError:
                continue
            holders = _nominee_blocks(r, pool, n, 20 if use == "sim_box" else 5)
            gen = rng(book.seed, "compound-sims", comp.compound_id, use, country, len(uses))
            if use == "sim_box":
                handset_of = np.zeros(n, dtype=np.int64)
                models, kind = list(SIM_BOX_MODELS), "sim_box"
            else:
                handset_of = np.arange(n, dtype=np.int64) // per_handset
                models, kind = list(HANDSET_MODELS), "phone"
            handsets = int(handset_of.max()) + 1
            cells = _cells(gen, country, handsets, where or comp.place)
            ids = book.register(
                country,
                holders,
                handset_of,
                models,
                kind,
                cells,
                f"{comp.compound_id}-{use}-{len(comp.sims.get(use, []))}",
            )
            comp.sims.setdefault(use, []).extend(int(i) for i in ids)


def _nominee_blocks(r: random.Random, pool: np.ndarray, n: int, low: int) -> np.ndarray:
    """Holders for ``n`` SIMs, in blocks of ``low``..``20*low`` SIMs per nominee."""
    out: list[int] = []
    while len(out) < n:
        size = min(n - len(out), r.randint(low, low * 20))
        out.extend([int(pool[r.randrange(len(pool))])] * size)
    return np.array(out, dtype=np.int64)


def ordinary_calls(
    book: Phonebook, params: Parameters, chunk: int, n: int, t0: int, t1: int
) -> dict[str, np.ndarray]:
    """One chunk of people's calls and messages, as columns of sim indices."""
    from fraudx.sim.model import utc_offset_seconds
    from fraudx.sim.timing import diurnal_times

    gen = rng(book.seed, "calls", chunk)
    countries = list(book.ordinary)
    starts = np.array([book.ordinary[c][0] for c in countries])
    counts = np.array([book.ordinary[c][1] for c in countries])
    offsets = np.array([utc_offset_seconds(c) for c in countries])
    src_c = gen.choice(len(countries), size=n, p=counts / counts.sum())
    dst_c = src_c.copy()
    abroad = gen.random(n) < params.international_call_share
    dst_c[abroad] = gen.choice(len(countries), size=int(abroad.sum()), p=counts / counts.sum())
    caller = starts[src_c] + (gen.random(n) * counts[src_c]).astype(np.int64)
    callee = starts[dst_c] + (gen.random(n) * counts[dst_c]).astype(np.int64)
    service = (gen.random(n) < params.sms_share).astype(np.int8)
    duration = np.where(service == 1, 0, np.rint(70 * gen.lognormal(0, 1.0, n)) + 1)
    return {
        "ts": diurnal_times(gen, t0, t1, offsets[src_c]),
        "caller": caller,
        "callee": callee,
        "service": service,
        "duration": duration.astype(np.int32),
    }


def calls_table(book: Phonebook, cols: dict[str, np.ndarray], first_id: int) -> pa.Table:
    """Columns of sim indices (sorted by ts) to call records; cells are the caller's."""
    caller = pa.array(cols["caller"])
    n = len(cols["ts"])
    return pa.table(
        {
            "id": pa.array(np.arange(first_id, first_id + n, dtype=np.int64)),
            "ts": pa.array(cols["ts"], pa.int64()).cast(CALL_SCHEMA[1].type),
            "caller": book.msisdn.take(caller),
            "callee": book.msisdn.take(pa.array(cols["callee"])),
            "service": pc.take(pa.array(SERVICES), pa.array(cols["service"])),
            "duration_s": pa.array(cols["duration"].astype(np.int32)),
            "caller_imei": book.imei.take(caller),
            "cell": book.cell.take(caller),
        },
        schema=CALL_SCHEMA,
    )
