"""Command line: the node's key pair, its peers, one sync now, approvals.

Other tools depend on these exact forms: ``fraudx node keygen``, ``fraudx node show-key``
(the public key alone on stdout), ``fraudx peer add NAME --url URL --token TOKEN
--public-key KEY [--groups G1,G2]``, ``fraudx peer list``, ``fraudx peer remove NAME``,
``fraudx peer sync [NAME]``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.table import Table

from fraudx.exchange.signing import NodeKey, key_path
from fraudx.exchange.sync import Syncer
from fraudx.node import Node
from fraudx.platform.agencies.model import operator
from fraudx.platform.console import err, local_operator, out
from fraudx.platform.errors import InvalidInput
from fraudx.platform.settings import Settings

node_app = typer.Typer(
    help="This node's identity between nodes (Ed25519 keys).", no_args_is_help=True
)
peer_app = typer.Typer(help="Peer nodes this node exchanges indicators with.", no_args_is_help=True)
stix_app = typer.Typer(
    help="STIX 2.1 bundles from other tools (MISP, OpenCTI).", no_args_is_help=True
)


@contextmanager
def open_node() -> Iterator[Node]:
    node = Node.open(Settings())
    try:
        node.platform.ensure_schema()
        yield node
    finally:
        node.close()


@node_app.command("keygen")
def keygen() -> None:
    """Create the node's key pair if absent (private key 0600 in FRAUDX_HOME)."""
    home = Settings().home
    key, created = NodeKey.ensure(home)
    where = key_path(home)
    err.print(f"{'created' if created else 'kept the existing'} key pair in {where}")
    print(key.public_key)


@node_app.command("show-key")
def show_key() -> None:
    """Print the node's public key alone (what peers give to `fraudx peer add`)."""
    print(NodeKey.load(Settings().home).public_key)


@peer_app.command("add")
def add_peer(
    name: str = typer.Argument(..., help="A local name for the peer, e.g. kh."),
    url: str = typer.Option(..., "--url", help="The peer's base URL, e.g. https://fraudx.kh."),
    token: str = typer.Option(..., "--token", help="The peer token the peer made for us."),
    public_key: str = typer.Option(..., "--public-key", help="The peer's `node show-key`."),
    groups: str | None = typer.Option(
        None, "--groups", help="Only these sharing groups (comma-separated); default all."
    ),
) -> None:
    """Add a peer: the next sync pulls from it."""
    with open_node() as node:
        group_list = [g for g in (groups or "").split(",") if g.strip()] or None
        peer = node.exchange.add_peer(local_operator(), name, url, token, public_key, group_list)
    out.print(f"added peer {peer.name} at {peer.url}")


@peer_app.command("list")
def list_peers() -> None:
    """List peers, when each last synced and its last error."""
    with open_node() as node:
        peers = node.exchange.list_peers(local_operator())
    table = Table("name", "url", "node", "groups", "last sync", "last error")
    for p in peers:
        table.add_row(
            p.name,
            p.url,
            p.node_id or "-",
            ",".join(p.groups) if p.groups else "all",
            f"{p.last_sync_at:%Y-%m-%d %H:%M:%S}" if p.last_sync_at else "-",
            p.last_error or "-",
        )
    out.print(table)


@peer_app.command("remove")
def remove_peer(name: str = typer.Argument(..., help="The peer's local name.")) -> None:
    """Stop exchanging with a peer (what it sent stays, with its origin)."""
    with open_node() as node:
        node.exchange.remove_peer(local_operator(), name)
    out.print(f"removed peer {name}")


@peer_app.command("sync")
def sync(name: str | None = typer.Argument(None, help="One peer; default every peer.")) -> None:
    """Pull from peers once now and print what came."""
    with open_node() as node:
        node.exchange.publish_all()
        syncer = Syncer(node.exchange)
        peers = [node.exchange.get_peer(local_operator(), name)] if name else syncer.peers()
        failed = False
        for peer in peers:
            result = syncer.sync(peer)
            out.print(result.line(), markup=False)
            for stix_id, reason in result.refused[:20]:
                err.print(f"  refused {stix_id}: {reason}", markup=False)
            failed = failed or result.error is not None
    if failed:
        raise typer.Exit(1)


@peer_app.command("approve")
def approve(indicator_id: str = typer.Argument(..., help="The report to let leave.")) -> None:
    """Two-person rule: approve one of this node's reports for peers."""
    with open_node() as node:
        node.exchange.approve(local_operator(), indicator_id)
    out.print(f"approved {indicator_id} for peers")


@stix_app.command("import")
def import_bundle(
    path: Path = typer.Argument(
        ..., help="A STIX 2.1 bundle (JSON), e.g. a MISP or OpenCTI export."
    ),
    agency: str = typer.Option(..., "--agency", help="Report them as this agency (e.g. TH-CCIB)."),
    category: str | None = typer.Option(
        None, "--category", help="One category for all (default: by identifier kind)."
    ),
) -> None:
    """Import what can be mapped; list what cannot, with the reason."""
    try:
        bundle = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput("path", f"{path}: {exc}") from None
    with open_node() as node:
        me = local_operator()
        acting = operator(me.actor.removeprefix("cli:"), node.platform.agencies.get(me, agency))
        report, mapped = node.exchange.import_bundle(acting, bundle, category)
    out.print(
        f"imported {report.accepted} (new {report.created}, updated {report.updated}); "
        f"not mapped {len(mapped.unmapped)}"
    )
    for stix_id, reason in mapped.unmapped:
        err.print(f"  {stix_id}: {reason}", markup=False)
