"""What the alerts tests share: a signing webhook receiver on loopback, small shortcuts."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fraudx.alerts.receiver import InvalidSignature, verify
from fraudx.alerts.store import AlertRow
from fraudx.node import Node

SECRET = "s3cret-for-tests-only-1234"
ACCOUNT = {"kind": "bank_account", "value": "TH:KBANK:123-4-56789-0", "category": "mule_account"}
KEY = "bank_account:TH:004:1234567890"


def alerts_of(node: Node, agency: str) -> list[AlertRow]:
    from fraudx.platform.agencies.model import AgencyKind, Principal, Role

    who = Principal(Role.ANALYST, agency, AgencyKind.POLICE, "TH", "test")
    return node.alerts.alerts(who, 0, 1000)


def run_rules(node: Node) -> int:
    node.recorder.flush()
    total = 0
    while n := node.alerts.engine.process_once():
        total += n
    return total


class Receiver:
    """A webhook receiver that checks every request as the README tells receivers to."""

    def __init__(self, secret: str = SECRET, delay: float = 0.0) -> None:
        self.secret = secret
        self.delay = delay
        self.statuses: list[int] = []  # answers to give first (then 200)
        self.received: list[tuple[str, dict[str, Any], float]] = []
        self.refused: list[str] = []
        self.lock = threading.Lock()
        self.gate: threading.Event | None = None  # when set up, requests wait for it
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if receiver.delay:
                    time.sleep(receiver.delay)
                if receiver.gate is not None:
                    receiver.gate.wait(20)
                try:
                    delivery = verify(receiver.secret, dict(self.headers.items()), body)
                except InvalidSignature as exc:
                    with receiver.lock:
                        receiver.refused.append(str(exc))
                    self.send_response(401)
                    self.end_headers()
                    return
                with receiver.lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    if status == 200:
                        receiver.received.append((delivery, json.loads(body), time.monotonic()))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def alert_ids(self) -> list[str]:
        with self.lock:
            return [body["id"] for _, body, _ in self.received]
