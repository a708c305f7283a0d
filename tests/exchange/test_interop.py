"""Bundles made by other tools: what can be mapped is imported, the rest is reported."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from fraudx.node import Node
from fraudx.platform.agencies.model import operator
from fraudx.registry.store import SearchFilter
from tests.exchange.conftest import OPERATOR

DATA = Path(__file__).parent / "data"


def _import(node: Node, name: str) -> tuple[int, dict[str, str]]:
    node.platform.agencies.add(OPERATOR, "TH-CCIB", "police", "TH", "police")
    acting = operator("test", node.platform.agencies.get(OPERATOR, "TH-CCIB"))
    bundle = json.loads((DATA / name).read_text())
    report, mapped = node.exchange.import_bundle(acting, bundle)
    return report.created, dict(mapped.unmapped)


def test_a_misp_event(node: Node) -> None:
    node.platform.clock.set(datetime(2026, 11, 25, tzinfo=UTC))  # type: ignore[attr-defined]
    created, unmapped = _import(node, "misp_event.json")
    assert created == 2
    stored = {
        (i.identifier.kind.value, i.identifier.value, i.tlp.value)
        for i in node.registry.export(OPERATOR, SearchFilter())
    }
    assert stored == {
        ("domain", "thai-profit-invest.example", "AMBER"),
        ("ip", "203.0.113.45", "AMBER"),
    }
    assert "one equality" in unmapped["indicator--a1b2c3d4-0000-4000-8000-000000000003"]
    assert (
        "file:hashes.MD5 is not an identifier kind"
        in unmapped["indicator--a1b2c3d4-0000-4000-8000-000000000004"]
    )
    assert "only indicators" in unmapped["observed-data--a1b2c3d4-0000-4000-8000-000000000005"]
    assert len(unmapped) == 4  # and the email address observable


def test_an_opencti_export(node: Node) -> None:
    node.platform.clock.set(datetime(2026, 11, 25, tzinfo=UTC))  # type: ignore[attr-defined]
    created, unmapped = _import(node, "opencti_export.json")
    assert created == 2
    stored = {
        (i.identifier.value, i.tlp.value, i.confidence, i.category)
        for i in node.registry.export(OPERATOR, SearchFilter())
    }
    assert stored == {
        ("+85512345679", "GREEN", 80, "scam_call"),
        ("https://kbank-refund.example/login", "AMBER", 75, "phishing_url"),
    }
    assert "expired" in unmapped["indicator--3f1c5e0a-1b2d-4c3e-8f4a-5b6c7d8e9f03"]
    assert "yara" in unmapped["indicator--3f1c5e0a-1b2d-4c3e-8f4a-5b6c7d8e9f04"]
    assert "value" in unmapped["indicator--3f1c5e0a-1b2d-4c3e-8f4a-5b6c7d8e9f05"]
    assert len(unmapped) == 3
