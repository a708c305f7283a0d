"""Ground truth is complete; police know part of it, never more."""

from __future__ import annotations

import csv
from collections import Counter

from fraudx.sim.known import HEADER
from tests.sim.conftest import Region

CATEGORIES = {
    "mule_account", "scam_call", "scam_sms", "phishing_url", "scam_website",
    "scam_compound_network", "cashout_wallet", "sim_box", "fake_identity",
}  # fmt: skip
TLPS = {"CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"}


def _truth(region: Region) -> dict[tuple[str, str], dict[str, object]]:
    return {(r["kind"], r["value"]): r for r in region.table("truth/identifiers").to_pylist()}


def _known(region: Region) -> dict[str, list[dict[str, str]]]:
    out = {}
    for path in sorted((region.path / "known").glob("*.csv")):
        with path.open(newline="") as f:
            reader = csv.DictReader(f)
            assert tuple(reader.fieldnames or ()) == HEADER
            out[path.stem] = list(reader)
    return out


def test_every_account_and_wallet_in_a_trail_is_in_truth(region: Region) -> None:
    truth = _truth(region)
    transfers = region.table("transfers").to_pylist()
    for t in transfers:
        if not t["trail_id"]:
            continue
        kind = "crypto_wallet" if t["to_account"].startswith(("tron:", "eth:")) else "bank_account"
        assert (kind, t["to_account"]) in truth, t
        if t["kind"] != "scam_payment":  # the payer of a scam payment is the victim
            assert ("bank_account", t["from_account"]) in truth, t


def test_every_scam_phone_sim_imei_network_is_in_truth(region: Region) -> None:
    truth = _truth(region)
    for trail in region.table("truth/trails").to_pylist():
        if trail["contact_phone"]:
            assert ("phone", trail["contact_phone"]) in truth
    compounds = region.table("compounds").to_pylist()
    for c in compounds:
        for net in c["networks"].split(";"):
            assert ("ip", net) in truth
    for wallet in region.table("wallets").column("wallet").to_pylist():
        assert ("crypto_wallet", wallet) in truth
    roles = Counter(r["role"] for r in truth.values())
    for role in ("scam_caller_phone", "sim_box_sim", "sim_box", "scam_handset", "mule_account",
                 "mule_account_first_layer", "cashout_wallet", "compound_network"):  # fmt: skip
        assert roles[role] > 0, role


def test_truth_people_are_victims_mules_and_nominees(region: Region) -> None:
    people = region.table("truth/people").to_pylist()
    roles = Counter(p["role"] for p in people)
    identity = Counter(p["identity"] for p in people)
    assert roles["victim"] > 0
    assert roles["mule_holder"] > 0
    assert identity["fake"] > 0
    assert identity["borrowed"] > 0
    person_ids = set(region.table("people").column("person_id").to_pylist())
    assert {p["person_id"] for p in people} <= person_ids


def test_known_is_a_strict_subset_of_truth(region: Region) -> None:
    truth = _truth(region)
    known = _known(region)
    assert set(known) <= {"CN-MPS", "KH-GCNP", "LA-MOPS", "MM-MPF", "TH-CCIB", "VN-MPS"}
    values = set()
    for agency, rows in known.items():
        for row in rows:
            assert (row["kind"], row["value"]) in truth, (agency, row)
            assert row["category"] in CATEGORIES
            assert row["tlp"] in TLPS
            assert 0 < int(row["confidence"]) <= 100
            assert row["tags"].startswith("simulated")
            values.add((row["kind"], row["value"]))
    assert 0 < len(values) < len(truth)


def test_known_comes_from_reported_trails_only(region: Region) -> None:
    """Police learn the mule accounts of victims who reported, not of those who did not."""
    trails = region.table("truth/trails").to_pylist()
    transfers = region.table("transfers").to_pylist()
    reported = {t["trail_id"] for t in trails if t["reported"]}
    assert 0 < len(reported) < len(trails)
    first_layer = {t["to_account"]: t["trail_id"] for t in transfers if t["kind"] == "scam_payment"}
    mules = {
        row["value"]
        for rows in _known(region).values()
        for row in rows
        if row["category"] == "mule_account"
    }
    reported_mules = {a for t in transfers if t["kind"] == "scam_payment"
                      and t["trail_id"] in reported for a in [t["to_account"]]}  # fmt: skip
    assert mules == reported_mules
    assert set(first_layer) - mules, "some mule accounts stay hidden"
