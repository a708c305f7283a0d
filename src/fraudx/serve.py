"""``fraudx serve``: one process with the HTTP API (and, as they arrive, background tasks)."""

from __future__ import annotations

import gc
import logging
import socket
import time

import typer
import uvicorn
from uvicorn.logging import DefaultFormatter

from fraudx.app import create_app
from fraudx.node import Node
from fraudx.platform.console import err
from fraudx.platform.errors import ConfigurationError
from fraudx.platform.settings import Settings


def check_port_free(host: str, port: int) -> None:
    """Fail with one clear line instead of a server start-up stack when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigurationError(
                f"cannot listen on {host}:{port} ({exc.strerror}); choose another --port"
            ) from None


def run_node(node: Node, host: str, port: int, log_level: str = "info") -> None:
    check_port_free(host, port)
    started = time.perf_counter()
    with err.status("building the look-up index …"):
        count = node.index.build()
    err.print(f"indexed {count:,} active reports in {time.perf_counter() - started:.1f} s")
    # What exists now lives as long as the node: keep the collector from walking it on
    # every cycle (look-ups make many short-lived objects and trigger cycles often).
    gc.collect()
    gc.freeze()
    app = create_app(node=node)
    _log_beside_uvicorn(log_level)
    config = uvicorn.Config(
        app, host=host, port=port, log_level=log_level, access_log=False, server_header=False
    )
    uvicorn.Server(config).run()


def _log_beside_uvicorn(level: str) -> None:
    """The node's own log lines (what each peer sync brought, failures and retries) on
    stderr at the server's level, written as uvicorn writes its own."""
    logger = logging.getLogger("fraudx")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(DefaultFormatter("%(levelprefix)s %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(level.upper())


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="TCP port to listen on.", min=1, max=65535),
    log_level: str = typer.Option("info", "--log-level", help="debug, info, warning or error."),
) -> None:
    """Run the node: HTTP API and background tasks in one process."""
    settings = Settings()
    node = Node.open(settings)
    try:
        state = node.platform.ensure_schema()
        err.print(
            f"FraudX node {settings.node_id} ({settings.country}) on "
            f"{node.platform.db.url.render_as_string(hide_password=True)}, schema {state.current}"
        )
        err.print(f"API on http://{host}:{port}/api/v1, docs at http://{host}:{port}/docs")
        run_node(node, host, port, log_level)
    finally:
        node.close()
