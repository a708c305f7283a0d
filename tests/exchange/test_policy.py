"""The sharing policy: every TLP × peer agency kind × sharing group, nothing leaking."""

from __future__ import annotations

from itertools import product
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fraudx.exchange.model import TAXII_MEDIA_TYPE, collection_id
from fraudx.exchange.policy import PeerRule, PeerView, Policy, load_policy, parse_policy
from fraudx.node import Node
from fraudx.platform.agencies.model import Role
from fraudx.platform.errors import InvalidInput
from tests.conftest import bearer
from tests.exchange.conftest import OPERATOR, analyst

TLPS = ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]
KINDS = ["police", "regulator", "coordination", "bank", "telco", "observer"]
GROUPS = ["all", "mekong", "cn-mm-th"]


def expected(tlp: str, kind: str, group: str, country: str) -> bool:
    """The rule written out the long way, independently of the code."""
    if tlp == "RED":
        return False
    if tlp == "AMBER+STRICT" and kind not in ("police", "regulator", "coordination"):
        return False
    if group == "cn-mm-th":
        return country in ("CN", "MM", "TH")
    if group == "mekong":
        return country in ("CN", "KH", "LA", "MM", "TH", "VN")
    return True


@pytest.mark.parametrize("country", ["MM", "KH", "SG"])
def test_default_policy_matrix(country: str) -> None:
    policy = Policy()
    for tlp, kind, group in product(TLPS, KINDS, GROUPS):
        peer = PeerView(f"{country}-X", kind, country)
        assert policy.allows(peer, tlp, "scam_call", group, approved=False) == expected(
            tlp, kind, group, country
        ), (tlp, kind, group)


def test_a_policy_file_narrows_by_peer_group_and_category(tmp_path: Path) -> None:
    path = tmp_path / "sharing.toml"
    path.write_text(
        """
two_person_rule = true
[groups]
ops = ["TH", "KH"]
[[peers]]
country = "KH"
tlp = ["CLEAR", "GREEN"]
groups = ["ops"]
categories = ["mule_account"]
[[peers]]
agency = "MM-MPF"
groups = ["cn-mm-th"]
"""
    )
    policy = load_policy(path)
    kh = PeerView("KH-GCNP", "police", "KH")
    assert policy.groups_for(kh) == ["ops"]
    assert policy.allows(kh, "GREEN", "mule_account", "ops", approved=True)
    assert not policy.allows(kh, "GREEN", "mule_account", "ops", approved=False)
    assert not policy.allows(kh, "AMBER", "mule_account", "ops", approved=True)
    assert not policy.allows(kh, "GREEN", "scam_call", "ops", approved=True)
    assert not policy.allows(kh, "GREEN", "mule_account", "all", approved=True)
    mm = PeerView("MM-MPF", "police", "MM")
    assert policy.groups_for(mm) == ["cn-mm-th"]
    assert policy.allows(mm, "AMBER+STRICT", "scam_call", "cn-mm-th", approved=True)
    assert load_policy(tmp_path / "absent.toml") == Policy()
    with pytest.raises(InvalidInput, match=r"peers\[0\]\.tlp"):
        parse_policy({"peers": [{"tlp": ["PURPLE"]}]})


def test_nothing_leaks_through_taxii(node: Node, client: TestClient) -> None:
    """Every TLP in every group, served to peers of every kind from three countries."""
    node.platform.agencies.add(OPERATOR, "TH-CCIB", "police", "TH", "police")
    author = analyst(node)
    made: dict[tuple[str, str], str] = {}
    for n, (tlp, group) in enumerate(product(TLPS, GROUPS)):
        tags = [] if group == "all" else [f"group:{group}"]
        body = {
            "kind": "phone",
            "value": f"+6681234{n:04d}",
            "category": "scam_call",
            "tlp": tlp,
            "tags": tags,
        }
        indicator, _ = node.registry.submit(author, body)
        made[(tlp, group)] = indicator.id
    node.exchange.publish_all()
    for country, kind in product(["MM", "KH", "SG"], KINDS):
        code = f"{country}-{kind.upper()}"
        node.platform.agencies.add(OPERATOR, code, code, country, kind)
        token = node.platform.tokens.create(OPERATOR, code, Role.PEER.value).secret
        headers = bearer(token) | {"Accept": TAXII_MEDIA_TYPE}
        seen: set[str] = set()
        listed = client.get("/taxii2/api/collections/", headers=headers).json()["collections"]
        for collection in listed:
            objects = client.get(
                f"/taxii2/api/collections/{collection['id']}/objects/", headers=headers
            ).json()["objects"]
            for obj in objects:
                ext = next(iter(obj["extensions"].values()))
                seen.add(ext["origin_id"])
        for group in GROUPS:
            reachable = any(c["id"] == collection_id(group) for c in listed)
            assert reachable == expected("CLEAR", kind, group, country)
        want = {id_ for (tlp, group), id_ in made.items() if expected(tlp, kind, group, country)}
        assert seen == want, (country, kind)


def test_a_peer_narrowed_to_categories_is_served_only_those(node: Node, client: TestClient) -> None:
    node.exchange.policy = Policy(
        rules=(PeerRule(country="KH", categories=frozenset({"scam_sms"})),)
    )
    node.platform.agencies.add(OPERATOR, "TH-CCIB", "police", "TH", "police")
    author = analyst(node)
    made = {}
    for n, category in enumerate(["scam_call", "scam_sms", "scam_call", "scam_sms"]):
        body = {"kind": "phone", "value": f"+6681235{n:04d}", "category": category}
        indicator, _ = node.registry.submit(author, body)
        made[indicator.id] = category
    node.exchange.publish_all()
    node.platform.agencies.add(OPERATOR, "KH-GCNP", "police", "KH", "police")
    token = node.platform.tokens.create(OPERATOR, "KH-GCNP", Role.PEER.value).secret
    headers = bearer(token) | {"Accept": TAXII_MEDIA_TYPE}
    url = f"/taxii2/api/collections/{collection_id('all')}/objects/"
    objects = client.get(url, headers=headers).json()["objects"]
    seen = {next(iter(o["extensions"].values()))["origin_id"] for o in objects}
    assert seen == {id_ for id_, category in made.items() if category == "scam_sms"}
