"""Three nodes over real ports, each with its background sync: an indicator crosses."""

from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path

from tests.exchange.conftest import OPERATOR, RealServer, imported, open_node, peer_token, report


def _wait(check: object, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_three_nodes_over_real_ports(sqlite_template: Path, tmp_path: Path) -> None:
    nodes = {c: open_node(sqlite_template, tmp_path, c.lower(), c) for c in ("KH", "TH", "MM")}
    try:
        with ExitStack() as stack:
            servers = {c: stack.enter_context(RealServer(n)) for c, n in nodes.items()}
            for c, client in nodes.items():
                for s, server in nodes.items():
                    if s != c:
                        client.exchange.add_peer(
                            OPERATOR,
                            s.lower(),
                            servers[s].url,
                            peer_token(server, client),
                            server.exchange.key.public_key,
                        )
            kh_report = report(nodes["KH"], "+85512345678")
            trilateral = report(nodes["MM"], "+959791234567", tags=["group:cn-mm-th"])
            strict = report(nodes["TH"], "+66812345678", tlp="AMBER+STRICT")
            report(nodes["TH"], "+66812345679", tlp="RED")

            def crossed() -> bool:
                return (
                    ("kh", kh_report) in imported(nodes["TH"])
                    and ("kh", kh_report) in imported(nodes["MM"])
                    and ("mm", trilateral) in imported(nodes["TH"])
                    and ("th", strict) in imported(nodes["MM"])
                    and ("th", strict) in imported(nodes["KH"])
                )

            _wait(crossed)
            # The trilateral report never reaches Cambodia; TH's RED never leaves.
            assert set(imported(nodes["KH"])) == {("th", strict)}
            assert set(imported(nodes["MM"])) == {("kh", kh_report), ("th", strict)}
            assert set(imported(nodes["TH"])) == {("kh", kh_report), ("mm", trilateral)}
    finally:
        for node in nodes.values():
            node.close()
