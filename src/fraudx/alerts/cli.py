"""Command line: subscribe, list, tail and redeliver alerts; upload watchlists.

These act on a running node through its API (``--url``, token in FRAUDX_TOKEN), as the
agency that owns the token: alerts are an agency's, and so is the token.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from fraudx.platform.console import err, out
from fraudx.platform.errors import ConfigurationError, FraudXError

alerts_app = typer.Typer(help="Alerts: subscribe, list, tail, redeliver.", no_args_is_help=True)
watchlist_app = typer.Typer(help="Watchlists: identifiers your agency cares about.")

Url = Annotated[
    str,
    typer.Option("--url", help="The node (token in FRAUDX_TOKEN).", envvar="FRAUDX_URL"),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a summary.")]
Many = Annotated[list[str] | None, typer.Option()]


class RemoteError(FraudXError):
    """The node answered with a problem document; its detail is the message."""


def _client(url: str, read_timeout: float = 30.0) -> httpx.Client:
    token = os.environ.get("FRAUDX_TOKEN", "").strip()
    if not token:
        raise ConfigurationError("FRAUDX_TOKEN: set it to an API token of your agency")
    return httpx.Client(
        base_url=url.rstrip("/") + "/api/v1",
        headers={"Authorization": f"Bearer {token}"},
        timeout=httpx.Timeout(30.0, read=read_timeout),
    )


def _call(url: str, method: str, path: str, **kwargs: Any) -> Any:
    with _client(url) as http:
        try:
            response = http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise RemoteError(f"cannot reach {url}: {exc}") from None
    if not response.is_success:
        try:
            detail = response.json().get("detail") or response.reason_phrase
        except ValueError:
            detail = response.text[:200]
        raise RemoteError(f"{response.status_code}: {detail}")
    return response.json() if response.content else None


def _print_json(body: Any) -> None:
    out.print(json.dumps(body, ensure_ascii=False, indent=2), markup=False)


def _line(alert: dict[str, Any]) -> str:
    title = alert.get("alert", {}).get("title", "")
    ack = " (acked)" if alert.get("acked_at") else ""
    return f"{alert['seq']:>6}  {alert['created'][:19]}  {alert['rule']:<16} {title}{ack}"


@alerts_app.command("subscribe")
def subscribe(
    kind: Many = None,
    category: Many = None,
    country: Many = None,
    tag: Many = None,
    bank_code: Annotated[list[str] | None, typer.Option(help="e.g. TH:004")] = None,
    phone_prefix: Annotated[list[str] | None, typer.Option(help="e.g. +6681")] = None,
    channel: Annotated[str, typer.Option(help="inbox, sse, webhook or nats")] = "inbox",
    webhook: Annotated[str | None, typer.Option(help="Webhook URL.")] = None,
    secret: Annotated[
        str | None, typer.Option(help="Webhook secret.", envvar="FRAUDX_WEBHOOK_SECRET")
    ] = None,
    subject: Annotated[str | None, typer.Option(help="NATS subject, fraudx.alerts.…")] = None,
    url: Url = "http://127.0.0.1:8000",
    as_json: AsJson = False,
) -> None:
    """Subscribe your agency to new reports (options repeat; none matches everything)."""
    body = {
        "filters": {
            "kinds": kind or [],
            "categories": category or [],
            "countries": country or [],
            "tags": tag or [],
            "bank_codes": bank_code or [],
            "phone_prefixes": phone_prefix or [],
        },
        "channel": {"type": channel, "url": webhook, "secret": secret, "subject": subject},
    }
    created = _call(url, "POST", "/subscriptions", json=body)
    if as_json:
        _print_json(created)
    else:
        out.print(created["id"], markup=False)
        err.print(f"subscribed by {created['channel']['type']}")


@alerts_app.command("list")
def list_alerts(
    unacked: Annotated[
        bool, typer.Option("--unacked", help="Only alerts not acknowledged.")
    ] = False,
    after: Annotated[int, typer.Option(help="Alerts after this seq.")] = 0,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    subscriptions: Annotated[
        bool, typer.Option("--subscriptions", help="List subscriptions instead.")
    ] = False,
    url: Url = "http://127.0.0.1:8000",
    as_json: AsJson = False,
) -> None:
    """List your agency's alerts (or, with --subscriptions, its subscriptions)."""
    if subscriptions:
        subs = _call(url, "GET", "/subscriptions")["items"]
        if as_json:
            _print_json(subs)
        for sub in [] if as_json else subs:
            filters = {k: v for k, v in sub["filters"].items() if v} or "everything"
            out.print(f"{sub['id']}  {sub['channel']['type']:<8} {filters}", markup=False)
        return
    params = {"after": after, "limit": limit, "unacked": unacked}
    page = _call(url, "GET", "/alerts", params=params)
    if as_json:
        _print_json(page)
        return
    for alert in page["items"]:
        out.print(_line(alert), markup=False)


@alerts_app.command("tail")
def tail(
    after: Annotated[int | None, typer.Option(help="Start after this seq (default: now).")] = None,
    url: Url = "http://127.0.0.1:8000",
    as_json: AsJson = False,
) -> None:
    """Follow your agency's alerts as they are raised (server-sent events); resumes after
    a dropped connection from the last alert seen."""
    if after is None:  # start from now: the newest alert's seq
        last = 0
        while page := _call(url, "GET", "/alerts", params={"after": last, "limit": 1000})["items"]:
            last = page[-1]["seq"]
        after = last
    while True:
        try:
            with (
                _client(url, read_timeout=60.0) as http,
                http.stream(
                    "GET", "/alerts/stream", headers={"Last-Event-ID": str(after)}
                ) as response,
            ):
                if not response.is_success:
                    raise RemoteError(f"{response.status_code}: {response.read()[:200]!r}")
                for line in response.iter_lines():
                    if line.startswith("data:"):
                        alert = json.loads(line[5:])
                        after = alert["seq"]
                        if as_json:
                            out.print(json.dumps(alert, ensure_ascii=False), markup=False)
                        else:
                            out.print(_line(alert), markup=False)
        except httpx.HTTPError as exc:
            err.print(f"stream interrupted ({exc}); resuming after {after}")


@alerts_app.command("redeliver")
def redeliver(
    delivery_id: Annotated[str, typer.Argument(help="The delivery (X-FraudX-Delivery).")],
    url: Url = "http://127.0.0.1:8000",
) -> None:
    """Send a delivery again (a dead letter, or one your receiver lost)."""
    row = _call(url, "POST", f"/deliveries/{delivery_id}/redeliver")
    out.print(f"{row['id']} {row['status']}", markup=False)


@watchlist_app.command("upload")
def upload(
    file: Annotated[Path, typer.Argument(help="CSV: kind,value[,region] per line.")],
    name: Annotated[str, typer.Option(help="The list to create or replace.")] = "default",
    url: Url = "http://127.0.0.1:8000",
) -> None:
    """Create or replace one of your agency's watchlists from a CSV file."""
    if not file.is_file():
        raise ConfigurationError(f"{file}: no such file")
    result = _call(
        url,
        "POST",
        "/watchlists",
        params={"name": name},
        content=file.read_bytes(),
        headers={"Content-Type": "text/csv"},
    )
    out.print(f"{result['name']}: {result['items']} identifiers watched", markup=False)
