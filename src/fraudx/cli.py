"""Assembles the command line from each package's commands.

Errors end as one clear line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import sys

import click
import typer
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError, ProgrammingError

from fraudx import __version__
from fraudx.alerts.cli import alerts_app, watchlist_app
from fraudx.demo import demo
from fraudx.exchange.cli import node_app, peer_app, stix_app
from fraudx.platform.agencies.cli import agency_app, token_app
from fraudx.platform.audit.cli import audit_app
from fraudx.platform.cli import db_app
from fraudx.platform.console import err
from fraudx.platform.errors import FraudXError
from fraudx.registry.cli import indicator_app, lookup
from fraudx.serve import serve
from fraudx.sim.cli import simulate_app

app = typer.Typer(
    name="fraudx",
    help="FraudX: the cross-border fraud intelligence exchange. "
    "Configure with FRAUDX_* environment variables (see README).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("serve")(serve)
app.command("demo")(demo)
app.add_typer(db_app, name="db")
app.add_typer(agency_app, name="agency")
app.add_typer(token_app, name="token")
app.add_typer(audit_app, name="audit")
app.add_typer(indicator_app, name="indicator")
app.command("lookup")(lookup)
app.add_typer(simulate_app, name="simulate")
app.add_typer(alerts_app, name="alerts")
app.add_typer(watchlist_app, name="watchlist")
app.add_typer(node_app, name="node")
app.add_typer(peer_app, name="peer")
app.add_typer(stix_app, name="stix")


@app.callback(invoke_without_command=True)
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
) -> None:
    if version:
        print(__version__)
        raise typer.Exit()


# Typer may bring its own copy of Click: catch both its and Click's exceptions.
_EXITS = (click.exceptions.Exit, typer.Exit)
_ABORTS = (click.exceptions.Abort, typer.Abort)
_USAGE_ERRORS = (click.ClickException, getattr(typer, "TyperException", click.ClickException))


def _settings_error(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors():
        field = ".".join(str(p) for p in e.get("loc", ()))
        message = str(e.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"FRAUDX_{field.upper()}: {message}")
    return "invalid settings: " + "; ".join(parts)


def run(argv: list[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    try:
        result = app(args=argv, prog_name="fraudx", standalone_mode=False)
    except FraudXError as exc:
        err.print(f"error: {exc.detail}", markup=False)
        return 1
    except _EXITS as exc:
        return int(getattr(exc, "exit_code", 0) or 0)
    except _ABORTS:
        err.print("aborted")
        return 130
    except _USAGE_ERRORS as exc:
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            err.print(f"error: {exc}", markup=False)
        return int(getattr(exc, "exit_code", 2))
    except ValidationError as exc:
        err.print(f"error: {_settings_error(exc)}", markup=False)
        return 2
    except (OperationalError, ProgrammingError) as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        err.print(f"error: database: {reason}", markup=False)
        return 1
    except KeyboardInterrupt:
        return 130
    return result if isinstance(result, int) else 0


def main() -> None:
    sys.exit(run())
