"""The exact command forms other tools depend on, and the two-person rule."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fraudx.cli import run
from fraudx.exchange.model import TAXII_MEDIA_TYPE, collection_id
from fraudx.exchange.policy import Policy
from fraudx.exchange.signing import NodeKey
from fraudx.node import Node
from fraudx.platform.agencies.model import Role
from fraudx.platform.errors import NotPermitted
from fraudx.registry.store import SearchFilter
from tests.conftest import bearer
from tests.exchange.conftest import OPERATOR, analyst


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("FRAUDX_DATABASE_URL", raising=False)
    monkeypatch.setenv("FRAUDX_HOME", str(tmp_path / "node"))
    monkeypatch.setenv("FRAUDX_NODE_ID", "th")
    return tmp_path / "node"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_node_and_peer_commands(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "node", "keygen")
    assert code == 0
    key = out.strip()
    assert stat.S_IMODE((home / "node_ed25519.key").stat().st_mode) == 0o600
    assert _run(capsys, "node", "keygen")[1].strip() == key  # kept, not replaced
    code, out, _ = _run(capsys, "node", "show-key")
    assert out == key + "\n"  # the public key alone on stdout
    other = NodeKey.generate().public_key
    code, out, err = _run(
        capsys, "peer", "add", "kh", "--url", "http://127.0.0.1:9", "--token", "fxt_secret",
        "--public-key", other, "--groups", "all,mekong",
    )  # fmt: skip
    assert code == 0, err
    code, out, _ = _run(capsys, "peer", "list")
    assert "kh" in out
    assert "all,mekong" in out
    assert "fxt_secret" not in out
    code, out, _ = _run(capsys, "peer", "sync", "kh")
    assert code == 1
    assert out.startswith("kh: error:")
    code, _, err = _run(
        capsys, "peer", "add", "kh", "--url", "ftp://x", "--token", "t", "--public-key", other
    )
    assert code == 1
    assert "url" in err
    assert _run(capsys, "peer", "remove", "kh")[0] == 0
    code, _, err = _run(capsys, "peer", "remove", "kh")
    assert code == 1
    assert "no peer kh" in err
    # The token was stored encrypted, never in clear.
    assert b"fxt_secret" not in (home / "fraudx.sqlite3").read_bytes()


def test_two_person_rule(node: Node, client: TestClient) -> None:
    node.exchange.policy = Policy(two_person_rule=True)
    node.platform.agencies.add(OPERATOR, "TH-CCIB", "police", "TH", "police")
    node.platform.agencies.add(OPERATOR, "KH-GCNP", "police", "KH", "police")
    peer = node.platform.tokens.create(OPERATOR, "KH-GCNP", Role.PEER.value).secret
    author = analyst(node)
    indicator, _ = node.registry.submit(
        author, {"kind": "phone", "value": "+66812345678", "category": "scam_call"}
    )
    node.exchange.publish_all()
    url = f"/taxii2/api/collections/{collection_id('all')}/objects/"
    headers = bearer(peer) | {"Accept": TAXII_MEDIA_TYPE}
    assert client.get(url, headers=headers).json()["objects"] == []
    with pytest.raises(NotPermitted, match="second analyst"):
        node.exchange.approve(author, indicator.id)
    node.exchange.approve(analyst(node), indicator.id)
    assert len(client.get(url, headers=headers).json()["objects"]) == 1


def test_federation_demo_sets_up_six_peered_nodes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("FRAUDX_DATABASE_URL", raising=False)
    code = run(["demo", "--federation", "--no-serve", "--home", str(tmp_path), "--port", "18700"])
    assert code == 0
    printed = capsys.readouterr().err
    assert "http://127.0.0.1:18704/api/v1/lookup" in printed  # the Thai node
    assert '"countries": ["KH"]' in printed  # what the Thai bank's look-up answers
    assert "KH-GCNP" in printed  # the lead agencies of `fraudx demo`
    from fraudx.exchange.demo import COUNTRIES, _settings

    for country in COUNTRIES:
        node = Node.open(_settings(tmp_path / "federation", country))
        try:
            peers = node.exchange.list_peers(OPERATOR)
            assert len(peers) == 5
            assert country.lower() not in {p.name for p in peers}
            assert len(list(node.registry.export(OPERATOR, SearchFilter()))) == 5
            lao = node.platform.agencies.get(OPERATOR, "LA-MOPS")
            assert lao.name == "Ministry of Public Security"
        finally:
            node.close()
