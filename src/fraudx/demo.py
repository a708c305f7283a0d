"""``fraudx demo``: a node on SQLite with the region's agencies and a token for each role."""

from __future__ import annotations

import os
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import typer

from fraudx.node import Node
from fraudx.platform.agencies.model import AgencyKind, Role, operator
from fraudx.platform.console import err
from fraudx.platform.errors import Conflict
from fraudx.platform.settings import Settings

# The six Lancang-Mekong countries' lead agencies, a bank and a telco in each, the regional
# coordination centre and an observer. Names are the real institutions' public names.
DEMO_AGENCIES: list[tuple[str, str, str, AgencyKind]] = [
    (
        "CN-MPS",
        "Ministry of Public Security, Criminal Investigation Department",
        "CN",
        AgencyKind.POLICE,
    ),
    ("CN-ICBC", "Industrial and Commercial Bank of China", "CN", AgencyKind.BANK),
    ("CN-CMCC", "China Mobile", "CN", AgencyKind.TELCO),
    ("KH-GCNP", "General Commissariat of National Police", "KH", AgencyKind.POLICE),
    ("KH-ABA", "ABA Bank", "KH", AgencyKind.BANK),
    ("KH-SMART", "Smart Axiata", "KH", AgencyKind.TELCO),
    ("LA-MOPS", "Ministry of Public Security", "LA", AgencyKind.POLICE),
    ("LA-BCEL", "Banque pour le Commerce Exterieur Lao", "LA", AgencyKind.BANK),
    ("LA-LTC", "Lao Telecom", "LA", AgencyKind.TELCO),
    ("MM-MPF", "Myanmar Police Force", "MM", AgencyKind.POLICE),
    ("MM-KBZ", "Kanbawza Bank", "MM", AgencyKind.BANK),
    ("MM-MPT", "Myanma Posts and Telecommunications", "MM", AgencyKind.TELCO),
    ("TH-CCIB", "Cyber Crime Investigation Bureau", "TH", AgencyKind.POLICE),
    (
        "TH-NBTC",
        "National Broadcasting and Telecommunications Commission",
        "TH",
        AgencyKind.REGULATOR,
    ),
    ("TH-KBANK", "Kasikornbank", "TH", AgencyKind.BANK),
    ("TH-AIS", "Advanced Info Service", "TH", AgencyKind.TELCO),
    (
        "VN-MPS",
        "Ministry of Public Security, Department of Cyber Security (A05)",
        "VN",
        AgencyKind.POLICE,
    ),
    ("VN-VCB", "Vietcombank", "VN", AgencyKind.BANK),
    ("VN-VIETTEL", "Viettel", "VN", AgencyKind.TELCO),
    (
        "CN-LMLECC",
        "Lancang-Mekong Law Enforcement Cooperation Centre",
        "CN",
        AgencyKind.COORDINATION,
    ),
    (
        "TH-UNODC",
        "UNODC Regional Office for Southeast Asia and the Pacific",
        "TH",
        AgencyKind.OBSERVER,
    ),
]

#: Which agency's token shows each role.
DEMO_TOKENS: list[tuple[Role, str]] = [
    (Role.ADMIN, "TH-CCIB"),
    (Role.ANALYST, "TH-CCIB"),
    (Role.LIAISON, "TH-CCIB"),
    (Role.PARTNER, "TH-KBANK"),
    (Role.OBSERVER, "TH-UNODC"),
]


@dataclass(frozen=True, slots=True)
class DemoToken:
    role: Role
    agency: str
    secret: str


def seed(node: Node) -> list[DemoToken]:
    """Register the demo agencies (once) and issue fresh demo tokens, revoking old ones.

    Tokens are stored hashed, so earlier ones cannot be shown again: each run issues new.
    """
    platform = node.platform
    admin = operator("demo")
    for code, name, country, kind in DEMO_AGENCIES:
        with suppress(Conflict):  # already registered by an earlier run
            platform.agencies.add(admin, code, name, country, kind.value)
    for token in platform.tokens.list(admin):
        if token.name.startswith("demo ") and token.active:
            platform.tokens.revoke(admin, token.id)
    issued = []
    for role, agency in DEMO_TOKENS:
        new = platform.tokens.create(admin, agency, role.value, f"demo {role.value}")
        issued.append(DemoToken(role, agency, new.secret))
    return issued


def load_region(node: Node, home: Path) -> int:
    """Load the simulated region's known indicators once (generated on the first run).

    Returns how many indicators the registry holds afterwards."""
    from fraudx.sim import Scale, ensure_region, load

    registry, admin = node.registry, operator("demo")
    if not node.registry.stats(admin):
        with err.status("generating the simulated region (first run only) …"):
            region = ensure_region(home / "region", scale=Scale.DEMO)
        with err.status("loading what each country's police know …"):
            load(node, region)
    return sum(row[4] for row in registry.stats(admin))


def sample_listed(node: Node, kind: str) -> str | None:
    """An identifier of ``kind`` that a bank may see listed, to show in the hints."""
    admin = operator("demo")
    page = node.registry.search(
        admin, node.registry.search_filter(kind=kind, status="active"), limit=50
    )
    for indicator in page.items:
        if indicator.tlp.value in ("CLEAR", "GREEN", "AMBER"):
            return indicator.identifier.value
    return None


def demo(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="TCP port to listen on.", min=1, max=65535),
    home: Path = typer.Option(
        Path(".fraudx/demo"), "--home", help="Where the demo node keeps its SQLite database."
    ),
    no_serve: bool = typer.Option(False, "--no-serve", help="Seed and print tokens, then exit."),
    federation: bool = typer.Option(
        False, "--federation", help="Six peered nodes (CN KH LA MM TH VN) on consecutive ports."
    ),
) -> None:
    """Start a demo node on SQLite with realistic data and print how to log in."""
    from fraudx.serve import check_port_free, run_node

    if federation:
        from fraudx.exchange.demo import run_federation

        for offset in range(6 if not no_serve else 0):
            check_port_free(host, port + offset)
        run_federation(host, port, home, no_serve)
        return

    if not no_serve:
        check_port_free(host, port)
    os.environ.setdefault("FRAUDX_NODE_ID", "demo-th")
    os.environ.setdefault("FRAUDX_COUNTRY", "TH")
    os.environ.setdefault("FRAUDX_TIMEZONE", "Asia/Bangkok")
    settings = Settings(home=home, database_url=os.environ.get("FRAUDX_DATABASE_URL"))
    node = Node.open(settings)
    try:
        # The demo's database is its own: a newer FraudX carries it forward.
        node.platform.ensure_schema(upgrade_outdated=True)
        tokens = seed(node)
        indicators = load_region(node, home)
        base = f"http://{host}:{port}"
        err.print(f"\n[bold]FraudX demo node[/] {settings.node_id} — data in {home}/")
        err.print(f"  API docs:  {base}/docs")
        err.print(f"  Health:    {base}/healthz")
        err.print(
            f"  Data:      {indicators:,} indicators reported by the six countries' police "
            f"(simulated region in {home}/region/)\n"
        )
        err.print("  Tokens (shown once; send as 'Authorization: Bearer <token>'):")
        for t in tokens:
            err.print(f"    {t.role.value:<9} {t.agency:<10} {t.secret}", markup=False)
        analyst = next(t for t in tokens if t.role is Role.ANALYST)
        partner = next(t for t in tokens if t.role is Role.PARTNER)
        err.print("\n  Try:", markup=False)
        account = sample_listed(node, "bank_account")
        if account:
            err.print(
                f"    curl -s -H 'Authorization: Bearer {partner.secret}' "
                f"'{base}/api/v1/lookup?kind=bank_account&value={account}'",
                markup=False,
            )
        err.print(
            f"    curl -s -H 'Authorization: Bearer {analyst.secret}' {base}/api/v1/me",
            markup=False,
        )
        err.print(
            f"    curl -s -H 'Authorization: Bearer {analyst.secret}' {base}/api/v1/agencies\n",
            markup=False,
        )
        if not no_serve:
            run_node(node, host, port)
    finally:
        node.close()
