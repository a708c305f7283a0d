"""The TAXII 2.1 server: media types, error resources, paging and filters, and the
OASIS taxii2-client working against it unchanged on a real port."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
from fastapi.testclient import TestClient
from taxii2client.v21 import Server

from fraudx.exchange.model import TAXII_MEDIA_TYPE, collection_id
from fraudx.exchange.signing import (
    ACCEPT_SIGNATURE_HEADER,
    BODY_DIGEST,
    NODE_HEADER,
    SIGNATURE_HEADER,
    BadSignature,
    NodeKey,
    signed_message,
    verify,
    verify_body,
)
from fraudx.node import Node
from fraudx.platform.agencies.model import Role
from fraudx.platform.clock import ManualClock
from tests.conftest import START, bearer
from tests.exchange.conftest import OPERATOR, RealServer, imported, open_node, peer_token, report

ALL = collection_id("all")


def _peer_headers(node: Node) -> dict[str, str]:
    node.platform.agencies.add(OPERATOR, "KH-GCNP", "Cambodian police", "KH", "police")
    token = node.platform.tokens.create(OPERATOR, "KH-GCNP", Role.PEER.value).secret
    return bearer(token) | {"Accept": TAXII_MEDIA_TYPE}


def test_errors_are_taxii_error_resources(node: Node, client: TestClient) -> None:
    headers = _peer_headers(node)
    node.platform.agencies.add(OPERATOR, "TH-CCIB", "police", "TH", "police")
    analyst = node.platform.tokens.create(OPERATOR, "TH-CCIB", Role.ANALYST.value).secret
    cases: list[tuple[str, str, dict[str, str], int]] = [
        ("GET", "/taxii2/", {"Accept": TAXII_MEDIA_TYPE}, 401),
        ("GET", "/taxii2/api/collections/", bearer(analyst), 403),
        ("GET", f"/taxii2/api/collections/{collection_id('nope')}/objects/", headers, 404),
        ("GET", "/taxii2/api/collections/", headers | {"Accept": "text/html"}, 406),
        (
            "POST",
            f"/taxii2/api/collections/{ALL}/objects/",
            headers | {"Content-Type": "text/plain"},
            415,
        ),
        ("GET", f"/taxii2/api/collections/{ALL}/objects/?limit=x", headers, 422),
        ("GET", f"/taxii2/api/collections/{ALL}/objects/?added_after=soon", headers, 422),
        (
            "POST",
            f"/taxii2/api/collections/{ALL}/objects/",
            headers | {"Content-Type": TAXII_MEDIA_TYPE},
            401,
        ),
    ]
    for method, path, hdrs, status in cases:
        response = client.request(method, path, headers=hdrs, content=b'{"objects": []}')
        assert response.status_code == status, (path, response.text)
        assert response.headers["content-type"].startswith("application/taxii+json")
        body = response.json()
        assert body["http_status"] == str(status)
        assert body["title"]
        # Even errors are signed by the node.
        verify(
            node.exchange.key.public_key,
            signed_message(response.headers[NODE_HEADER], response.content),
            response.headers[SIGNATURE_HEADER],
        )


def test_pages_are_signed_in_the_scheme_the_client_accepts(node: Node, client: TestClient) -> None:
    """A peer of this FraudX asks for the body's digest to be signed; one of an earlier
    FraudX, which does not ask, gets the whole body signed. Neither signature stands for
    the other, and a changed body fails both."""
    headers = _peer_headers(node)
    node.platform.agencies.add(OPERATOR, "TH-CCIB", "police", "TH", "police")
    report(node, "+66812340001")
    url = f"/taxii2/api/collections/{ALL}/objects/"
    key = node.exchange.key.public_key
    earlier = client.get(url, headers=headers)
    later = client.get(url, headers=headers | {ACCEPT_SIGNATURE_HEADER: BODY_DIGEST})
    assert earlier.content == later.content
    assert b"+66812340001" in later.content
    whole, digest = earlier.headers[SIGNATURE_HEADER], later.headers[SIGNATURE_HEADER]
    assert whole.startswith("ed25519=")
    assert digest.startswith("ed25519-sha256=")
    node_id = later.headers[NODE_HEADER]
    verify(key, signed_message(node_id, earlier.content), whole)
    verify_body(key, node_id, later.content, digest)
    verify_body(key, node_id, earlier.content, whole)
    changed = later.content.replace(b"+66812340001", b"+66812340002")
    for header in (whole, digest):
        with pytest.raises(BadSignature):
            verify_body(key, node_id, changed, header)
    swapped = "ed25519=" + digest.removeprefix("ed25519-sha256=")
    with pytest.raises(BadSignature):
        verify_body(key, node_id, later.content, swapped)
    with pytest.raises(BadSignature):
        verify_body(key, "mm", later.content, digest)  # another node cannot claim it


def test_paging_filters_manifest_and_versions(node: Node, client: TestClient) -> None:
    headers = _peer_headers(node)
    node.platform.agencies.add(OPERATOR, "TH-CCIB", "police", "TH", "police")
    ids = [report(node, f"+668123400{n:02d}") for n in range(6)]
    # Text beyond ASCII, and JSON's escapes, leave the node as the STIX body holds them.
    note = 'โทรแอบอ้างธนาคาร "KBank" \\ ការបោកប្រាស់'
    ids.append(report(node, "+66812340006", description=note))
    assert len(ids) == 7
    url = f"/taxii2/api/collections/{ALL}/objects/"
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 3}
    while True:
        response = client.get(url, params=params, headers=headers)
        assert response.headers["content-type"] == TAXII_MEDIA_TYPE
        page = response.json()
        seen += [o["id"] for o in page["objects"]]
        if not page["more"]:
            break
        params = {"limit": 3, "next": page["next"]}
    assert len(seen) == len(set(seen)) == 7
    assert note in [o.get("description") for o in page["objects"]]
    last = response.headers["X-TAXII-Date-Added-Last"]
    assert client.get(url, params={"added_after": last}, headers=headers).json()["objects"] == []
    one = client.get(url, params={"match[id]": seen[2]}, headers=headers).json()["objects"]
    assert [o["id"] for o in one] == [seen[2]]
    assert (
        client.get(url, params={"match[type]": "malware"}, headers=headers).json()["objects"] == []
    )
    manifest = client.get(f"/taxii2/api/collections/{ALL}/manifest/", headers=headers).json()
    # Pages list their objects in the order they were added, as the manifest does.
    assert [m["id"] for m in manifest["objects"]] == seen
    first_page = client.get(url, params={"limit": 3}, headers=headers)
    assert first_page.headers["X-TAXII-Date-Added-First"] == manifest["objects"][0]["date_added"]
    assert first_page.headers["X-TAXII-Date-Added-Last"] == manifest["objects"][2]["date_added"]
    version = manifest["objects"][4]["version"]
    by_version = client.get(url, params={"match[version]": version}, headers=headers).json()
    assert {o["modified"] for o in by_version["objects"]} == {version}
    assert seen[4] in [o["id"] for o in by_version["objects"]]
    never = "2001-01-01T00:00:00.000000Z"
    assert client.get(url, params={"match[version]": never}, headers=headers).json() == {
        "more": False,
        "objects": [],
    }
    versions = client.get(f"{url}{seen[0]}/versions/", headers=headers).json()
    assert versions["versions"] == [one_modified(client, url, seen[0], headers)]
    assert (
        client.get(
            f"{url}indicator--00000000-0000-4000-8000-000000000000/", headers=headers
        ).status_code
        == 404
    )


def one_modified(client: TestClient, url: str, stix_id: str, headers: dict[str, str]) -> str:
    envelope = client.get(f"{url}{stix_id}/", headers=headers).json()
    return str(envelope["objects"][0]["modified"])


class SigningBearer(requests.auth.AuthBase):
    """What a peer plugs into taxii2-client: its token, and its signature on what it posts."""

    def __init__(self, token: str, key: NodeKey, node: str) -> None:
        self.token, self.key, self.node = token, key, node

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        if r.body:
            body = r.body if isinstance(r.body, bytes) else r.body.encode()
            r.headers[SIGNATURE_HEADER] = self.key.sign(signed_message(self.node, body))
            r.headers[NODE_HEADER] = self.node
        return r


def test_taxii2_client_round_trip(sqlite_template: Path, tmp_path: Path) -> None:
    th = open_node(sqlite_template, tmp_path, "th", "TH", clock=ManualClock(START))
    kh = open_node(sqlite_template, tmp_path, "kh", "KH", clock=ManualClock(START))
    try:
        report(th, "+66812345678", tlp="GREEN")
        report(kh, "+85512345678")
        th.exchange.add_peer(
            OPERATOR, "kh", "http://kh.invalid", "fxt_x", kh.exchange.key.public_key
        )
        auth = SigningBearer(peer_token(th, kh), kh.exchange.key, "kh")
        with RealServer(th) as server:
            taxii = Server(f"{server.url}/taxii2/", auth=auth)
            assert taxii.title == "FraudX node th"
            root = taxii.default
            assert root is not None
            assert TAXII_MEDIA_TYPE in root.versions
            collections = {c.title: c for c in root.collections}
            assert "all" in collections
            assert "mekong" in collections
            assert "cn-mm-th" not in collections  # KH is not in the trilateral group
            envelope = collections["all"].get_objects()
            [obj] = envelope["objects"]
            assert obj["pattern"] == "[x-fraudx-phone:value = '+66812345678']"
            status = collections["all"].add_objects({"objects": _objects_of(kh)})
            assert status.status == "complete"
            assert status.success_count == 1
            assert len(imported(th)) == 1
            manifest = collections["all"].get_manifest()
            assert [m["id"] for m in manifest["objects"]] == [obj["id"]]
    finally:
        th.close()
        kh.close()


def _objects_of(node: Node) -> list[dict[str, Any]]:
    import orjson
    from sqlalchemy import select

    from fraudx.exchange.store import exchange_objects

    with node.platform.db.read() as session:
        return [orjson.loads(b) for b in session.execute(select(exchange_objects.c.body)).scalars()]


@pytest.mark.parametrize("accept", ["*/*", "application/taxii+json", TAXII_MEDIA_TYPE])
def test_accept_headers_taxii_clients_send(node: Node, client: TestClient, accept: str) -> None:
    headers = _peer_headers(node) | {"Accept": accept}
    assert client.get("/taxii2/api/", headers=headers).status_code == 200
