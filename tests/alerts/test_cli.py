"""The alerts command line against a running node."""

from __future__ import annotations

from pathlib import Path

import pytest

from fraudx.cli import run
from fraudx.node import Node
from fraudx.platform.agencies.model import Role
from tests.alerts.helpers import ACCOUNT, run_rules
from tests.alerts.test_api import server  # noqa: F401  (the fixture)
from tests.conftest import Agencies


def test_subscribe_list_upload_redeliver(
    server: str,  # noqa: F811
    node: Node,
    agencies: Agencies,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("FRAUDX_URL", server)
    monkeypatch.setenv("FRAUDX_TOKEN", agencies.token("TH-KBANK", Role.PARTNER))
    assert run(["alerts", "subscribe", "--bank-code", "TH:004", "--kind", "bank_account"]) == 0
    sub_id = capsys.readouterr().out.strip()
    assert run(["alerts", "list", "--subscriptions"]) == 0
    listed = capsys.readouterr().out
    assert sub_id in listed
    assert "TH:004" in listed

    watch = tmp_path / "payees.csv"
    watch.write_text("kind,value\nbank_account,KASITHBK:1234567890\n")
    assert run(["watchlist", "upload", str(watch), "--name", "payees"]) == 0
    assert "payees: 1 identifiers watched" in capsys.readouterr().out

    node.registry.submit(agencies.principal("TH-CCIB", Role.ANALYST), ACCOUNT)
    run_rules(node)
    assert run(["alerts", "list"]) == 0
    assert "watchlist_hit" in capsys.readouterr().out

    assert run(["alerts", "redeliver", "0190b000-0000-7000-8000-000000000000"]) == 1
    assert "404" in capsys.readouterr().err
    assert run(["alerts", "subscribe", "--channel", "pigeon"]) == 1
    assert "channel.type" in capsys.readouterr().err
