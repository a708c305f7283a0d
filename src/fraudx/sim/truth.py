"""Ground truth: the role of every synthetic fraud actor and identifier, and every trail.

Kept apart (under ``truth/``) from what any police force would know (``known/``), so
that detection can be measured against it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from fraudx.sim.compounds import Compound
from fraudx.sim.fraud import FraudWorld, MulePools
from fraudx.sim.telecom import Phonebook

IDENTIFIER_SCHEMA = pa.schema(
    [
        ("kind", pa.string()),
        ("value", pa.string()),
        ("role", pa.string()),
        ("compound_id", pa.string()),
        ("trails", pa.int64()),
        ("first_trail", pa.string()),
    ]
)
PEOPLE_ROLE_SCHEMA = pa.schema(
    [
        ("person_id", pa.int64()),
        ("role", pa.string()),  # victim, mule_holder, sim_nominee
        ("identity", pa.string()),  # real, borrowed, fake
    ]
)
SIM_ROLES = {
    "international": ("scam_caller_phone", "scam_handset"),
    "cross_border": ("scam_caller_phone", "scam_handset"),
    "sim_box": ("sim_box_sim", "sim_box"),
}


@dataclass
class Truth:
    identifiers: pa.Table
    people: pa.Table
    trails: pa.Table
    commissions: pa.Table


def build_truth(
    world: FraudWorld,
    compounds: list[Compound],
    pools: MulePools,
    book: Phonebook,
    fake: set[int],
    mule_holders: set[int],
    nominees: set[int],
) -> Truth:
    """Every fraud identifier with its role; people's roles; trails; commissions."""
    rows: dict[tuple[str, str], tuple[str, str, int, str]] = {}

    def put(kind: str, value: str, role: str, compound: str, trails: set[str]) -> None:
        if (kind, value) not in rows or trails:
            first = min(trails) if trails else ""
            rows[(kind, value)] = (role, compound, len(trails), first)

    imsi = book.column("imsi")
    for comp in compounds:
        for net in comp.networks:
            put("ip", net, "compound_network", comp.compound_id, set())
        for wallet in comp.wallets:
            put("crypto_wallet", wallet, "cashout_wallet", comp.compound_id, set())
        for use, sims in sorted(comp.sims.items()):
            phone_role, device_role = SIM_ROLES[use]
            ids = pa.array(np.array(sims, dtype=np.int64))
            for kind, column, role in (
                ("phone", book.msisdn, phone_role),
                ("imsi", imsi, phone_role),
                ("imei", book.imei, device_role),
            ):
                for value in column.take(ids).to_pylist():
                    if value:
                        put(kind, value, role, comp.compound_id, set())
        for account in pools.cashout.get(comp.compound_id, []):
            put("bank_account", account, "cashout_account", comp.compound_id, set())
    for (compound_id, _), accounts in sorted(pools.mules.items()):
        for account in accounts:
            put("bank_account", account, "mule_account", compound_id, set())
    for (kind, value), (role, compound, trails) in sorted(world.roles.items()):
        put(kind, value, role, compound, trails)
    for t in world.trails:
        if t["contact_sim_id"] != -1:
            phone = str(book.msisdn[int(str(t["contact_sim_id"]))].as_py())
            old = rows[("phone", phone)]
            rows[("phone", phone)] = (old[0], old[1], old[2] + 1, old[3] or str(t["trail_id"]))
    keys = sorted(rows)
    identifiers = pa.table(
        {
            "kind": [k for k, _ in keys],
            "value": [v for _, v in keys],
            "role": [rows[k][0] for k in keys],
            "compound_id": [rows[k][1] for k in keys],
            "trails": [rows[k][2] for k in keys],
            "first_trail": [rows[k][3] for k in keys],
        },
        schema=IDENTIFIER_SCHEMA,
    )
    roles: dict[int, str] = {int(str(t["victim_person_id"])): "victim" for t in world.trails}
    for pid in nominees:
        roles[pid] = "sim_nominee"
    for pid in mule_holders:
        roles[int(pid)] = "mule_holder"
    ids = sorted(roles)
    people = pa.table(
        {
            "person_id": pa.array(ids, pa.int64()),
            "role": [roles[i] for i in ids],
            "identity": [
                "fake" if i in fake else ("borrowed" if roles[i] != "victim" else "real")
                for i in ids
            ],
        },
        schema=PEOPLE_ROLE_SCHEMA,
    )
    trails = pa.Table.from_pylist(
        [{**t, "contact_phone": _phone(t, book)} for t in world.trails]
    ).drop_columns(["contact_sim_id"])
    trails = trails.set_column(
        trails.schema.get_field_index("report_ts"),
        "report_ts",
        pa.array(
            [None if v == -1 else v for v in trails.column("report_ts").to_pylist()], pa.int64()
        ).cast(pa.timestamp("s", tz="UTC")),
    )
    commissions = pa.table(
        {
            "trail_id": [c[0] for c in world.commissions],
            "account": [c[1] for c in world.commissions],
            "value_usd_cents": pa.array([c[2] for c in world.commissions], pa.int64()),
        }
    )
    return Truth(identifiers, people, trails, commissions)


def _phone(trail: dict[str, object], book: Phonebook) -> str:
    sim = int(str(trail["contact_sim_id"]))
    return str(book.msisdn[sim].as_py()) if sim >= 0 else ""
