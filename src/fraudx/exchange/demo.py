"""``fraudx demo --federation``: six nodes (CN, KH, LA, MM, TH, VN) on consecutive ports,
each with its own database, seeded, peered with every other and syncing."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from fraudx.demo import DEMO_AGENCIES
from fraudx.identifiers import parse
from fraudx.node import Node
from fraudx.platform.agencies.model import AgencyKind, Role, operator
from fraudx.platform.console import err
from fraudx.platform.errors import FraudXError
from fraudx.platform.settings import Settings

COUNTRIES = ("CN", "KH", "LA", "MM", "TH", "VN")


def _first_of_kind(kind: AgencyKind) -> dict[str, str]:
    """Each country's first agency of ``kind`` in ``fraudx demo``'s one list of agencies."""
    found: dict[str, str] = {}
    for code, _name, country, agency_kind in DEMO_AGENCIES:
        if agency_kind is kind:
            found.setdefault(country, code)
    return found


#: Each country's lead agency (the one its peer tokens are made for) and a bank in it.
LEAD = _first_of_kind(AgencyKind.POLICE)
BANK = _first_of_kind(AgencyKind.BANK)
NAMES = {code: name for code, name, _country, _kind in DEMO_AGENCIES}
#: A mobile prefix per country, for the seeded scam-call numbers.
MOBILE = {
    "CN": "+861380013",
    "KH": "+8551220",
    "LA": "+856205512",
    "MM": "+95979123",
    "TH": "+6681230",
    "VN": "+8490123",
}
ADMIN = operator("demo")


def _settings(home: Path, country: str) -> Settings:
    return Settings(
        home=home / country.lower(),
        database_url=f"sqlite:///{(home / country.lower() / 'fraudx.sqlite3').resolve()}",
        node_id=country.lower(),
        country=country,
    )


def _seed(node: Node, country: str) -> dict[str, str]:
    """Agencies of every country, a few reports, and tokens to show."""
    platform = node.platform
    for c in COUNTRIES:
        platform.agencies.add(ADMIN, LEAD[c], NAMES[LEAD[c]], c, "police")
    platform.agencies.add(ADMIN, BANK[country], NAMES[BANK[country]], country, "bank")
    analyst = platform.tokens.create(ADMIN, LEAD[country], Role.ANALYST.value).secret
    reporter = platform.tokens.authenticate(analyst)
    for n in range(5):
        value = f"{MOBILE[country]}{n:04d}"
        try:
            parse("phone", value)
        except FraudXError:
            continue
        body = {"kind": "phone", "value": value, "category": "scam_call", "confidence": 70}
        node.registry.submit(reporter, body)
    partner = platform.tokens.create(ADMIN, BANK[country], Role.PARTNER.value).secret
    return {"analyst": analyst, "partner": partner}


def run_federation(host: str, port: int, home: Path, no_serve: bool) -> None:
    root = home / "federation"
    shutil.rmtree(root, ignore_errors=True)  # a fresh region each time: tokens are shown once
    urls = {c: f"http://{host}:{port + i}" for i, c in enumerate(COUNTRIES)}
    nodes = {c: Node.open(_settings(root, c)) for c in COUNTRIES}
    tokens: dict[str, dict[str, str]] = {}
    try:
        for c, node in nodes.items():
            node.platform.ensure_schema()
            tokens[c] = _seed(node, c)
        for c, node in nodes.items():
            for other, server in nodes.items():
                if other == c:
                    continue
                secret = server.platform.tokens.create(ADMIN, LEAD[c], Role.PEER.value).secret
                node.exchange.add_peer(
                    ADMIN, other.lower(), urls[other], secret, server.exchange.key.public_key
                )
    finally:
        for node in nodes.values():
            node.close()
    err.print(f"\n[bold]FraudX federation demo[/]: six nodes, data in {root}/")
    for c in COUNTRIES:
        err.print(f"  {c}  {urls[c]}/docs   TAXII {urls[c]}/taxii2/", markup=False)
    kh, th = tokens["KH"], tokens["TH"]
    value = "+85512345678"
    err.print("\n  Watch an indicator cross a border (Cambodia reports, a Thai bank looks up):")
    err.print(
        f"    curl -s -X POST -H 'Authorization: Bearer {kh['analyst']}' "
        f"-H 'Content-Type: application/json' {urls['KH']}/api/v1/indicators "
        f'-d \'{{"kind":"phone","value":"{value}","category":"scam_call"}}\'',
        markup=False,
    )
    err.print(
        f"    curl -s -H 'Authorization: Bearer {th['partner']}' "
        f"'{urls['TH']}/api/v1/lookup?kind=phone&value=%2B85512345678'",
        markup=False,
    )
    err.print(
        '  (within about a second the Thai bank sees it listed, "countries": ["KH"]; a partner '
        f"is not told which agency reported it, {LEAD['KH']})\n",
        markup=False,
    )
    err.print("  Per node: FRAUDX_HOME=<dir> fraudx peer list   shows each peer's last sync.\n")
    if no_serve:
        return
    processes = []

    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        for c in COUNTRIES:
            env = os.environ | {
                "FRAUDX_HOME": str(root / c.lower()),
                "FRAUDX_NODE_ID": c.lower(),
                "FRAUDX_COUNTRY": c,
            }
            env.pop("FRAUDX_DATABASE_URL", None)
            argv = [sys.executable, "-m", "fraudx", "serve", "--host", host]
            argv += ["--port", str(port + COUNTRIES.index(c)), "--log-level", "warning"]
            processes.append(subprocess.Popen(argv, env=env))  # noqa: S603  (our own command)
        for c in COUNTRIES:
            _wait(urls[c])
        err.print("  All six nodes are up and syncing. Ctrl-C stops them.")
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for p in processes:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in processes:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def _wait(url: str) -> None:
    for _ in range(200):
        try:
            httpx.get(url + "/healthz", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
