"""What each country's police would already know, in the registry's bulk import format.

Victims who reported (before the end of the window) gave their police the mule accounts
they paid and the number that contacted them; intelligence and raids gave some compound
networks, cash-out wallets and SIM boxes. One CSV per reporting agency.
"""

from __future__ import annotations

import csv
import random
from datetime import UTC, datetime
from pathlib import Path

from fraudx.demo import DEMO_AGENCIES
from fraudx.platform.agencies.model import AgencyKind
from fraudx.registry.model import IMPORT_FIELDS
from fraudx.sim.compounds import Compound
from fraudx.sim.fraud import CountryOfSim, FraudWorld
from fraudx.sim.model import Parameters
from fraudx.sim.telecom import Phonebook

#: known/*.csv are in the registry's bulk import format.
HEADER = IMPORT_FIELDS
POLICE: dict[str, tuple[str, str]] = {
    country: (code, name)
    for code, name, country, kind in DEMO_AGENCIES
    if kind is AgencyKind.POLICE
}


def police_of(country: str) -> tuple[str, str]:
    """The reporting police agency of a country: (code, name)."""
    return POLICE.get(country, (f"{country}-POLICE", f"National Police of {country}"))


Row = dict[str, str]


def _row(
    kind: str,
    value: str,
    category: str,
    confidence: int,
    tlp: str,
    region: str,
    case: str,
    description: str,
    tags: str,
) -> Row:
    return {
        "kind": kind,
        "value": value,
        "category": category,
        "confidence": str(confidence),
        "tlp": tlp,
        "valid_until": "",
        "region": region,
        "case_ref": case,
        "description": description,
        "tags": tags,
    }


def known_rows(
    seed: int,
    params: Parameters,
    world: FraudWorld,
    compounds: list[Compound],
    book: Phonebook,
    sim_country: CountryOfSim,
) -> dict[str, list[Row]]:
    """Rows per reporting agency code, deduplicated and in a stable order."""
    r = random.Random(f"{seed}:known")
    by_agency: dict[str, dict[tuple[str, str, str], Row]] = {}

    def add(country: str, row: Row) -> None:
        code = police_of(country)[0]
        by_agency.setdefault(code, {}).setdefault((row["kind"], row["value"], row["category"]), row)

    first_layer: dict[str, list[str]] = {}
    for _ts, trail, _src, dst, *_rest, kind, _value in world.transfers:
        if kind == "scam_payment":
            first_layer.setdefault(trail, []).append(dst)
    counters: dict[str, int] = {}
    for t in world.trails:
        if not t["reported"]:
            continue
        country = str(t["victim_country"])
        code = police_of(country)[0]
        counters[code] = counters.get(code, 0) + 1
        when = datetime.fromtimestamp(int(str(t["report_ts"])), UTC)
        case = f"{code}-{when.year}-{counters[code]:06d}"
        scam = str(t["scam_type"])
        for mule in sorted(set(first_layer.get(str(t["trail_id"]), []))):
            add(
                country,
                _row(
                    "bank_account",
                    mule,
                    "mule_account",
                    80,
                    "AMBER",
                    country,
                    case,
                    f"A victim of a scam ({scam}) paid into this account",
                    "simulated;victim-report",
                ),
            )
        sim = int(str(t["contact_sim_id"]))
        if sim >= 0:
            category = "scam_call" if t["channel"] == "call" else "scam_sms"
            phone = str(book.msisdn[sim].as_py())
            add(
                country,
                _row(
                    "phone",
                    phone,
                    category,
                    70,
                    "GREEN",
                    country,
                    case,
                    f"Number that contacted a victim of a scam ({scam})",
                    "simulated;victim-report",
                ),
            )
    for comp in compounds:
        intel = f"{comp.compound_id} {comp.place}"
        reporters = [comp.country] if comp.country in params.countries else list(params.countries)
        for net in comp.networks:
            if r.random() < params.known_compound_ip_share:
                add(
                    r.choice(reporters),
                    _row(
                        "ip",
                        net,
                        "scam_compound_network",
                        60,
                        "AMBER",
                        comp.country,
                        f"INTEL-{comp.compound_id}",
                        f"Network used by a scam compound at {comp.place}",
                        "simulated;intelligence",
                    ),
                )
        for wallet in comp.wallets:
            if r.random() < params.known_wallet_share:
                add(
                    r.choice(list(params.countries)),
                    _row(
                        "crypto_wallet",
                        wallet,
                        "cashout_wallet",
                        85,
                        "GREEN",
                        comp.country,
                        f"INTEL-{comp.compound_id}",
                        f"Cash-out wallet of {intel}",
                        "simulated;intelligence",
                    ),
                )
        boxes = sorted({str(book.imei[s].as_py()) for s in comp.sims.get("sim_box", [])})
        for imei in boxes:
            if r.random() < params.known_sim_box_share:
                sim = next(s for s in comp.sims["sim_box"] if book.imei[s].as_py() == imei)
                where = sim_country[sim]
                add(
                    where,
                    _row(
                        "imei",
                        imei,
                        "sim_box",
                        90,
                        "AMBER",
                        where,
                        f"INTEL-{comp.compound_id}",
                        f"SIM box found near the border, {intel}",
                        "simulated;raid",
                    ),
                )
    return {
        code: sorted(rows.values(), key=lambda x: (x["kind"], x["value"], x["category"]))
        for code, rows in sorted(by_agency.items())
    }


def write_known(directory: Path, rows: dict[str, list[Row]]) -> list[Path]:
    """One ``known/<AGENCY>.csv`` per reporting agency (also for agencies with no rows)."""
    target = directory / "known"
    target.mkdir(parents=True, exist_ok=True)
    paths = []
    for code, agency_rows in sorted(rows.items()):
        path = target / f"{code}.csv"
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=HEADER, lineterminator="\n")
            writer.writeheader()
            writer.writerows(agency_rows)
        paths.append(path)
    return paths
