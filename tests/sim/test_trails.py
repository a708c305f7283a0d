"""Fraud trails: money conserved, never leaving before it arrived; the configured shares."""

from __future__ import annotations

from collections import defaultdict

import pyarrow.compute as pc

from fraudx.sim.model import Parameters
from tests.sim.conftest import Region


def _fraud(region: Region) -> list[dict[str, object]]:
    transfers = region.table("transfers")
    return transfers.filter(pc.not_equal(transfers.column("trail_id"), "")).to_pylist()


def test_money_is_conserved_along_every_trail(region: Region) -> None:
    """What victims paid reaches cash-out, less the first-layer mules' declared commission;
    every mule sends on exactly what it received, less its commission."""
    commission: dict[tuple[str, str], int] = defaultdict(int)
    for c in region.table("truth/commissions").to_pylist():
        commission[(c["trail_id"], c["account"])] += c["value_usd_cents"]
    flows: dict[tuple[str, str], int] = defaultdict(int)
    paid: dict[str, int] = defaultdict(int)
    cashed: dict[str, int] = defaultdict(int)
    for t in _fraud(region):
        trail, value = str(t["trail_id"]), int(str(t["value_usd_cents"]))
        if t["kind"] == "scam_payment":
            paid[trail] += value
        else:
            flows[(trail, str(t["from_account"]))] -= value
        if t["kind"] == "cashout":
            cashed[trail] += value
        else:
            flows[(trail, str(t["to_account"]))] += value
    for key, balance in flows.items():
        assert balance == commission.get(key, 0), key
    trails = region.table("truth/trails").to_pylist()
    assert len(trails) >= 5
    for t in trails:
        kept = sum(v for (trail, _), v in commission.items() if trail == t["trail_id"])
        assert paid[t["trail_id"]] == t["paid_usd_cents"] == cashed[t["trail_id"]] + kept
        assert t["cashed_out_usd_cents"] == cashed[t["trail_id"]]


def test_money_never_leaves_an_account_before_it_arrived(region: Region) -> None:
    events: dict[tuple[str, str], list[tuple[object, int, int]]] = defaultdict(list)
    for t in _fraud(region):
        value = int(str(t["value_usd_cents"]))
        if t["kind"] != "scam_payment":
            events[(str(t["trail_id"]), str(t["from_account"]))].append((t["ts"], 1, -value))
        if t["kind"] != "cashout":
            events[(str(t["trail_id"]), str(t["to_account"]))].append((t["ts"], 0, value))
    for key, items in events.items():
        if any(delta < 0 for _, _, delta in items) and any(d > 0 for _, _, d in items):
            balance = 0
            for _ts, _order, delta in sorted(items, key=lambda e: (e[0], e[1])):
                balance += delta
                assert balance >= 0, key


def test_trails_start_with_a_payment_and_end_in_cash_out(region: Region) -> None:
    by_trail: dict[str, list[dict[str, object]]] = defaultdict(list)
    for t in _fraud(region):
        by_trail[str(t["trail_id"])].append(t)
    for trail, rows in by_trail.items():
        rows.sort(key=lambda r: (r["ts"], r["id"]))  # type: ignore[arg-type,return-value]
        assert rows[0]["kind"] == "scam_payment", trail
        assert rows[-1]["kind"] == "cashout", trail


def test_fraud_share_and_cross_border_share_within_bounds(region: Region) -> None:
    params = Parameters()
    transfers = region.table("transfers")
    fraud = _fraud(region)
    share = len(fraud) / transfers.num_rows
    low, high = params.fraud_share_bounds
    assert low <= share <= high
    hops = [t for t in fraud if t["kind"] == "layering"]
    cross = sum(t["from_country"] != t["to_country"] for t in hops) / len(hops)
    low, high = params.cross_border_bounds
    assert low <= cross <= high


def test_ordinary_transfers_include_cross_border_remittances(region: Region) -> None:
    transfers = region.table("transfers").to_pylist()
    remittances = [t for t in transfers if t["kind"] == "remittance"]
    cross = sum(t["from_country"] != t["to_country"] for t in remittances) / len(remittances)
    assert 0.3 <= cross <= 0.5
    kinds = {t["kind"] for t in transfers}
    assert kinds == {
        "salary",
        "shopping",
        "bill",
        "remittance",
        "scam_payment",
        "layering",
        "cashout",
    }


def test_transfers_are_in_time_order_with_sequential_ids(region: Region) -> None:
    transfers = region.table("transfers")
    ts = transfers.column("ts").to_pylist()
    assert ts == sorted(ts)
    assert transfers.column("id").to_pylist() == list(range(1, transfers.num_rows + 1))
