"""Generate a simulated region into a directory: the world, its ground truth, and what
police know. Deterministic: the same seed, scale and countries give the same bytes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from fraudx.identifiers import bank_directory
from fraudx.platform.errors import InvalidInput
from fraudx.sim.banking import AccountBook, open_ordinary_accounts
from fraudx.sim.callcentre import scam_calls
from fraudx.sim.compounds import Compound, make_compounds
from fraudx.sim.fraud import SimIndex, TrailMaker, Victims, make_trails, open_mule_accounts
from fraudx.sim.known import known_rows, write_known
from fraudx.sim.model import DEFAULT_COUNTRIES, SIZES, Scale, parameters_for, rng
from fraudx.sim.people import make_people
from fraudx.sim.streams import Progress, split, write_calls, write_transfers
from fraudx.sim.telecom import Phonebook, equip_compounds, register_people
from fraudx.sim.truth import build_truth
from fraudx.sim.writer import FORMATS, TableWriter, sha256_of, write_table

#: Relative population of each country in the simulation (not to scale: China would
#: swamp the others).
POPULATION_WEIGHT = {"CN": 0.30, "TH": 0.20, "VN": 0.20, "MM": 0.12, "KH": 0.10, "LA": 0.08}


@dataclass(frozen=True, slots=True)
class Manifest:
    path: Path
    counts: dict[str, int]
    files: dict[str, str]


def generate(
    out: Path,
    *,
    scale: Scale = Scale.SMALL,
    seed: int = 1,
    countries: tuple[str, ...] = DEFAULT_COUNTRIES,
    formats: tuple[str, ...] = FORMATS,
    progress: Progress | None = None,
) -> Manifest:
    """Write the simulated region for ``seed`` into ``out`` and return its manifest."""
    step = progress or (lambda _s, _d, _t: None)
    with_banks = bank_directory().countries()
    if not set(countries) & set(with_banks):
        raise InvalidInput(
            "countries",
            "at least one country needs banks in FraudX's bank directory "
            f"({', '.join(with_banks)})",
        )
    params = parameters_for(scale, countries)
    size = SIZES[scale]
    start = int(params.start.timestamp())
    end = start + params.days * 86_400
    out.mkdir(parents=True, exist_ok=True)
    writers: list[TableWriter] = []

    # People, and the nominees whose identities fraud borrows or fakes.
    step("people", 0, 1)
    people: dict[str, np.ndarray] = {}
    tables: list[pa.Table] = []
    next_id = 1
    weights = [POPULATION_WEIGHT.get(c, 0.1) for c in countries]
    for country, n in zip(countries, split(size.people, weights), strict=True):
        tables.append(make_people(seed, country, n, next_id, "people"))
        people[country] = np.arange(next_id, next_id + n, dtype=np.int64)
        next_id += n
    nominees: dict[str, np.ndarray] = {}
    fake: set[int] = set()
    for country in countries:
        n = len(people[country])
        fakes = make_people(seed, country, max(5, n // 400), next_id, "fake-identities")
        fake_ids = fakes.column("person_id").to_numpy()
        next_id += len(fake_ids)
        tables.append(fakes)
        fake.update(int(i) for i in fake_ids)
        gen = rng(seed, "borrowed", country)
        borrowed = gen.choice(people[country], size=min(n, max(10, n // 150)), replace=False)
        nominees[country] = np.concatenate([np.sort(borrowed), fake_ids])
    writers.append(write_table(out, "people", pa.concat_tables(tables), formats))
    del tables
    step("people", 1, 1)

    # Banks, telecom, compounds.
    step("accounts and SIMs", 0, 1)
    book = AccountBook(seed)
    open_ordinary_accounts(book, params, people)
    compounds = make_compounds(seed, countries, size.compounds_per_hotspot)
    phones = Phonebook(seed, start)
    register_people(phones, params, people)
    low, high = params.sim_box_slots
    slots = (min(low, max(8, size.people // 200)), min(high, max(low, size.people // 100)))
    equip_compounds(phones, compounds, nominees, slots)
    sim_country = phones.column("country").to_numpy(zero_copy_only=False)
    bank_countries = [c for c in countries if (c, "person") in book.segments]
    target = round(params.fraud_transfer_share * size.transfers)
    per_pool = max(4, round(target / 15 * 0.8 / max(1, len(compounds) * len(bank_countries))))
    mule_people = {c: nominees[c] for c in bank_countries}
    pools = open_mule_accounts(book, compounds, bank_countries, mule_people, per_pool)
    step("accounts and SIMs", 1, 1)

    # Fraud trails.
    step("fraud trails", 0, 1)
    victims = _victims(book, phones, nominees, bank_countries)
    sim_map = {i: str(c) for i, c in enumerate(sim_country)} if size.people <= 300_000 else None
    maker = TrailMaker(
        seed, params, compounds, pools, victims, start, _SimCountry(sim_country, sim_map)
    )
    world = make_trails(maker, target)
    step("fraud trails", 1, 1)

    for name, table in (
        ("accounts", book.table()),
        ("sims", pa.concat_tables(phones.sims)),
        ("handsets", pa.concat_tables(phones.handsets)),
        ("compounds", _compounds_table(compounds)),
        ("wallets", _wallets_table(compounds)),
    ):
        writers.append(write_table(out, name, table, formats))

    n_transfers = write_transfers(
        out, formats, book, params, seed, size.transfers, world, start, end, step, writers
    )
    scam = scam_calls(
        phones,
        compounds,
        params,
        round(params.scam_call_share * size.calls),
        start,
        end,
        sim_country,
    )
    n_calls = write_calls(
        out, formats, phones, params, size.calls, world, scam, start, end, step, writers
    )

    step("truth and known", 0, 1)
    mule_holders = {int(h) for c in bank_countries for h in nominees[c]}
    truth = build_truth(
        world,
        compounds,
        pools,
        phones,
        fake,
        mule_holders,
        {int(h) for h in np.concatenate(list(nominees.values()))},
    )
    for name, table in (
        ("truth/identifiers", truth.identifiers),
        ("truth/people", truth.people),
        ("truth/trails", truth.trails),
        ("truth/commissions", truth.commissions),
    ):
        writers.append(write_table(out, name, table, formats))
    known = known_rows(seed, params, world, compounds, phones, _SimCountry(sim_country, sim_map))
    known_paths = write_known(out, known)
    step("truth and known", 1, 1)

    counts = {Path(w.paths[0]).relative_to(out).with_suffix("").as_posix(): w.rows for w in writers}
    counts["transfers"], counts["calls"] = n_transfers, n_calls
    counts["known"] = sum(len(v) for v in known.values())
    paths = sorted([p for w in writers for p in w.paths] + known_paths)
    files = {p.relative_to(out).as_posix(): sha256_of(p) for p in paths}
    manifest = {
        "generator": "fraudx.sim",
        "seed": seed,
        "scale": scale.value,
        "countries": list(countries),
        "counts": dict(sorted(counts.items())),
        "parameters": params.as_dict(),
        "files": files,
    }
    path = out / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", "utf-8")
    return Manifest(path, counts, files)


class _SimCountry:
    """sim_id -> country, from a numpy array (a dict is faster for the small scales)."""

    def __init__(self, array: np.ndarray, cache: dict[int, str] | None) -> None:
        self._array = array
        self._cache = cache

    def __getitem__(self, sim: int) -> str:
        return self._cache[sim] if self._cache is not None else str(self._array[sim])


def _victims(
    book: AccountBook, phones: Phonebook, nominees: dict[str, np.ndarray], countries: list[str]
) -> Victims:
    values = np.concatenate(book.values)
    holders = book.all_holders()
    accounts: dict[str, np.ndarray] = {}
    owners: dict[str, np.ndarray] = {}
    for c in countries:
        first, n = book.segments[(c, "person")]
        keep = ~np.isin(holders[first : first + n], nominees[c])
        accounts[c] = values[first : first + n][keep]
        owners[c] = holders[first : first + n][keep]
    sim_holders = phones.column("holder_person_id").to_numpy()
    ordinary = np.zeros(len(sim_holders), dtype=bool)
    for first, n in phones.ordinary.values():
        ordinary[first : first + n] = True
    ids = np.flatnonzero(ordinary)
    order = np.argsort(sim_holders[ids], kind="stable")
    return Victims(accounts, owners, SimIndex(sim_holders[ids][order], ids[order]))


def _compounds_table(compounds: list[Compound]) -> pa.Table:
    return pa.table(
        {
            "compound_id": [c.compound_id for c in compounds],
            "country": [c.country for c in compounds],
            "place": [c.place for c in compounds],
            "networks": [";".join(c.networks) for c in compounds],
            "sim_box_towns": [
                ";".join(f"{cc}:{t}" for cc, t in c.sim_box_towns) for c in compounds
            ],
        }
    )


def _wallets_table(compounds: list[Compound]) -> pa.Table:
    wallets = sorted({w for c in compounds for w in c.wallets})
    return pa.table(
        {
            "wallet": wallets,
            "chain": [w.split(":", 1)[0] for w in wallets],
            "asset": ["USDT"] * len(wallets),
        }
    )


def ensure_region(
    directory: Path, *, seed: int = 1, scale: Scale = Scale.SMALL, progress: Progress | None = None
) -> Path:
    """``directory`` holding the region for ``seed`` and ``scale``, generated only if it does
    not hold it yet (what ``fraudx demo`` needs: data on the first run, reused after)."""
    manifest = directory / "manifest.json"
    if manifest.is_file():
        info = json.loads(manifest.read_text("utf-8"))
        if info.get("seed") == seed and info.get("scale") == scale.value:
            return directory
    if directory.exists() and any(directory.iterdir()) and not manifest.is_file():
        raise InvalidInput("directory", f"{directory} is not empty and holds no simulator output")
    generate(directory, scale=scale, seed=seed, progress=progress)
    return directory
