"""What makes the telecom data look like the region's: SIM counts, call centres, SIM boxes."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta

from fraudx.sim.model import utc_offset_seconds
from tests.sim.conftest import Region


def _roles(region: Region, kind: str) -> dict[str, str]:
    truth = region.table("truth/identifiers").to_pylist()
    return {r["value"]: r["role"] for r in truth if r["kind"] == kind}


def test_most_people_hold_one_to_three_sims_and_nominees_dozens(region: Region) -> None:
    holders = Counter(region.table("sims").column("holder_person_id").to_pylist())
    counts = list(holders.values())
    assert sum(1 <= c <= 3 for c in counts) / len(counts) > 0.9
    assert max(counts) >= 20


def test_scam_callers_make_many_short_calls_to_distinct_numbers(region: Region) -> None:
    scam = _roles(region, "phone")
    calls = region.table("calls").to_pylist()
    out: dict[str, list[dict[str, object]]] = defaultdict(list)
    incoming = Counter()
    for c in calls:
        if c["caller"] in scam:
            out[str(c["caller"])].append(c)
        if c["callee"] in scam:
            incoming[c["callee"]] += 1
    scam_calls = [c for rows in out.values() for c in rows]
    ordinary = [c for c in calls if c["caller"] not in scam and c["service"] == "voice"]
    assert len(scam_calls) > 0.03 * len(calls)
    assert sum(incoming.values()) < 0.1 * len(scam_calls)
    distinct = len({c["callee"] for c in scam_calls}) / len(scam_calls)
    assert distinct > 0.7

    def median(xs: list[int]) -> int:
        return sorted(xs)[len(xs) // 2]

    assert median([int(str(c["duration_s"])) for c in scam_calls]) < median(
        [int(str(c["duration_s"])) for c in ordinary]
    )


def test_scam_calls_fall_in_the_victims_working_hours(region: Region) -> None:
    scam = _roles(region, "phone")
    sims = {r["msisdn"]: r["country"] for r in region.table("sims").to_pylist()}
    checked = 0
    for c in region.table("calls").to_pylist():
        if c["caller"] in scam and c["duration_s"] < 120:  # bulk calls (not trail contacts)
            local = c["ts"] + timedelta(seconds=utc_offset_seconds(sims[c["callee"]]))
            assert 9 <= local.hour < 18, c
            assert local.weekday() < 6, c
            checked += 1
    assert checked > 100


def test_sim_boxes_cycle_many_local_sims_in_one_device_near_a_border(region: Region) -> None:
    boxes = {r["imei"]: r for r in region.table("handsets").to_pylist() if r["kind"] == "sim_box"}
    assert boxes
    per_box = Counter(r["imei"] for r in region.table("sims").to_pylist() if r["imei"] in boxes)
    assert min(per_box.values()) >= 8
    roles = _roles(region, "imei")
    for imei, box in boxes.items():
        assert roles[imei] == "sim_box"
        assert "-" in box["cell"]
        assert not box["cell"].split("-")[1].isdigit()
    sims = {r["msisdn"]: r for r in region.table("sims").to_pylist()}
    box_calls = [c for c in region.table("calls").to_pylist() if c["caller_imei"] in boxes]
    assert box_calls
    local = sum(sims[c["caller"]]["country"] == sims[c["callee"]]["country"] for c in box_calls)
    assert local / len(box_calls) > 0.9  # international calls made to look local
